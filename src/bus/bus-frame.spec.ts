import { createHmac } from 'node:crypto';
import type { BusMessage } from './bus';
import { BusFrameCodec, maxFrameBytes } from './bus-frame';
import { encodeEnvelope } from './envelope';
import { PayloadBounds } from '../limits/payload-limits';

const SECRET = 'a-bus-secret-of-at-least-32-chars!';
const CHANNEL = 'p:chat';
const message: BusMessage = { topic: 'chat', data: 'hi', sender: 'them.1' };

/** `depth` nested arrays around a string, as JSON text (JSON.stringify would overflow). */
const nested = (depth: number) => `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;

describe('BusFrameCodec', () => {
  const unsigned = new BusFrameCodec({ instance: 'me', maxBytes: 1024 });
  const signed = new BusFrameCodec({ instance: 'me', secret: SECRET, maxBytes: 1024 });
  const fromThem = new BusFrameCodec({ instance: 'them', secret: SECRET, maxBytes: 1024 });

  it('without a secret, a frame is the bare v1 envelope', () => {
    expect(unsigned.encode(CHANNEL, message)).toBe(encodeEnvelope('me', message));
  });

  it('with a secret, prefixes the HMAC-SHA256 of channel and envelope, in hex', () => {
    const frame = fromThem.encode(CHANNEL, message);
    const envelope = encodeEnvelope('them', message);
    const expected = createHmac('sha256', SECRET)
      .update(`${CHANNEL.length}\n${CHANNEL}\n${envelope}`)
      .digest('hex');
    expect(frame).toBe(`${expected}.${envelope}`);
    expect(signed.decode(CHANNEL, Buffer.from(frame))).toEqual({
      kind: 'envelope',
      envelope: { v: 1, origin: 'them', sender: 'them.1', data: 'hi' },
    });
  });

  it('recognises its own frames by their prefix, signed or not', () => {
    for (const codec of [unsigned, signed]) {
      const parse = jest.spyOn(JSON, 'parse');
      try {
        expect(codec.decode(CHANNEL, Buffer.from(codec.encode(CHANNEL, message)))).toEqual({
          kind: 'own',
        });
        expect(parse).not.toHaveBeenCalled();
      } finally {
        parse.mockRestore();
      }
    }
  });

  it('with a secret, refuses unsigned frames, bad signatures and frames replayed on another channel', () => {
    const frame = fromThem.encode(CHANNEL, message);
    const [signature, envelope] = [frame.slice(0, 64), frame.slice(65)];
    const forged = encodeEnvelope('admin', { topic: 'chat', data: 'Client admin: hi' });
    const decode = (raw: string, channel = CHANNEL) => signed.decode(channel, Buffer.from(raw));

    expect(decode(forged)).toEqual({ kind: 'rejected', reason: 'unsigned' });
    expect(decode(`${signature}.${forged}`)).toEqual({ kind: 'rejected', reason: 'bad-signature' });
    expect(decode(`${'0'.repeat(64)}.${envelope}`)).toEqual({
      kind: 'rejected',
      reason: 'bad-signature',
    });
    expect(decode(`${'z'.repeat(64)}.${envelope}`)).toEqual({
      kind: 'rejected',
      reason: 'bad-signature',
    });
    expect(decode(frame, 'p:room:admins')).toEqual({ kind: 'rejected', reason: 'bad-signature' });
  });

  it('refuses a frame over maxBytes before reading it', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const big = encodeEnvelope('them', { topic: 'chat', data: 'x'.repeat(1024) });
      expect(unsigned.decode(CHANNEL, Buffer.from(big))).toEqual({
        kind: 'rejected',
        reason: 'too-large',
      });
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });

  it('refuses data nested 100,000 deep without throwing', () => {
    const codec = new BusFrameCodec({ instance: 'me', maxBytes: 1_000_000 });
    const frame = `{"v":1,"origin":"them","data":${nested(100_000)}}`;
    expect(codec.decode(CHANNEL, Buffer.from(frame))).toEqual({
      kind: 'rejected',
      reason: 'too-deep',
    });
  });

  it('holds data to the configured MAX_PAYLOAD_DEPTH and MAX_PAYLOAD_ENTRIES', () => {
    const payloadBounds = new PayloadBounds(3, 4);
    const codec = new BusFrameCodec({ instance: 'me', maxBytes: 1024, payloadBounds });
    const frame = (data: string) => Buffer.from(`{"v":1,"origin":"them","data":${data}}`);
    expect(codec.decode(CHANNEL, frame(nested(3)))).toMatchObject({ kind: 'envelope' });
    expect(codec.decode(CHANNEL, frame(nested(4)))).toEqual({
      kind: 'rejected',
      reason: 'too-deep',
    });
    expect(codec.decode(CHANNEL, frame('[1,2,3,4]'))).toMatchObject({ kind: 'envelope' });
    expect(codec.decode(CHANNEL, frame('[1,2,3,4,5]'))).toEqual({
      kind: 'rejected',
      reason: 'too-wide',
    });
  });

  it('refuses data with more keys and array elements than a client payload may have', () => {
    const codec = new BusFrameCodec({ instance: 'me', maxBytes: 1_000_000 });
    const wide = (n: number) => `{"v":1,"origin":"them","data":[${'0,'.repeat(n - 1)}0]}`;
    expect(codec.decode(CHANNEL, Buffer.from(wide(10_000)))).toMatchObject({ kind: 'envelope' });
    expect(codec.decode(CHANNEL, Buffer.from(wide(10_001)))).toEqual({
      kind: 'rejected',
      reason: 'too-wide',
    });
  });

  it('accepts data as deep as a client payload may be', () => {
    const frame = `{"v":1,"origin":"them","data":${nested(32)}}`;
    expect(unsigned.decode(CHANNEL, Buffer.from(frame))).toMatchObject({ kind: 'envelope' });
  });
});

describe('maxFrameBytes', () => {
  it('fits the envelope of the worst legitimate message: a frame of control characters', () => {
    const text = '\u0001'.repeat(1000);
    const frame = new BusFrameCodec({ instance: 'x'.repeat(64), secret: SECRET, maxBytes: 0 });
    const encoded = frame.encode(CHANNEL, { topic: 'chat', data: text, sender: 'y'.repeat(64) });
    expect(Buffer.byteLength(encoded)).toBeLessThanOrEqual(maxFrameBytes(1000));
  });
});
