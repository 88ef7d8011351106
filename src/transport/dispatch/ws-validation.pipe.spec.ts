import type { ArgumentMetadata } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { ChannelDto } from '../../features/json/dto/channel.dto';
import { PublishDto } from '../../features/json/dto/publish.dto';
import { MAX_PAYLOAD_ENTRIES } from '../../limits/payload-limits';
import { ID_RULE_DESCRIPTION } from '../../protocol/ids';
import { WsValidationPipe } from './ws-validation.pipe';

const as = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({
  type: 'body',
  metatype,
  data: 'payload',
});

/** The client error a rejected transform carries. */
async function refusal(promise: Promise<unknown>): Promise<unknown> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(WsException);
  return (error as WsException).getError();
}

/**
 * `target` wrapped so every property read anywhere inside it is counted: the number of keys
 * the pipe (and the libraries it calls) walked.
 */
function counting<T extends object>(target: T, reads: { count: number }): T {
  return new Proxy(target, {
    get(object, key, receiver) {
      reads.count++;
      const value = Reflect.get(object, key, receiver) as unknown;
      return typeof value === 'object' && value !== null ? counting(value, reads) : value;
    },
  });
}

const wide = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

describe('WsValidationPipe', () => {
  const validation = new WsValidationPipe();
  /** The pipe's answer as a promise, whether it came synchronously or not. */
  const pipe = {
    transform: (value: unknown, metadata: ArgumentMetadata) =>
      Promise.resolve().then(() => validation.transform(value, metadata)),
  };

  it('answers synchronously for a DTO without asynchronous validators', () => {
    const payload = { channel: 'news' };
    expect(validation.transform(payload, as(ChannelDto))).toBe(payload);
    expect(() => validation.transform({ channel: 1 }, as(ChannelDto))).toThrow(WsException);
  });

  it('passes a valid payload through as the same object, untouched', async () => {
    const payload = JSON.parse(
      '{"channel":"news","message":{"__proto__":{"x":1},"constructor":2},"extra":true}',
    ) as object;
    const before = JSON.stringify(payload);
    await expect(pipe.transform(payload, as(PublishDto))).resolves.toBe(payload);
    expect(JSON.stringify(payload)).toBe(before);
  });

  it('answers "Validation failed" with one {field, message} entry per broken rule', async () => {
    expect(await refusal(pipe.transform({ channel: 'a b' }, as(PublishDto)))).toEqual({
      message: 'Validation failed',
      errors: [
        { field: 'payload.message', message: 'message is required' },
        {
          field: 'payload.channel',
          message: `channel must be ${ID_RULE_DESCRIPTION}`,
        },
      ],
    });
  });

  it.each([
    ['an array', [{ channel: 'a' }]],
    ['a string', 'a'],
    ['no payload', undefined],
    ['null', null],
  ])('treats %s as a payload without fields', async (_name, payload) => {
    expect(await refusal(pipe.transform(payload, as(ChannelDto)))).toEqual({
      message: 'Validation failed',
      errors: [
        {
          field: 'payload.channel',
          message: `channel must be ${ID_RULE_DESCRIPTION}`,
        },
        { field: 'payload.channel', message: 'channel must be a string' },
      ],
    });
  });

  it('refuses a payload past the bounds with an entry for the field "payload"', async () => {
    const payload = { channel: 'a', message: wide(MAX_PAYLOAD_ENTRIES) };
    expect(await refusal(pipe.transform(payload, as(PublishDto)))).toEqual({
      message: 'Validation failed',
      errors: [
        {
          field: 'payload',
          message: `payload must not have more than ${MAX_PAYLOAD_ENTRIES} keys and array elements in total`,
        },
      ],
    });
  });

  describe('walks what it checks, not what is sent', () => {
    it('reads none of the unknown keys of a valid subscribe', async () => {
      const reads = { count: 0 };
      const payload = counting({ channel: 'news', ...wide(MAX_PAYLOAD_ENTRIES - 1) }, reads);
      await pipe.transform(payload, as(ChannelDto));
      // The bound walk reads each entry once; validation reads only the declared field.
      expect(reads.count).toBeLessThanOrEqual(MAX_PAYLOAD_ENTRIES + 10);
    });

    it('does not walk a published message', async () => {
      const reads = { count: 0 };
      const message = wide(MAX_PAYLOAD_ENTRIES - 2);
      const payload = counting({ channel: 'news', message }, reads);
      await pipe.transform(payload, as(PublishDto));
      expect(reads.count).toBeLessThanOrEqual(MAX_PAYLOAD_ENTRIES + 10);
    });

    it('reads no entry past the bound of a payload of any size', async () => {
      const reads = { count: 0 };
      const payload = counting({ channel: 'news', ...wide(100_000) }, reads);
      await refusal(pipe.transform(payload, as(ChannelDto)));
      expect(reads.count).toBeLessThanOrEqual(MAX_PAYLOAD_ENTRIES + 1);
    });
  });
});
