import fc from 'fast-check';
import { CloseReason } from '../../protocol/close-codes';
import { Endpoints, RESERVED_SEGMENTS } from '../../protocol/endpoints';
import { PathRouter } from './path-router';

/** A router with the patterns of the wire contract, valued by endpoint name. */
function contractRouter(): PathRouter<string> {
  const router = new PathRouter<string>();
  for (const endpoint of Object.values(Endpoints)) router.add(endpoint.path, endpoint.name);
  return router;
}

describe('PathRouter', () => {
  describe('static segments win over parameters', () => {
    it.each([
      ['static first', ['/ws/room', '/ws/:clientId']],
      ['parameter first', ['/ws/:clientId', '/ws/room']],
    ])('whatever the registration order (%s)', (_order, patterns) => {
      const router = new PathRouter<string>();
      for (const pattern of patterns) router.add(pattern, pattern);

      expect(router.match('/ws/room')).toEqual({ value: '/ws/room', params: {} });
      expect(router.match('/ws/rooms')).toEqual({
        value: '/ws/:clientId',
        params: { clientId: 'rooms' },
      });
    });

    it('routes every endpoint of the contract to itself', () => {
      const router = contractRouter();
      expect(router.match('/ws')).toEqual({ value: 'echo', params: {} });
      expect(router.match('/ws/alice')).toEqual({ value: 'chat', params: { clientId: 'alice' } });
      expect(router.match('/ws/room/r1')).toEqual({ value: 'room', params: { roomId: 'r1' } });
      expect(router.match('/ws/subscribe/news')).toEqual({
        value: 'subscribe',
        params: { channel: 'news' },
      });
      expect(router.match('/ws/secure')).toEqual({ value: 'secure', params: {} });
      expect(router.match('/ws/json')).toEqual({ value: 'json', params: {} });
    });
  });

  describe('never backtracks from a static match, which reserves static words', () => {
    it('does not fall back to a parameter when the static branch dead-ends', () => {
      const router = new PathRouter<string>();
      router.add('/a/b/c', 'static');
      router.add('/a/:p/d', 'param');

      expect(router.match('/a/b/d')).toBeUndefined();
      expect(router.match('/a/x/d')).toEqual({ value: 'param', params: { p: 'x' } });
    });

    it.each(RESERVED_SEGMENTS)('"%s" is never a chat client id', (word) => {
      const match = contractRouter().match(`/ws/${word}`);
      expect(match?.value).not.toBe('chat');
    });

    it('refuses /ws/room and /ws/subscribe without an id rather than routing them to chat', () => {
      const router = contractRouter();
      expect(router.match('/ws/room')).toBeUndefined();
      expect(router.match('/ws/subscribe')).toBeUndefined();
    });

    it('reserves a word however it is percent-encoded: never a route, never an id', () => {
      expect(contractRouter().match('/ws/%72oom')).toBeUndefined();
      expect(contractRouter().match('/ws/%73ecure')).toBeUndefined();
      expect(contractRouter().match('/ws/%72oom/r1')).toBeUndefined();
    });

    it('refuses extra segments after a reserved word', () => {
      expect(contractRouter().match('/ws/secure/x')).toBeUndefined();
      expect(contractRouter().match('/ws/room/a/b')).toBeUndefined();
    });
  });

  describe('an empty segment is never a parameter', () => {
    it.each(['/ws/', '/ws/room/', '/ws/subscribe/', '/ws//', '/ws/room//'])('%s', (path) => {
      expect(contractRouter().match(path)).toBeUndefined();
    });

    it('does not let a trailing slash reach a static route', () => {
      expect(contractRouter().match('/ws/secure/')).toBeUndefined();
    });
  });

  describe('percent-decoding', () => {
    it('decodes parameters', () => {
      const router = contractRouter();
      expect(router.match('/ws/room/a%2Db')?.params).toEqual({ roomId: 'a-b' });
      expect(router.match('/ws/%41lice')?.params).toEqual({ clientId: 'Alice' });
      expect(router.match('/ws/h%C3%A9')?.params).toEqual({ clientId: 'hé' });
    });

    it('splits on "/" before decoding, so %2F stays inside one parameter', () => {
      expect(contractRouter().match('/ws/a%2Fb')).toEqual({
        value: 'chat',
        params: { clientId: 'a/b' },
      });
      expect(contractRouter().match('/ws%2Froom/x')).toBeUndefined();
    });

    it.each(['%zz', 'ab%', '%E0%A4%A'])('keeps a malformed escape raw: %s', (raw) => {
      expect(contractRouter().match(`/ws/room/${raw}`)?.params).toEqual({ roomId: raw });
    });

    it('matches static segments literally: /%77s/%6A%73on is no route', () => {
      const router = contractRouter();
      expect(router.match('/%77s')).toBeUndefined();
      expect(router.match('/%77s/%6A%73on')).toBeUndefined();
      expect(router.match('/ws/%6A%73on')).toBeUndefined();
      expect(router.match('/%77s/room/r1')).toBeUndefined();
    });

    it('round-trips any non-empty parameter through encodeURIComponent', () => {
      const router = contractRouter();
      fc.assert(
        fc.property(fc.string({ minLength: 1, unit: 'grapheme' }), (roomId) => {
          expect(router.match(`/ws/room/${encodeURIComponent(roomId)}`)).toEqual({
            value: 'room',
            params: { roomId },
          });
        }),
        // Fixed seed: the same 500 cases every run; a failure prints its counterexample.
        { seed: 20260101, numRuns: 500 },
      );
    });
  });

  describe('registration', () => {
    it('throws on a duplicate route', () => {
      const router = new PathRouter<number>();
      router.add('/ws/:clientId', 1);
      expect(() => router.add('/ws/:clientId', 2)).toThrow(/registered twice/);
      expect(router.match('/ws/a')?.value).toBe(1);
    });

    it('throws on two parameter names at one position', () => {
      const router = new PathRouter<number>();
      router.add('/ws/:clientId', 1);
      expect(() => router.add('/ws/:roomId/x', 2)).toThrow(/:roomId/);
    });

    it('throws on an empty parameter name', () => {
      expect(() => new PathRouter<number>().add('/ws/:', 1)).toThrow(/Empty parameter name/);
    });

    it('returns no route for a prefix of a route or an unknown path', () => {
      const router = new PathRouter<number>();
      router.add('/ws/room/:roomId', 1);
      expect(router.match('/ws')).toBeUndefined();
      expect(router.match('/nope')).toBeUndefined();
      expect(router.match('/')).toBeUndefined();
    });
  });
});

describe('the endpoint table', () => {
  it('names each parameter in its close reason as the contract does', () => {
    const reasons = Object.values(Endpoints).flatMap((endpoint) =>
      Object.values(endpoint.params).map((label: string) => CloseReason.invalidParam(label)),
    );
    expect(reasons.sort()).toEqual(['Invalid channel', 'Invalid client_id', 'Invalid room_id']);
  });
});
