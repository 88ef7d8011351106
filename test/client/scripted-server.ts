import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

/**
 * A plain ws server that plays a script per connection: for the client behaviours the real
 * server cannot be made to show on demand (a given close code, silence, a live frame before a
 * reply). Every frame the client sent is kept, per connection.
 */
export class ScriptedServer {
  readonly received: unknown[][] = [];
  readonly sockets: WebSocket[] = [];
  /** Called with each upgrade request's URL (path and query). */
  onUpgrade: (url: string) => void = () => undefined;
  private constructor(private readonly server: WebSocketServer) {}

  static async start(
    script: (socket: WebSocket, connection: number) => void,
  ): Promise<ScriptedServer> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    const scripted = new ScriptedServer(server);
    server.on('connection', (socket, request) => {
      scripted.onUpgrade(request.url ?? '');
      const frames: unknown[] = [];
      scripted.received.push(frames);
      scripted.sockets.push(socket);
      socket.on('message', (data) => frames.push(JSON.parse((data as Buffer).toString())));
      script(socket, scripted.sockets.length);
    });
    return scripted;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/ws/json`;
  }

  get connections(): number {
    return this.sockets.length;
  }

  /** Resolves once the `connection`th client connection sent a frame matching `match`. */
  async frame(connection: number, match: (frame: unknown) => boolean): Promise<unknown> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const found = this.received[connection - 1]?.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`No such frame on connection ${connection}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** The request a frame carries, as the scripts read it. */
export interface Request {
  type: string;
  id: number;
  payload: { channel?: string; since?: { offset: number; epoch?: string } };
}

/** Calls `onRequest` with each request the client sends on `socket`. */
export function onRequests(socket: WebSocket, onRequest: (request: Request) => void): void {
  socket.on('message', (data) => onRequest(JSON.parse((data as Buffer).toString()) as Request));
}

export function reply(socket: WebSocket, type: string, data: unknown, id?: number): void {
  socket.send(JSON.stringify(id === undefined ? { type, data } : { type, data, id }));
}
