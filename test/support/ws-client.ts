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

export interface OpenOptions {
  /** How long the upgrade may take. Default: WAIT_MS. */
  readonly timeoutMs?: number;
  /** A group whose waits this client's frames and close wake up. */
  readonly group?: ClientGroup;
}

/**
 * Waits on conditions over several clients at once: every client opened with the group notifies
 * it of each frame and close, and the pending conditions are checked again.
 */
export class ClientGroup {
  private readonly watchers = new Set<() => void>();

  /**
   * Resolves once `condition()` holds, checking it now and after every event of a member.
   * Rejects after `timeoutMs`; `describe` adds what was received to the message.
   */
  until(
    condition: () => boolean,
    what: string,
    timeoutMs = WAIT_MS,
    describe: () => string = () => '',
  ): Promise<void> {
    if (condition()) return Promise.resolve();
    let watcher: () => void = () => {};
    const reached = new Promise<void>((resolve) => {
      watcher = () => {
        if (!condition()) return;
        this.watchers.delete(watcher);
        resolve();
      };
      this.watchers.add(watcher);
    });
    return withTimeout(reached, timeoutMs, what, () => this.watchers.delete(watcher)).catch(
      (error: Error) => {
        throw new Error(`${error.message}; ${describe()}`);
      },
    );
  }

  notify(): void {
    for (const watcher of [...this.watchers]) watcher();
  }
}

/**
 * Our real `ws` client, for what superwstest lacks: raw frames (bytes as they are, fragments,
 * invalid UTF-8 in a text frame), exact timing, many sockets and conditions over all of them.
 *
 * Two ways to read, usable together:
 * - scripted: `nextFrame`/`nextText` hand out frames one wait at a time, in order. Frames are
 *   queued from the moment the socket exists, so none is lost between two waits, and a wait
 *   fails at once if the connection closes, so a test never hangs on a dead socket;
 * - computed: `texts` records every text frame received, whether or not a wait took it, and
 *   `until` awaits a condition on that record (fuzzing, churn), never leaving a pending wait
 *   behind when a test gives up on a socket.
 * Every wait fails after a timeout with a message naming what it waited for.
 */
export class TestClient {
  private readonly queue: Frame[] = [];
  private pending?: PendingFrame;
  private closeInfo?: Closed;
  private readonly closeWaiters: ((closed: Closed) => void)[] = [];
  private readonly watchers = new Set<() => void>();
  /** Every text frame received, in order, as UTF-8 (binary frames are counted, not kept). */
  readonly texts: string[] = [];
  /** Binary frames received: the server never sends one, so a test expects this to stay 0. */
  binaryFrames = 0;
  /** Socket errors (a reset, a protocol error); kept so that a failing test can show them. */
  readonly errors: Error[] = [];

  private constructor(
    readonly url: string,
    readonly socket: WebSocket,
    private readonly group?: ClientGroup,
  ) {
    socket.on('message', (data, isBinary) => this.push({ data: toBuffer(data), isBinary }));
    socket.on('error', (error) => this.errors.push(error));
    socket.on('close', (code, reason) => this.onClose({ code, reason: reason.toString() }));
  }

