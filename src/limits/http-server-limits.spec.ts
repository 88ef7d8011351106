import { createServer } from 'node:http';
import { loadConfig } from '../config/load-config';
import { applyHttpServerLimits, connectionsCheckingInterval } from './http-server-limits';

describe('applyHttpServerLimits', () => {
  it('checks a tenth of the timeout, between 100 ms and 1 s', () => {
    expect(connectionsCheckingInterval(500)).toBe(100);
    expect(connectionsCheckingInterval(5000)).toBe(500);
    expect(connectionsCheckingInterval(10_000)).toBe(1000);
    expect(connectionsCheckingInterval(600_000)).toBe(1000);
  });

  it('sets the headers timeout and keeps the request timeout no shorter', () => {
    const server = createServer();
    applyHttpServerLimits(
      server,
      loadConfig({ NODE_ENV: 'test', HTTP_HEADERS_TIMEOUT_MS: '400000' }),
    );
    expect(server.headersTimeout).toBe(400_000);
    expect(server.requestTimeout).toBe(400_000);
    expect(
      (server as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval,
    ).toBe(1000);
  });
});
