import { capLine, MAX_LINE_CHARS } from './line-cap';

const line = (entry: Record<string, unknown>) => `${JSON.stringify(entry)}\n`;

describe('capLine', () => {
  it('leaves a line that fits as it is', () => {
    const fits = line({ level: 'info', msg: 'x'.repeat(1000) });
    expect(capLine(fits)).toBe(fits);
  });

  it('replaces long values of a long line, keeping it one JSON line', () => {
    const capped = capLine(line({ level: 'info', msg: 'big', req: { path: 'p'.repeat(20_000) } }));
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
    const capped = capLine(line(entry));
    expect(JSON.parse(capped)).toEqual({ level: 'warn', time: 1, msg: 'many', truncated: true });
  });

  it('never throws on a line that is not JSON', () => {
    expect(JSON.parse(capLine('x'.repeat(MAX_LINE_CHARS + 1)))).toEqual({ truncated: true });
  });
});
