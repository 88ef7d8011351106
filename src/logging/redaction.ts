/** What stands in for a secret in a log line. */
export const REDACTED = '[REDACTED]';

/**
 * Where pino censors credentials in every line: the headers of the requests pino-http logs
 * (`req`), and cookies set by responses (`res`).
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/** Query parameters that carry credentials: the gateway reads `token` (see token-extractor.ts). */
const SECRET_QUERY_PARAMS: ReadonlySet<string> = new Set(['token', 'access_token']);

/**
 * `url` with the value of every credential query parameter replaced by REDACTED, the rest of
 * the URL untouched. Names are compared decoded, as the token extractor reads them, so that
 * `?tok%65n=…` is masked as well as `?token=…`. Never throws.
 */
export function redactQuery(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const hash = url.indexOf('#', start);
  const end = hash === -1 ? url.length : hash;
  const pairs = url
    .slice(start + 1, end)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const rawName = equals === -1 ? pair : pair.slice(0, equals);
      return isSecretParam(rawName) ? `${rawName}=${REDACTED}` : pair;
    });
  return `${url.slice(0, start + 1)}${pairs.join('&')}${url.slice(end)}`;
}

function isSecretParam(rawName: string): boolean {
  // URLSearchParams decodes names exactly as extractToken does (percent escapes, `+`), leniently.
  const [name] = new URLSearchParams(`${rawName}=`).keys();
  return name !== undefined && SECRET_QUERY_PARAMS.has(name);
}

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
