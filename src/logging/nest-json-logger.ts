import type { LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';

/** How Nest passes a stack trace: as a string parameter of `error`. */
const STACK = /\n\s+at /;

/**
 * Nest's LoggerService over the application's pino logger: Nest's own lines (bootstrap, routes,
 * unhandled exceptions) and every `new Logger(context)` of the code base become JSON lines.
 *
 * - `log('text')` gives `"msg":"text"`; `log({ msg, ...fields })` spreads the fields into the
 *   line, so structured events stay queryable by field (`endpoint`, `id`, `code`, ...).
 * - The context Nest appends as the last parameter (the name given to `new Logger`) becomes
 *   `context`.
 * - An Error, as the message or a parameter, becomes `err` (type, message, stack); a stack
 *   string (Nest's `error(message, stack)`) becomes `stack`. Other parameters go to `params`.
 *
 * It has no `setLogLevels`: the level is the logger's own (LOG_LEVEL), so a second application
 * created in the same process cannot change it through Nest's global Logger.
 */
export class NestJsonLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: readonly unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    const others: unknown[] = [];
    params.forEach((param, index) => {
      if (param instanceof Error) fields.err = param;
      else if (typeof param === 'string' && STACK.test(param)) fields.stack = param;
      else if (typeof param === 'string' && index === params.length - 1) fields.context = param;
      else if (param !== undefined) others.push(param);
    });
    if (others.length > 0) fields.params = others;

    if (message instanceof Error) {
      this.pino[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ ...fields, ...message });
    } else {
      this.pino[level](fields, String(message));
    }
  }
}
