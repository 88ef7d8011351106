import WebSocket, { type RawData } from 'ws';
import { withTimeout, WAIT_MS } from './wait';

/** How the server (or the network) ended a connection, as the client saw it. */
export interface Closed {
  readonly code: number;
  readonly reason: string;
}

export interface Frame {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

interface PendingFrame {
  resolve(frame: Frame): void;
  reject(error: Error): void;
}

/**
 * A real `ws` client with promise-based waits, for e2e tests.
 *
 * Frames are queued from the moment the socket exists, so none is lost between two waits, and
 * every wait fails after a timeout with a message naming what it waited for. A wait for a frame
 * fails at once if the connection closes, so a test never hangs on a dead socket.
 */
export class TestClient {
  private readonly queue: Frame[] = [];
  private pending?: PendingFrame;
  private closeInfo?: Closed;
  private readonly closeWaiters: ((closed: Closed) => void)[] = [];
  /** Socket errors (a reset, a protocol error); kept so that a failing test can show them. */
  readonly errors: Error[] = [];

  private constructor(
    readonly url: string,
    readonly socket: WebSocket,
  ) {
    socket.on('message', (data, isBinary) => this.push({ data: toBuffer(data), isBinary }));
    socket.on('error', (error) => this.errors.push(error));
    socket.on('close', (code, reason) => this.onClose({ code, reason: reason.toString() }));
  }

  /**
   * Opens `url` and resolves once the upgrade succeeded. Rejects when the server answers the
   * upgrade with an HTTP status, resets it, or takes longer than `timeoutMs`.
   */
  static async open(url: string, timeoutMs = WAIT_MS): Promise<TestClient> {
    const socket = new WebSocket(url);
    const client = new TestClient(url, socket);
    const opened = new Promise<TestClient>((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_request, response) => {
        response.resume();
        reject(new Error(`Upgrade to ${url} refused with HTTP ${response.statusCode}`));
      });
      socket.once('error', reject);
    });
    try {
      return await withTimeout(opened, timeoutMs, `the upgrade to ${url}`);
    } catch (error) {
      socket.terminate();
      throw error;
    }
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  send(text: string): void {
    this.socket.send(text);
  }

  sendBinary(data: Buffer): void {
    this.socket.send(data, { binary: true });
  }

  /** The next frame, text or binary. */
  nextFrame(timeoutMs = WAIT_MS): Promise<Frame> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closeInfo) return Promise.reject(this.closedWhileWaiting(this.closeInfo));
    if (this.pending) return Promise.reject(new Error(`Two waits for a frame on ${this.url}`));
    const frame = new Promise<Frame>((resolve, reject) => {
      this.pending = { resolve, reject };
    });
    return withTimeout(frame, timeoutMs, `a frame on ${this.url}`, () => {
      this.pending = undefined;
    });
  }

  /** The next frame, which must be a text frame. */
  async nextText(timeoutMs = WAIT_MS): Promise<string> {
    const frame = await this.nextFrame(timeoutMs);
    if (frame.isBinary) throw new Error(`Expected a text frame on ${this.url}, got a binary one`);
    return frame.data.toString('utf8');
  }

  /** The next `count` text frames, in arrival order. */
  async nextTexts(count: number, timeoutMs = WAIT_MS): Promise<string[]> {
    const texts: string[] = [];
    for (let i = 0; i < count; i++) texts.push(await this.nextText(timeoutMs));
    return texts;
  }

  /** Frames received and not yet taken by a wait. */
  get unread(): readonly Frame[] {
    return this.queue;
  }

  /** Resolves with the close code and reason once the connection is closed. */
  closed(timeoutMs = WAIT_MS): Promise<Closed> {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    const closed = new Promise<Closed>((resolve) => this.closeWaiters.push(resolve));
    return withTimeout(closed, timeoutMs, `the close of ${this.url}`);
  }

  /** Closes the connection normally and waits for it; terminates it if that takes too long. */
  async close(timeoutMs = WAIT_MS): Promise<void> {
    if (this.closeInfo) return;
    this.socket.close();
    try {
      await this.closed(timeoutMs);
    } catch (error) {
      this.socket.terminate();
      throw error;
    }
  }

  private push(frame: Frame): void {
    const pending = this.pending;
    if (!pending) {
      this.queue.push(frame);
      return;
    }
    this.pending = undefined;
    pending.resolve(frame);
  }

  private onClose(closed: Closed): void {
    this.closeInfo = closed;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(this.closedWhileWaiting(closed));
    for (const resolve of this.closeWaiters.splice(0)) resolve(closed);
  }

  private closedWhileWaiting({ code, reason }: Closed): Error {
    const errors = this.errors.map((error) => error.message).join('; ');
    return new Error(
      `${this.url} closed (${code} "${reason}") while a frame was awaited` +
        (errors ? `; socket errors: ${errors}` : ''),
    );
  }
}

/**
 * Every client a test opens, so that `closeAll` in `afterEach` leaves no socket behind even when
 * the test failed halfway.
 */
export class TestClients {
  private readonly clients = new Set<TestClient>();

  constructor(private readonly baseUrl: () => string) {}

  /** Opens `path` (e.g. "/ws/room/a") on the app under test. */
  async open(path: string): Promise<TestClient> {
    const client = await TestClient.open(`${this.baseUrl()}${path}`);
    this.clients.add(client);
    return client;
  }

  /** Opens every path, in order (so their order of joining is the order given). */
  async openAll(...paths: string[]): Promise<TestClient[]> {
    const clients: TestClient[] = [];
    for (const path of paths) clients.push(await this.open(path));
    return clients;
  }

  async closeAll(): Promise<void> {
    const clients = [...this.clients];
    this.clients.clear();
    await Promise.all(clients.map((client) => client.close()));
  }
}

/**
 * Attempts an upgrade that the server must refuse, and resolves with the HTTP status it answered.
 * Rejects when the upgrade is accepted, when the connection fails without an HTTP response (a
 * reset) or when no answer comes within `timeoutMs` (a hang).
 */
export async function refusedUpgradeStatus(url: string, timeoutMs = WAIT_MS): Promise<number> {
  const socket = new WebSocket(url);
  const refused = new Promise<number>((resolve, reject) => {
    socket.once('unexpected-response', (_request, response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    socket.once('open', () => reject(new Error(`The upgrade to ${url} was accepted`)));
    // Also catches the error ws emits after `terminate` below; by then the promise is settled.
    socket.on('error', (error) =>
      reject(new Error(`The upgrade to ${url} failed without an HTTP answer: ${error.message}`)),
    );
  });
  try {
    return await withTimeout(refused, timeoutMs, `an HTTP answer to the upgrade to ${url}`);
  } finally {
    socket.terminate();
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
