import { TokenSigner } from '../src/auth/token-signer';
import { useApp } from './support/app';
import { FakeTime } from './support/fake-time';

const SECRET = 'e2e-expiry-secret';

// The app's Clock and Scheduler are a fake time: a token's deadline is reached by advancing
// it, to the millisecond, instead of sleeping past a real `exp`. The heartbeat's sweeps run on
// the same time: one per hour, so that no advance here runs two (a client cannot answer a ping
// inside an advance).
describe('session expiry (fake time)', () => {
  const time = new FakeTime();
  const { clients } = useApp({ JWT_SECRET: SECRET, HEARTBEAT_INTERVAL_MS: '3600000' }, { time });
  const signer = new TokenSigner({ secret: SECRET }, time);
  const nowSeconds = () => Math.floor(time.now() / 1000);
  /** Moves the fake time to `ms` after the epoch. */
  const advanceTo = (ms: number) => time.advance(ms - time.now());

  it('closes a silent socket with 1008 "Token expired" when exp passes, not before', async () => {
    const jwt = signer.sign({ sub: 'erin' }, 2);
    const exp = nowSeconds() + 2;
    const client = await clients.open(`/ws/secure?token=${jwt}`);
    client.send('before');
    expect(await client.nextText()).toBe('Hello erin: before');

    advanceTo(exp * 1000 - 1);
    client.send('a millisecond before exp');
    expect(await client.nextText()).toBe('Hello erin: a millisecond before exp');

    advanceTo(exp * 1000);
    expect(await client.closed()).toEqual({ code: 1008, reason: 'Token expired' });
    expect(client.unread).toEqual([]);
  });

  it('moves the deadline on a refresh with a token for the same sub', async () => {
    const exp = nowSeconds() + 2;
    const client = await clients.open(`/ws/json?token=${signer.sign({ sub: 'frank' }, 2)}`);
    const freshExp = nowSeconds() + 600;
    const fresh = signer.sign({ sub: 'frank', name: 'Frank' }, 600);
    client.send(JSON.stringify({ type: 'refresh', payload: { token: fresh }, id: 1 }));
    expect(JSON.parse(await client.nextText())).toEqual({
      type: 'refreshed',
      data: expect.objectContaining({ exp: freshExp }) as unknown,
      id: 1,
    });

    // Well past the first token's expiry the socket still answers…
    advanceTo((exp + 60) * 1000);
    client.send(JSON.stringify({ type: 'ping', id: 2 }));
    expect(JSON.parse(await client.nextText())).toEqual({ type: 'pong', data: {}, id: 2 });

    // …until the new one's.
    advanceTo(freshExp * 1000);
    expect(await client.closed()).toEqual({ code: 1008, reason: 'Token expired' });
  });
});
