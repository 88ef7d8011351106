import type { LoggerService } from '@nestjs/common';
import { Clock } from '../common/clock';
import { EnvironmentVariables } from '../config/environment';
import { CONNECTION_LOG_WINDOW_MS, ConnectionLog, refusalReason } from './connection-log';

const DEFAULTS = new EnvironmentVariables();
const CONNECTION_LOG_BURST = DEFAULTS.LOG_CONNECTION_LINES_PER_SECOND;
const DEFAULT_OPTIONS = {
  linesPerSecond: CONNECTION_LOG_BURST,
  maxPathChars: DEFAULTS.MAX_LOG_FIELD_CHARS,
};

class FakeClock extends Clock {
  time = 0;
  now(): number {
    return this.time;
  }
}

type Entry = Record<string, unknown>;

function capture(): { lines: [string, Entry][]; logger: LoggerService } {
  const lines: [string, Entry][] = [];
  return {
    lines,
    logger: {
      log: (entry: Entry) => void lines.push(['info', entry]),
      warn: (entry: Entry) => void lines.push(['warn', entry]),
      error: (entry: Entry) => void lines.push(['error', entry]),
    },
  };
}

describe('ConnectionLog', () => {
  let clock: FakeClock;
  let lines: [string, Entry][];
  let log: ConnectionLog;
  const messages = () => lines.map(([, entry]) => entry.msg);

  beforeEach(() => {
    jest.useFakeTimers();
    clock = new FakeClock();
    const captured = capture();
    lines = captured.lines;
    log = new ConnectionLog(captured.logger, clock, DEFAULT_OPTIONS);
  });

  afterEach(() => {
    log.dispose();
    jest.useRealTimers();
  });

  it('writes every line while there are few', () => {
    log.open({ endpoint: 'echo', id: 'a.1' });
    log.close({ endpoint: 'echo', id: 'a.1', code: 1000, durationMs: 5 });
    expect(lines).toEqual([
      ['info', { msg: 'connection open', endpoint: 'echo', id: 'a.1' }],
      [
        'info',
        { msg: 'connection closed', endpoint: 'echo', id: 'a.1', code: 1000, durationMs: 5 },
      ],
    ]);
  });

  it('under churn, writes a burst per window and one summary accounting for the rest', () => {
    for (let i = 0; i < 500; i++) {
      log.open({ endpoint: 'echo', id: `a.${i}` });
      log.close({ endpoint: 'echo', id: `a.${i}`, code: 1000, durationMs: 0 });
    }
    expect(lines).toHaveLength(CONNECTION_LOG_BURST);

    jest.advanceTimersByTime(CONNECTION_LOG_WINDOW_MS);
    expect(lines).toHaveLength(CONNECTION_LOG_BURST + 1);
    const summary = lines[CONNECTION_LOG_BURST][1];
    expect(summary).toEqual({
      msg: 'connection lines sampled',
      windowMs: CONNECTION_LOG_WINDOW_MS,
      opened: 500 - CONNECTION_LOG_BURST / 2,
      closed: 500 - CONNECTION_LOG_BURST / 2,
      refused: {},
    });

    clock.time += CONNECTION_LOG_WINDOW_MS;
    log.open({ endpoint: 'echo', id: 'next' });
    expect(messages().at(-1)).toBe('connection open');
  });

  it('logs refused upgrades with status and reason, sampled apart from connections', () => {
    for (let i = 0; i < CONNECTION_LOG_BURST; i++) log.open({ endpoint: 'echo', id: `a.${i}` });
    for (let i = 0; i < 30; i++) {
      log.refuse({ status: 404, reason: 'no endpoint at this path', path: `/x${i}` });
    }
    log.refuse({ status: 503, reason: 'MAX_CONNECTIONS reached', path: '/ws' });
    log.dispose();

    const refusals = lines.filter(([, entry]) => entry.msg === 'upgrade refused');
    expect(refusals).toHaveLength(CONNECTION_LOG_BURST);
    expect(refusals[0]).toEqual([
      'info',
      { msg: 'upgrade refused', status: 404, reason: 'no endpoint at this path', path: '/x0' },
    ]);
    expect(lines.at(-1)?.[1]).toMatchObject({
      msg: 'connection lines sampled',
      opened: 0,
      refused: { 404: 10, 503: 1 },
    });
  });

  it('warns for a refusal that is the server’s doing, and keeps at most 256 characters of path', () => {
    log.refuse({ status: 503, reason: 'shutting down', path: `/${'p'.repeat(10_000)}` });
    const [[level, entry]] = lines;
    expect(level).toBe('warn');
    expect((entry.path as string).length).toBe(256);
  });

  it('follows LOG_CONNECTION_LINES_PER_SECOND and MAX_LOG_FIELD_CHARS as configured', () => {
    log.dispose();
    const captured = capture();
    log = new ConnectionLog(captured.logger, clock, { linesPerSecond: 3, maxPathChars: 10 });
    lines = captured.lines;
    for (let i = 0; i < 5; i++) log.open({ endpoint: 'echo', id: `a.${i}` });
    log.refuse({ status: 404, reason: 'no endpoint at this path', path: `/${'p'.repeat(100)}` });
    log.dispose();

    expect(messages()).toEqual([
      'connection open',
      'connection open',
      'connection open',
      'upgrade refused',
      'connection lines sampled',
    ]);
    expect(lines[3][1].path).toBe(`/${'p'.repeat(9)}`);
    expect(lines[4][1]).toMatchObject({ opened: 2 });
  });
});

describe('refusalReason', () => {
  it.each([
    [404, false, 'no endpoint at this path'],
    [403, false, 'origin not allowed'],
    [503, true, 'shutting down'],
    [503, false, 'MAX_CONNECTIONS reached'],
    [429, false, 'Too Many Requests'],
  ])('%i (draining: %s) → %s', (status, draining, reason) => {
    expect(refusalReason(status, draining)).toBe(reason);
  });
});
