import { createJsonLog } from './json-log';
import { NestJsonLogger } from './nest-json-logger';

describe('NestJsonLogger', () => {
  let lines: string[];
  let logger: NestJsonLogger;

  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeEach(() => {
    lines = [];
    logger = new NestJsonLogger(
      createJsonLog({
        level: 'debug',
        destination: { write: (line) => void lines.push(line) },
        maxLineChars: 8192,
      }),
    );
  });

  it('spreads an object message into the line, with the context Nest appends', () => {
    logger.log({ msg: 'connection closed', endpoint: 'room', code: 1000 }, 'Adapter');
    expect(entries()).toEqual([
      expect.objectContaining({
        level: 'info',
        context: 'Adapter',
        msg: 'connection closed',
        endpoint: 'room',
        code: 1000,
      }),
    ]);
  });

  it('logs a text message as msg', () => {
    logger.warn('careful', 'Bus');
    logger.log('no context');
    expect(entries()).toEqual([
      expect.objectContaining({ level: 'warn', context: 'Bus', msg: 'careful' }),
      expect.objectContaining({ level: 'info', msg: 'no context' }),
    ]);
  });

  it('keeps an Error parameter as err, as `new Logger(ctx).error(message, error)` passes it', () => {
    logger.error('Handler failed', new TypeError('boom'), 'Replies');
    const [entry] = entries();
    expect(entry).toMatchObject({
      level: 'error',
      context: 'Replies',
      msg: 'Handler failed',
      err: { type: 'TypeError', message: 'boom' },
    });
    expect((entry.err as { stack: string }).stack).toContain('TypeError: boom');
  });

  it("keeps a stack string as stack, as Nest's exception handler passes it", () => {
    const stack = new Error('x').stack!;
    logger.error('x', stack, 'ExceptionsHandler');
    expect(entries()).toEqual([
      expect.objectContaining({ level: 'error', context: 'ExceptionsHandler', msg: 'x', stack }),
    ]);
  });

  it('logs an Error message with its message and err', () => {
    logger.error(new RangeError('out'));
    expect(entries()).toEqual([expect.objectContaining({ level: 'error', msg: 'out' })]);
    expect(entries()[0].err).toMatchObject({ type: 'RangeError', message: 'out' });
  });

  it('maps verbose to trace and respects the level', () => {
    logger.verbose('hidden at debug');
    logger.debug('shown');
    expect(entries()).toEqual([expect.objectContaining({ level: 'debug', msg: 'shown' })]);
  });

  it('keeps other parameters apart, under params', () => {
    logger.log('m', { extra: 1 }, 'Ctx');
    expect(entries()).toEqual([
      expect.objectContaining({ msg: 'm', context: 'Ctx', params: [{ extra: 1 }] }),
    ]);
  });
});
