import type { LogLevel } from '@nestjs/common';
import { pino, type DestinationStream, type Level, type LevelWithSilent, type Logger } from 'pino';
import { pinoHttp, type HttpLogger, type StdSerializedResults } from 'pino-http';
import { REDACTED, REDACTED_PATHS, redactQuery, scrubTokens } from './redaction';

/** Where log lines go: anything with `write(line)`; pino writes one JSON line per call. */
export type LogDestination = DestinationStream;

export interface JsonLogOptions {
  readonly level: LevelWithSilent;
  /**
   * Default: process.stdout, which Node writes synchronously to files and (on Linux) pipes, so
   * the lines logged just before `process.exit` in main.ts are not lost.
   */
  readonly destination?: LogDestination;
}

/**
 * The application's pino logger: one JSON line per entry, `level` as a name ("info"),
 * credentials censored at REDACTED_PATHS, and any JWT-shaped string left in a line scrubbed.
 */
export function createJsonLog({ level, destination = process.stdout }: JsonLogOptions): Logger {
  return pino(
    {
      level,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACTED_PATHS], censor: REDACTED },
      hooks: { streamWrite: scrubTokens },
    },
    destination,
  );
}

/**
 * Express middleware (pino-http) that logs one line through `log` per completed HTTP request.
 *
 * The request is logged with its URL, whose credential query parameters are masked, and
 * without the parsed `query` and `params` the standard serializer adds: they would repeat the
 * query unmasked. WebSocket upgrades never reach this middleware: Node hands them to the
 * server's `upgrade` listener, not to Express.
 */
export function createHttpLog(log: Logger): HttpLogger {
  return pinoHttp({ logger: log, serializers: { req: serializeRequest } });
}

type SerializedRequest = StdSerializedResults['req'];

function serializeRequest(req: SerializedRequest): Partial<SerializedRequest> {
  return {
    id: req.id,
    method: req.method,
    url: redactQuery(req.url),
    headers: req.headers,
    remoteAddress: req.remoteAddress,
    remotePort: req.remotePort,
  };
}

/** Nest's levels from the most verbose, each with the pino level that lets it through. */
const THRESHOLDS: readonly (readonly [LogLevel, Level])[] = [
  ['verbose', 'trace'],
  ['debug', 'debug'],
  ['log', 'info'],
  ['warn', 'warn'],
  ['error', 'error'],
  ['fatal', 'fatal'],
];

/**
 * The pino level for a list of Nest log levels. pino has a threshold where Nest has a list, so
 * the most verbose level listed wins (`['error', 'log']` also lets warnings through); an empty
 * list or `false` is silent.
 */
export function levelForNestLevels(levels: false | readonly LogLevel[]): LevelWithSilent {
  if (levels === false) return 'silent';
  const threshold = THRESHOLDS.find(([nest]) => levels.includes(nest));
  return threshold ? threshold[1] : 'silent';
}
