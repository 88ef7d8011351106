import WebSocket from 'ws';
import {
  SwitchboardClient,
  type ClientOptions,
  type ConnectionState,
} from '../../client/src/index.js';
import { withTimeout } from '../support/wait';

/** A client on `ws` (Node 20 has no global WebSocket) with test-sized backoff. */
export function nodeClient(url: string | string[], options: ClientOptions = {}): SwitchboardClient {
  return new SwitchboardClient(url, {
    WebSocket,
    minDelayMs: 20,
    maxDelayMs: 200,
    ...options,
  });
}

/** Resolves when `client` reaches `state`; fails after `timeoutMs`. */
export function reach(
  client: SwitchboardClient,
  state: ConnectionState,
  timeoutMs = 5000,
): Promise<void> {
  if (client.state === state) return Promise.resolve();
  let off: () => unknown = () => undefined;
  return withTimeout(
    new Promise<void>((resolve) => {
      off = client.on('state', (now) => {
        if (now === state) resolve();
      });
    }).finally(() => off()),
    timeoutMs,
    `the client to be ${state}`,
    () => off(),
  );
}

/** Polls GET /ready on `port` until it answers 200 (the instance reaches Redis); fails after 10 s. */
export async function untilReady(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port}/ready`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`GET /ready on ${port} answered ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
