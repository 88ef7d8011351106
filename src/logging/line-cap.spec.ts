import { EnvironmentVariables } from '../config/environment';
import { capLine } from './line-cap';

const MAX_LINE_CHARS = new EnvironmentVariables().MAX_LOG_LINE_CHARS;

const line = (entry: Record<string, unknown>) => `${JSON.stringify(entry)}\n`;

describe('capLine', () => {
  it('leaves a line that fits as it is', () => {
    const fits = line({ level: 'info', msg: 'x'.repeat(1000) });
    expect(capLine(fits, MAX_LINE_CHARS)).toBe(fits);
  });

  it('replaces long values of a long line, keeping it one JSON line', () => {
    const capped = capLine(
      line({ level: 'info', msg: 'big', req: { path: 'p'.repeat(20_000) } }),
      MAX_LINE_CHARS,
    );
    expect(capped.length).toBeLessThanOrEqual(MAX_LINE_CHARS);
    expect(capped.endsWith('\n')).toBe(true);
    expect(JSON.parse(capped)).toEqual({
      level: 'info',
      msg: 'big',
      req: '[20011 chars cut]',
      truncated: true,
    });
  });

  it('keeps level, time and msg when even short fields are too many', () => {
    const entry: Record<string, unknown> = { level: 'warn', time: 1, msg: 'many' };
    for (let i = 0; i < 2000; i++) entry[`k${i}`] = i;
    const capped = capLine(line(entry), MAX_LINE_CHARS);
    expect(JSON.parse(capped)).toEqual({ level: 'warn', time: 1, msg: 'many', truncated: true });
  });

  it('caps at the configured length (MAX_LOG_LINE_CHARS)', () => {
    const entry = line({ level: 'info', msg: 'mid', req: { path: 'p'.repeat(1500) } });
    expect(capLine(entry, MAX_LINE_CHARS)).toBe(entry);
    const capped = capLine(entry, 1024);
    expect(capped.length).toBeLessThanOrEqual(1024);
    expect(JSON.parse(capped)).toEqual({
      level: 'info',
      msg: 'mid',
      req: '[1511 chars cut]',
      truncated: true,
    });
  });

  it('never throws on a line that is not JSON', () => {
    expect(JSON.parse(capLine('x'.repeat(MAX_LINE_CHARS + 1), MAX_LINE_CHARS))).toEqual({
      truncated: true,
    });
  });
});