  /**
   * Opens `url` and resolves once the upgrade succeeded. Rejects when the server answers the
   * upgrade with an HTTP status, resets it, or takes longer than the timeout (WAIT_MS, or
   * `options` as a number or `options.timeoutMs`).
   */
  static async open(url: string, options: number | OpenOptions = {}): Promise<TestClient> {
    const { timeoutMs = WAIT_MS, group } =
      typeof options === 'number' ? { timeoutMs: options } : options;
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const client = new TestClient(url, socket, group);
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

  /** Same as `send`. */
  sendText(text: string): void {
    this.send(text);
  }

  sendBinary(data: Buffer): void {
    this.socket.send(data, { binary: true });
  }

  /**
   * Sends `pieces` as one message, as is: a text message unless `binary`, in one frame per piece
   * (a first frame, then continuation frames). ws's client sends a Buffer with `binary: false`
   * unvalidated, so a test can put invalid UTF-8 in a text frame. A no-op once the socket is
   * closing.
   */
  sendBytes(pieces: Buffer | readonly Buffer[], binary: boolean): void {
    const frames = Buffer.isBuffer(pieces) ? [pieces] : pieces;
    frames.forEach((piece, i) => {
      if (this.socket.readyState !== WebSocket.OPEN) return;
      // Without a callback ws reports a failed write as an 'error' event, which is recorded.
      this.socket.send(piece, { binary, fin: i === frames.length - 1 });
    });
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

  /** The close code and reason once the connection has closed; undefined while it is open. */
  get closeStatus(): Closed | undefined {
    return this.closeInfo;
  }

  /** Resolves with the close code and reason once the connection is closed. */
  closed(timeoutMs = WAIT_MS): Promise<Closed> {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    const closed = new Promise<Closed>((resolve) => this.closeWaiters.push(resolve));
    return withTimeout(closed, timeoutMs, `the close of ${this.url}`);
  }

  /** Same as `closed`. */
  waitClosed(timeoutMs = WAIT_MS): Promise<Closed> {
    return this.closed(timeoutMs);
  }

  /**
   * Resolves once `condition()` holds, checking it now and after every frame and the close.
   * Rejects after `timeoutMs`, or at once when the socket has closed and the condition still
   * fails (nothing can change it any more); the message shows what was received.
   */
  until(condition: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    if (condition()) return Promise.resolve();
    let watcher: () => void = () => {};
    const reached = new Promise<void>((resolve, reject) => {
      watcher = () => {
        if (condition()) {
          this.watchers.delete(watcher);
          resolve();
        } else if (this.closeInfo) {
          this.watchers.delete(watcher);
          reject(new Error(`The socket closed before ${what}`));
        }
      };
      this.watchers.add(watcher);
      watcher();
    });
    return withTimeout(reached, timeoutMs, what, () => this.watchers.delete(watcher)).catch(
      (error: Error) => {
        throw new Error(`${error.message} on ${this.url}; ${this.describe()}`);
      },
    );
  }

  /**
   * Closes the connection normally and waits for it; terminates it if that takes too long.
   * Without a `code` the close frame carries no status (the server sees 1005), as a browser's.
   */
  async close(timeoutMs = WAIT_MS, code?: number): Promise<void> {
    if (this.closeInfo) return;
    this.socket.close(code);
    try {
      await this.closed(timeoutMs);
    } catch (error) {
      this.socket.terminate();
      throw error;
    }
  }

  /** Drops the TCP connection without a close frame. */
  terminate(): void {
    this.socket.terminate();
  }

  /** What this client received so far, for failure messages (long frames shortened). */
  describe(): string {
    const texts = this.texts.map((text) => JSON.stringify(shorten(text)));
    const close = this.closeInfo
      ? `closed ${this.closeInfo.code} "${this.closeInfo.reason}"`
      : 'open';
    const errors = this.errors.length
      ? `; errors: ${this.errors.map((e) => e.message).join(', ')}`
      : '';
    return `received [${texts.join(', ')}], ${close}${errors}`;
  }

  private push(frame: Frame): void {
    if (frame.isBinary) this.binaryFrames++;
    else this.texts.push(frame.data.toString('utf8'));
    const pending = this.pending;
    if (pending) {
      this.pending = undefined;
      pending.resolve(frame);
    } else {
      this.queue.push(frame);
    }
    this.notify();
  }

  private onClose(closed: Closed): void {
    this.closeInfo = closed;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(this.closedWhileWaiting(closed));
    for (const resolve of this.closeWaiters.splice(0)) resolve(closed);
    this.notify();
  }

  private notify(): void {
    for (const watcher of [...this.watchers]) watcher();
    this.group?.notify();
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

/** The `id` of a JSON frame, if it is an object with one; undefined for anything else. */
export function jsonIdOf(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined; // not JSON: no id
  }
  return typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
}

/** `text` cut to `max` characters with a note of the full length, for readable diagnostics. */
export function shorten(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`;
}

// The names probe-socket.ts (merged into this file) exported, for tests written against it.
// ProbeSocket's `closed` getter is TestClient's `closeStatus` (`closed()` is a wait).
// Its close() sent 1000: pass the code to TestClient's.
export const ProbeSocket = {
  open: (url: string, group?: ClientGroup, timeoutMs = WAIT_MS): Promise<TestClient> =>
    TestClient.open(url, { group, timeoutMs }),
};
export type ProbeSocket = TestClient;
export const ProbeGroup = ClientGroup;
export type ProbeGroup = ClientGroup;
export type ProbeClose = Closed;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
