import { connect } from 'node:net';
import { useApp } from './support/app';
import { waitForValue, withTimeout } from './support/wait';
import { refusedUpgradeStatus } from './support/ws-client';

describe('upgrade admission', () => {
  describe('a client that resets instead of reading the refusal', () => {
    // Raw TCP: a reset is what superwstest and ws cannot send.
    const fixture = useApp();

    it('does not crash the server (it used to: an uncaught ECONNRESET)', async () => {
      const port = Number(new URL(fixture.running.httpUrl).port);
      const request =
        'GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' +
        // Unread bytes make the close a reset, which the 404 being written then runs into.
        'x'.repeat(100_000);
      for (let i = 0; i < 100; i++) {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        await withTimeout(
          new Promise((resolve) => socket.once('connect', resolve)),
          2000,
          'a connection',
        );
        socket.write(request);
        socket.resetAndDestroy();
      }
      expect(await refusedUpgradeStatus(`${fixture.running.wsUrl}/nope`)).toBe(404);
    });
  });

  describe('ALLOWED_ORIGINS', () => {
    const fixture = useApp({ ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:8080' });

    /** Upgrades `path` with `origin` (if any) and expects the echo to answer on it. */
    const expectServed = (path: string, origin?: string) => {
      const ws = fixture.request().ws(path);
      return (origin === undefined ? ws : ws.set('Origin', origin))
        .sendText('in')
        .expectText('Echo: in')
        .close()
        .expectClosed();
    };

    it('refuses an Origin that is not listed with HTTP 403', async () => {
      await fixture
        .request()
        .ws('/ws')
        .set('Origin', 'https://evil.example.com')
        .expectConnectionError(403);
      await fixture
        .request()
        .ws('/ws/room/r')
        .set('Origin', 'http://localhost:8081')
        .expectConnectionError(403);
    });

    it('accepts a listed Origin, whatever its case', async () => {
      await expectServed('/ws', 'https://app.example.com');
      await expectServed('/ws', 'HTTP://LOCALHOST:8080');
    });

    it('accepts a request without an Origin header (a non-browser client)', async () => {
      await expectServed('/ws');
    });

    it('still answers 404 for an unknown path', async () => {
      await fixture.request().ws('/nope').expectConnectionError(404);
    });
  });

  describe('MAX_CONNECTIONS', () => {
    // Our clients: the test holds two sockets open while it tries a third.
    const fixture = useApp({ MAX_CONNECTIONS: '2' });
    const { clients } = fixture;

    it('refuses upgrades past the limit with HTTP 503 and admits again after a close', async () => {
      const [first, second] = await clients.openAll('/ws', '/ws/room/r');
      expect(await refusedUpgradeStatus(`${fixture.running.wsUrl}/ws/json`)).toBe(503);

      // The open ones are unaffected.
      first.send('still here');
      expect(await first.nextText()).toBe('Echo: still here');

      await second.close();
      // The server sees the close a moment after the client does.
      await waitForValue(() => fixture.connections.size, 1, 'open connections');
      const third = await clients.open('/ws');
      third.send('x');
      expect(await third.nextText()).toBe('Echo: x');
    });
  });
});
