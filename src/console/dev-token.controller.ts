import {
  Body,
  Controller,
  Header,
  HttpCode,
  Post,
  UseGuards,
  ValidationPipe,
} from '@nestjs/common';
import { TokenSigner } from '../auth/token-signer';
import { HttpThrottlerGuard } from '../limits/http-throttler.guard';
import { DevTokenRequestDto } from './dev-token.dto';

/** Lifetime of a development token: long enough for a session in the console, no longer. */
export const DEV_TOKEN_TTL_SECONDS = 15 * 60;

export interface DevTokenResponse {
  readonly token: string;
  /** Seconds from now until the token's `exp`. */
  readonly expiresIn: number;
}

/**
 * POST /auth/dev-token: signs a short-lived token for any subject, so the browser console and
 * local clients can reach /ws/secure without an identity provider. Anyone who can reach it can
 * act as anyone, so ConsoleModule registers it only when NODE_ENV is not `production`; there the
 * route does not exist (404).
 */
@Controller('auth')
@UseGuards(HttpThrottlerGuard)
export class DevTokenController {
  constructor(private readonly signer: TokenSigner) {}

  @Post('dev-token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  issue(
    @Body(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }))
    { sub, name }: DevTokenRequestDto,
  ): DevTokenResponse {
    const token = this.signer.sign({ sub, name }, DEV_TOKEN_TTL_SECONDS);
    return { token, expiresIn: DEV_TOKEN_TTL_SECONDS };
  }
}
