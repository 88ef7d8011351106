import fc from 'fast-check';
import type { BusMessage, JsonValue } from './bus';
import { decodeEnvelope, encodeEnvelope, ENVELOPE_VERSION } from './envelope';

describe('envelope codec', () => {
  it('encodes a message as one v1 JSON object with its origin, leaving unset fields out', () => {
    expect(JSON.parse(encodeEnvelope('inst', { topic: 'chat', data: 'hi' }))).toEqual({
      v: 1,
      origin: 'inst',
      data: 'hi',
    });
    const room: BusMessage = {
      topic: 'room:a',
      data: { n: 1 },
      sender: 'inst.7',
      skipSender: true,
    };
    expect(JSON.parse(encodeEnvelope('inst', room))).toEqual({
      v: 1,
      origin: 'inst',
      sender: 'inst.7',
      skipSender: true,
      data: { n: 1 },
    });
  });

  it('does not put skipSender: false on the wire', () => {
    const encoded = encodeEnvelope('inst', { topic: 't', data: 1, sender: 's', skipSender: false });
    expect(JSON.parse(encoded)).toEqual({ v: 1, origin: 'inst', sender: 's', data: 1 });
  });

  it('round-trips any JSON value, sender and skipSender', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.string({ minLength: 1 }),
        fc.option(fc.string(), { nil: undefined }),
        fc.option(fc.constant(true), { nil: undefined }),
        (data, origin, sender, skipSender) => {
          const message: BusMessage = { topic: 't', data: data as JsonValue, sender, skipSender };
          const decoded = decodeEnvelope(encodeEnvelope(origin, message));
          expect(decoded).toEqual({
            ok: true,
            envelope: {
              v: ENVELOPE_VERSION,
              origin,
              sender,
              skipSender,
              // What JSON carries: -0 becomes 0.
              data: JSON.parse(JSON.stringify(data)) as JsonValue,
            },
          });
        },
      ),
    );
  });

  it('accepts null data and ignores fields it does not know', () => {
    expect(decodeEnvelope('{"v":1,"origin":"o","data":null,"trace":"abc"}')).toEqual({
      ok: true,
      envelope: { v: 1, origin: 'o', sender: undefined, skipSender: undefined, data: null },
    });
  });

  it.each([
    ['not JSON', 'not json', 'invalid-json'],
    ['truncated JSON', '{"v":1,"origin":"o","data":', 'invalid-json'],
    ['a JSON string', '"text"', 'not-an-object'],
    ['null', 'null', 'not-an-object'],
    ['an array', '[1]', 'not-an-object'],
    ['no version', '{"origin":"o","data":1}', 'unknown-version'],
    ['a later version', '{"v":2,"origin":"o","data":1}', 'unknown-version'],
    ['a version as a string', '{"v":"1","origin":"o","data":1}', 'unknown-version'],
    ['no origin', '{"v":1,"data":1}', 'invalid-field'],
    ['an empty origin', '{"v":1,"origin":"","data":1}', 'invalid-field'],
    ['a numeric sender', '{"v":1,"origin":"o","sender":7,"data":1}', 'invalid-field'],
    ['a string skipSender', '{"v":1,"origin":"o","skipSender":"yes","data":1}', 'invalid-field'],
    ['no data', '{"v":1,"origin":"o"}', 'invalid-field'],
  ])('refuses %s without throwing', (_name, raw, error) => {
    expect(decodeEnvelope(raw)).toEqual({ ok: false, error });
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (raw) => {
        expect(() => decodeEnvelope(raw)).not.toThrow();
      }),
    );
  });
});
