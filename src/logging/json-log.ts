import type { LogLevel } from '@nestjs/common';
import { pino, type DestinationStream, type Level, type LevelWithSilent, type Logger } from 'pino';
import { pinoHttp, type HttpLogger, type StdSerializedResults } from 'pino-http';
import { capLine } from './line-cap';
import { REDACTED, REDACTED_PATHS, scrubTokens } from './redaction';

/** Where log lines go: anything with `write(line)`; pino writes one JSON line per call. */
export type LogDestination = DestinationStream;

export interface JsonLogOptions {
  readonly level: LevelWithSilent;
  /**
   * Default: process.stdout, which Node writes synchronously to files and (on Linux) pipes, so
   * the lines logged just before `process.exit` in main.ts are not lost.
   */
  readonly destination?: LogDestination;
  /** MAX_LOG_LINE_CHARS: longest line written, newline included. */
  readonly maxLineChars: number;
}

/**
 * The application's pino logger: one JSON line per entry, `level` as a name ("info"),
 * credentials censored at REDACTED_PATHS, any JWT-shaped string left in a line scrubbed, and no
 * line longer than `maxLineChars` (capLine).
 */
export function createJsonLog({
  level,
  destination = process.stdout,
  maxLineChars,
}: JsonLogOptions): Logger {
  return pino(
    {
      level,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACTED_PATHS], censor: REDACTED },
      hooks: { streamWrite: (line) => capLine(scrubTokens(line), maxLineChars) },
    },
    destination,
  );
}

/**
 * Express middleware (pino-http) that logs one line through `log` per completed HTTP request:
 *
 *     {"msg":"request completed","req":{"method","path","remoteAddress","userAgent"},
 *      "res":{"statusCode"},"durationMs"}
 *
 * An allow-list: no header but the user agent, and the path without its query, both cut at
 * `maxFieldChars` (MAX_LOG_FIELD_CHARS), so neither credentials (x-api-key, cookies, `?token=`)
 * nor a client's padding reach the log whatever their name or size. WebSocket upgrades never reach this
 * middleware: the adapter logs them (connection-log.ts).
 */
export function createHttpLog(log: Logger, maxFieldChars: number): HttpLogger {
  return pinoHttp({
    logger: log,
    serializers: {
      req: (req: SerializedRequest) => serializeRequest(req, maxFieldChars),
      res: serializeResponse,
    },
    customAttributeKeys: { responseTime: 'durationMs' },
  });
}

type SerializedRequest = StdSerializedResults['req'];
type SerializedResponse = StdSerializedResults['res'];

function serializeRequest(req: SerializedRequest, maxFieldChars: number): Record<string, unknown> {
  const query = req.url.indexOf('?');
  const userAgent = req.headers['user-agent'];
  return {
    method: req.method,
    path: (query === -1 ? req.url : req.url.slice(0, query)).slice(0, maxFieldChars),
    remoteAddress: req.remoteAddress,
    userAgent: userAgent?.slice(0, maxFieldChars),
  };
}

function serializeResponse(res: SerializedResponse): Record<string, unknown> {
  return { statusCode: res.statusCode };
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
