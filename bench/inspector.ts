/**
 * A minimal client of Node's inspector protocol, for the idle scenario: it forces a full garbage
 * collection in a server started with `--inspect=127.0.0.1:PORT` before RSS is read, so that
 * "RSS after − RSS before" measures live memory rather than when the GC last ran. The server's
 * code is not touched; nothing else is asked of the inspector.
 */
import { request } from 'node:http';
import WebSocket from 'ws';

interface Target {
  readonly webSocketDebuggerUrl: string;
}

interface Answer {
  readonly id?: number;
  readonly result?: unknown;
  readonly error?: { readonly message: string };
}

function getJson(port: number, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('inspector did not answer')));
    req.end();
  });
}

export class Inspector {
  private nextId = 1;
  private readonly waiting = new Map<number, (answer: Answer) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const answer = JSON.parse((data as Buffer).toString()) as Answer;
      if (answer.id !== undefined) this.waiting.get(answer.id)?.(answer);
    });
  }

  static async connect(port: number): Promise<Inspector> {
    const targets = (await getJson(port, '/json/list')) as Target[];
    const url = targets[0]?.webSocketDebuggerUrl;
    if (!url) throw new Error(`no inspector target on port ${port}`);
    const socket = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new Inspector(socket);
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (answer) => {
        this.waiting.delete(id);
        if (answer.error) reject(new Error(`${method}: ${answer.error.message}`));
        else resolve(answer.result);
      });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** A full, synchronous GC; then the JS heap in use, in bytes. */
  async collectGarbage(): Promise<number> {
    await this.call('HeapProfiler.collectGarbage');
    const usage = (await this.call('Runtime.getHeapUsage')) as { usedSize: number };
    return usage.usedSize;
  }

  close(): void {
    this.socket.terminate();
  }
}
