/** What stands in for a secret in a log line. */
export const REDACTED = '[REDACTED]';

/**
 * Where pino censors credentials, should a line carry request or response headers. The access
 * log keeps none (createHttpLog); this is the net under any line that would.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/** A JSON Web Token in compact form: its header is base64url JSON, so it starts with `{"`. */
const JWT = /eyJ[\w-]*\.[\w-]*\.[\w-]*/g;

/**
 * The last line of defence, run on every serialized log line: a JWT that reached a line by a
 * path nobody listed (an error message, a header, a new log call) is replaced by REDACTED.
 * Costs one substring search per written line, none per message.
 */
export function scrubTokens(line: string): string {
  return line.includes('eyJ') ? line.replace(JWT, REDACTED) : line;
}
