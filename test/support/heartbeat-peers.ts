import WebSocket from 'ws';
import { withTimeout, WAIT_MS } from './wait';
import type { Closed } from './ws-client';

/** Counts the protocol pings a `ws` socket receives and lets a test await the n-th one. */
export class PingCounter {
  private received = 0;
  private readonly waiters: { count: number; resolve(): void }[] = [];

  constructor(socket: WebSocket) {
    socket.on('ping', () => {
      this.received++;
      for (const waiter of this.waiters.filter((w) => w.count <= this.received)) {
        this.remove(waiter);
        waiter.resolve();
      }
    });
  }

  get count(): number {
    return this.received;
  }

  /** Resolves once `count` pings have arrived in total; fails after `timeoutMs`. */
  waitFor(count: number, timeoutMs = WAIT_MS): Promise<void> {
    if (this.received >= count) return Promise.resolve();
    const waiter = { count, resolve: () => {} };
    const reached = new Promise<void>((resolve) => (waiter.resolve = resolve));
    this.waiters.push(waiter);
    return withTimeout(reached, timeoutMs, `protocol ping #${count}`, () => this.remove(waiter));
  }

  private remove(waiter: { count: number }): void {
    const index = this.waiters.findIndex((w) => w === waiter);
    if (index !== -1) this.waiters.splice(index, 1);
  }
}

/**
 * A dead peer: a real `ws` client that never answers protocol pings (`autoPong: false`) and
 * ignores every frame. TestClient cannot play it, as it takes no client options.
 */
export class UnresponsivePeer {
  readonly pings: PingCounter;
  readonly errors: Error[] = [];
  private readonly closedPromise: Promise<Closed>;

  private constructor(
    readonly url: string,
    private readonly socket: WebSocket,
  ) {
    this.pings = new PingCounter(socket);
    this.closedPromise = new Promise((resolve) =>
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    // A terminated connection may surface as a socket error: kept, as TestClient does, not thrown.
    socket.on('error', (error) => this.errors.push(error));
  }

  static async open(url: string, timeoutMs = WAIT_MS): Promise<UnresponsivePeer> {
    const socket = new WebSocket(url, { autoPong: false });
    const peer = new UnresponsivePeer(url, socket);
    const opened = new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('unexpected-response', (_request, response) => {
        response.resume();
        reject(new Error(`Upgrade to ${url} refused with HTTP ${response.statusCode}`));
      });
      socket.once('error', reject);
    });
    try {
      await withTimeout(opened, timeoutMs, `the upgrade to ${url}`);
    } catch (error) {
      socket.terminate();
      throw error;
    }
    return peer;
  }

  /** Resolves with how the connection ended; fails after `timeoutMs`. */
  closed(timeoutMs = WAIT_MS): Promise<Closed> {
    return withTimeout(this.closedPromise, timeoutMs, `the close of ${this.url}`);
  }

  /** Drops the connection if the server has not; for cleanup after a failed test. */
  terminate(): void {
    this.socket.terminate();
  }
}
