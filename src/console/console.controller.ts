import { applyDecorators, Controller, Get, Header, UseGuards } from '@nestjs/common';
import { HttpThrottlerGuard } from '../limits/http-throttler.guard';
import { ConsoleAssets, CONSOLE_FILES } from './console-assets';

/**
 * The page may load its own script and stylesheet and open sockets to its own origin, nothing
 * else: no inline code, no framing, no form posts elsewhere. `connect-src 'self'` covers ws: and
 * wss: to the same host (CSP Level 3).
 */
export const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Headers of every console file. The files change only with a deploy, so browsers revalidate
 * (`no-cache`, answered 304 through Express's ETag) rather than cache blindly.
 */
const ConsoleFile = (contentType: string) =>
  applyDecorators(
    Header('Content-Type', contentType),
    Header('Cache-Control', 'no-cache'),
    Header('Content-Security-Policy', CONSOLE_CONTENT_SECURITY_POLICY),
    Header('X-Content-Type-Options', 'nosniff'),
    Header('Referrer-Policy', 'no-referrer'),
  );

/**
 * Serves the browser console: GET / and the page's script, stylesheet and the client bundle it
 * runs on, from memory.
 */
@Controller()
@UseGuards(HttpThrottlerGuard)
export class ConsoleController {
  constructor(private readonly assets: ConsoleAssets) {}

  @Get()
  @ConsoleFile(CONSOLE_FILES['/'].contentType)
  page(): string {
    return this.assets.get('/');
  }

  @Get('console.css')
  @ConsoleFile(CONSOLE_FILES['/console.css'].contentType)
  stylesheet(): string {
    return this.assets.get('/console.css');
  }

  @Get('console.js')
  @ConsoleFile(CONSOLE_FILES['/console.js'].contentType)
  script(): string {
    return this.assets.get('/console.js');
  }

  @Get('client.js')
  @ConsoleFile(CONSOLE_FILES['/client.js'].contentType)
  client(): string {
    return this.assets.get('/client.js');
  }
}
