import type { Server as HttpServer } from 'node:http';
import type { AppConfig } from '../config/app-config';

/**
 * Node checks headersTimeout only every connectionsCheckingInterval (30 s by default), so a
 * socket could outlive HTTP_HEADERS_TIMEOUT_MS by that much. Checking every tenth of the timeout,
 * between 100 ms and 1 s, closes it within 10% (or 1 s) of the deadline, for one timer per server.
 */
export function connectionsCheckingInterval(headersTimeoutMs: number): number {
  return Math.min(1000, Math.max(100, Math.floor(headersTimeoutMs / 10)));
}

/**
 * Applies HTTP_HEADERS_TIMEOUT_MS: a socket that has not sent a complete request head in time
 * gets 408 and is closed (Node's own handling). Must run before the server listens, which is
 * when Node starts its checking timer. requestTimeout (Node's default, 300 s, for the whole
 * request) is raised if needed, since Node wants it no shorter than the headers timeout.
 */
export function applyHttpServerLimits(server: HttpServer, config: AppConfig): void {
  const timeout = config.httpHeadersTimeoutMs;
  server.headersTimeout = timeout;
  if (server.requestTimeout > 0 && server.requestTimeout < timeout) server.requestTimeout = timeout;
  // A documented server option that @types/node lists only among the constructor's options.
  (server as HttpServer & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    connectionsCheckingInterval(timeout);
}
