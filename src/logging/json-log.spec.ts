import { EnvironmentVariables } from '../config/environment';
import { createJsonLog, levelForNestLevels } from './json-log';

const maxLineChars = new EnvironmentVariables().MAX_LOG_LINE_CHARS;

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

describe('createJsonLog', () => {
  it('writes one JSON line per entry, with the level as a name', () => {
    const { lines, destination } = capture();
    const log = createJsonLog({ level: 'info', destination, maxLineChars });
    log.info({ endpoint: 'echo' }, 'connection open');
    log.debug('not written');

    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'info',
      msg: 'connection open',
      endpoint: 'echo',
    });
  });

  it('caps its lines at maxLineChars (MAX_LOG_LINE_CHARS)', () => {
    const { lines, destination } = capture();
    const log = createJsonLog({ level: 'info', destination, maxLineChars: 1024 });
    log.info({ detail: 'd'.repeat(2000) }, 'long');

    expect(lines[0].length).toBeLessThanOrEqual(1024);
    expect(JSON.parse(lines[0])).toMatchObject({ msg: 'long', truncated: true });
  });

  it('censors credentials in request and response headers, whatever they hold', () => {
    const { lines, destination } = capture();
    const log = createJsonLog({ level: 'info', destination, maxLineChars });
    log.info({
      req: {
        headers: {
          authorization: 'Basic dXNlcjpwYXNz',
          'proxy-authorization': 'Basic x',
          cookie: 'sid=1',
          host: 'h',
        },
      },
      res: { headers: { 'set-cookie': 'sid=2' } },
    });

    const entry = JSON.parse(lines[0]) as Record<string, { headers: Record<string, string> }>;
    expect(entry.req.headers).toEqual({
      authorization: '[REDACTED]',
      'proxy-authorization': '[REDACTED]',
      cookie: '[REDACTED]',
      host: 'h',
    });
    expect(entry.res.headers).toEqual({ 'set-cookie': '[REDACTED]' });
  });
});

describe('levelForNestLevels', () => {
  it.each([
    [['error'], 'error'],
    [['error', 'warn'], 'warn'],
    [['error', 'log'], 'info'],
    [['log', 'error', 'warn', 'debug', 'verbose'], 'trace'],
    [['fatal'], 'fatal'],
    [[], 'silent'],
    [false, 'silent'],
  ] as const)('%j → %s', (levels, expected) => {
    expect(levelForNestLevels(levels)).toBe(expected);
  });
});
