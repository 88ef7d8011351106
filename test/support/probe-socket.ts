import WebSocket, { type RawData } from 'ws';
import { withTimeout, WAIT_MS } from './wait';

/** How a connection ended, as the client saw it. */
export interface ProbeClose {
  readonly code: number;
  readonly reason: string;
}

/**
 * Waits on conditions over several sockets at once: every socket opened with the group notifies
 * it of each frame and close, and the pending conditions are checked again.
 */
export class ProbeGroup {
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
 * A real `ws` client for fuzzing and churn. Unlike TestClient it sends raw bytes as a text or a
 * binary frame (ws's client sends `send(buffer, { binary: false })` unvalidated, so a test can
 * put invalid UTF-8 in a text frame), and instead of handing out frames one wait at a time it
 * records everything it receives, in order, and lets a test await a condition on that record.
 * That suits tests whose expected traffic is computed, not scripted, and never leaves a pending
 * wait behind when a test gives up on a socket.
 */
export class ProbeSocket {
  /** Every frame received, as UTF-8 text (the server only sends text frames). */
  readonly texts: string[] = [];
  /** Binary frames received: the server never sends one, so a test expects this to stay 0. */
  binaryFrames = 0;
  /** Socket errors, kept for diagnostics (a reset after the server closed is not a failure). */
  readonly errors: Error[] = [];
  private closeInfo?: ProbeClose;
  private readonly watchers = new Set<() => void>();

  private constructor(
    readonly url: string,
    readonly socket: WebSocket,
    private readonly group?: ProbeGroup,
  ) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) this.binaryFrames++;
      this.texts.push(toBuffer(data).toString('utf8'));
      this.notify();
    });
    socket.on('error', (error) => this.errors.push(error));
    socket.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      this.notify();
    });
  }

  /**
   * Opens `url`; resolves once the upgrade succeeded. Rejects when the server answers with an
   * HTTP status, resets the connection, or takes longer than `timeoutMs`. With a `group`, the
   * socket's frames and close also wake the group's waits.
   */
  static async open(url: string, group?: ProbeGroup, timeoutMs = WAIT_MS): Promise<ProbeSocket> {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const probe = new ProbeSocket(url, socket, group);
    const opened = new Promise<ProbeSocket>((resolve, reject) => {
      socket.once('open', () => resolve(probe));
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

  get closed(): ProbeClose | undefined {
    return this.closeInfo;
  }

  /**
   * Sends `pieces` as one message, as is: a text message unless `binary`, in one frame per piece
   * (a first frame, then continuation frames). A no-op once the socket is closing.
   */
  sendBytes(pieces: Buffer | readonly Buffer[], binary: boolean): void {
    const frames = Buffer.isBuffer(pieces) ? [pieces] : pieces;
    frames.forEach((piece, i) => {
      if (this.socket.readyState !== WebSocket.OPEN) return;
      // Without a callback ws reports a failed write as an 'error' event, which is recorded.
      this.socket.send(piece, { binary, fin: i === frames.length - 1 });
    });
  }

  sendText(text: string): void {
    this.sendBytes(Buffer.from(text, 'utf8'), false);
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

  /** Resolves with the close once the connection has ended; fails after `timeoutMs`. */
  async waitClosed(timeoutMs = WAIT_MS): Promise<ProbeClose> {
    await this.until(() => this.closeInfo !== undefined, 'the close', timeoutMs);
    return this.closeInfo!;
  }

  /** Closes politely (code 1000) and waits for the end; terminates if that takes too long. */
  async close(timeoutMs = WAIT_MS): Promise<void> {
    if (this.closeInfo) return;
    this.socket.close(1000);
    try {
      await this.waitClosed(timeoutMs);
    } catch (error) {
      this.socket.terminate();
      throw error;
    }
  }

  /** Drops the TCP connection without a close frame. */
  terminate(): void {
    this.socket.terminate();
  }

  /** What this socket received so far, for failure messages (long frames shortened). */
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

  private notify(): void {
    for (const watcher of [...this.watchers]) watcher();
    this.group?.notify();
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

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
