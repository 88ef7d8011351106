import { connect } from 'node:net';
import WebSocket from 'ws';
import { startApp, type RunningApp } from './support/app';
import { ConnectionRegistry } from '../src/connections/connection-registry';
import { waitForValue, withTimeout } from './support/wait';
import { refusedUpgradeStatus, TestClient } from './support/ws-client';

/** Opens `url` with an Origin header; resolves 101 on success or the refusing HTTP status. */
function upgradeStatus(url: string, origin?: string): Promise<number> {
  const socket = new WebSocket(url, origin === undefined ? {} : { origin });
  const status = new Promise<number>((resolve, reject) => {
    socket.once('open', () => resolve(101));
    socket.once('unexpected-response', (_request, response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    socket.once('error', reject);
  });
  return withTimeout(status, 2000, `the upgrade to ${url}`).finally(() => socket.terminate());
}

describe('upgrade admission', () => {
  describe('a client that resets instead of reading the refusal', () => {
    let running: RunningApp;

    beforeAll(async () => {
      running = await startApp();
    });

    afterAll(async () => {
      await running.close();
    });

    it('does not crash the server (it used to: an uncaught ECONNRESET)', async () => {
      const port = Number(new URL(running.httpUrl).port);
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
      expect(await refusedUpgradeStatus(`${running.wsUrl}/nope`)).toBe(404);
    });
  });

  describe('ALLOWED_ORIGINS', () => {
    let running: RunningApp;

    beforeAll(async () => {
      running = await startApp({
        ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:8080',
      });
    });

    afterAll(async () => {
      await running.close();
    });

    it('refuses an Origin that is not listed with HTTP 403', async () => {
      expect(await upgradeStatus(`${running.wsUrl}/ws`, 'https://evil.example.com')).toBe(403);
      expect(await upgradeStatus(`${running.wsUrl}/ws/room/r`, 'http://localhost:8081')).toBe(403);
    });

    it('accepts a listed Origin, whatever its case', async () => {
      expect(await upgradeStatus(`${running.wsUrl}/ws`, 'https://app.example.com')).toBe(101);
      expect(await upgradeStatus(`${running.wsUrl}/ws`, 'HTTP://LOCALHOST:8080')).toBe(101);
    });

    it('accepts a request without an Origin header (a non-browser client)', async () => {
      expect(await upgradeStatus(`${running.wsUrl}/ws`)).toBe(101);
    });

    it('still answers 404 for an unknown path', async () => {
      expect(await refusedUpgradeStatus(`${running.wsUrl}/nope`)).toBe(404);
    });
  });

  describe('MAX_CONNECTIONS', () => {
    let running: RunningApp;

    beforeAll(async () => {
      running = await startApp({ MAX_CONNECTIONS: '2' });
    });

    afterAll(async () => {
      await running.close();
    });

    it('refuses upgrades past the limit with HTTP 503 and admits again after a close', async () => {
      const first = await TestClient.open(`${running.wsUrl}/ws`);
      const second = await TestClient.open(`${running.wsUrl}/ws/room/r`);
      expect(await refusedUpgradeStatus(`${running.wsUrl}/ws/json`)).toBe(503);

      // The open ones are unaffected.
      first.send('still here');
      expect(await first.nextText()).toBe('Echo: still here');

      await second.close();
      // The server sees the close a moment after the client does.
      const registry = running.app.get(ConnectionRegistry);
      await waitForValue(() => registry.size, 1, 'open connections');
      const third = await TestClient.open(`${running.wsUrl}/ws`);
      third.send('x');
      expect(await third.nextText()).toBe('Echo: x');
      await Promise.all([first.close(), third.close()]);
    });
  });
});
