/**
 * The baseline: Switchboard's three benchmarked endpoints written directly on `ws`, the way a
 * competent engineer would without a framework. Same wire behaviour:
 *
 * - `/ws`: every text frame comes back as "Echo: " + frame;
 * - `/ws/room/{id}`: a text frame reaches every other member of the room, encoded once;
 * - `/ws/json`: `{"type":"ping","id":…}` is answered `{"type":"pong","data":{},"id":…}`.
 *
 * Like Switchboard it refuses frames over 64 KiB, has no compression and pings every socket every
 * 30 s (terminating those that missed the previous ping). Usage: `node baseline-server.js PORT`;
 * prints "Listening on http://127.0.0.1:PORT" once ready.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

const HOST = '127.0.0.1';
const MAX_PAYLOAD = 64 * 1024;
const HEARTBEAT_MS = 30_000;

type Socket = WebSocket & { alive?: boolean };

const rooms = new Map<string, Set<WebSocket>>();

function echo(socket: WebSocket, data: RawData): void {
  socket.send(`Echo: ${(data as Buffer).toString()}`);
}

function json(socket: WebSocket, data: RawData): void {
  let message: { type?: unknown; id?: unknown };
  try {
    message = JSON.parse((data as Buffer).toString()) as { type?: unknown; id?: unknown };
  } catch {
    socket.send(JSON.stringify({ type: 'error', data: { message: 'Invalid JSON' } }));
    return;
  }
  if (message?.type === 'ping')
    socket.send(JSON.stringify({ type: 'pong', data: {}, id: message.id }));
  else
    socket.send(
      JSON.stringify({ type: 'error', data: { message: 'Unknown type' }, id: message?.id }),
    );
}

function joinRoom(socket: WebSocket, name: string): void {
  let room = rooms.get(name);
  if (!room) {
    room = new Set();
    rooms.set(name, room);
  }
  room.add(socket);
  const members = room;
  socket.on('message', (data: RawData, isBinary: boolean) => {
    // ws hands over a fresh Buffer: sent as is, it is encoded once for every member.
    for (const member of members) {
      if (member !== socket && member.readyState === member.OPEN)
        member.send(data, { binary: isBinary });
    }
  });
  socket.on('close', () => {
    members.delete(socket);
    if (members.size === 0 && rooms.get(name) === members) rooms.delete(name);
  });
}

function route(socket: Socket, request: IncomingMessage): void {
  socket.alive = true;
  socket.on('pong', () => (socket.alive = true));
  socket.on('error', () => socket.terminate());
  const url = request.url ?? '/';
  const path = url.split('?', 1)[0];
  if (path === '/ws') {
    socket.on('message', (data) => echo(socket, data));
  } else if (path === '/ws/json') {
    socket.on('message', (data) => json(socket, data));
  } else if (path.startsWith('/ws/room/') && path.length > '/ws/room/'.length) {
    joinRoom(socket, decodeURIComponent(path.slice('/ws/room/'.length)));
  } else {
    socket.close(1008, 'Unknown endpoint');
  }
}

function main(): void {
  const port = Number(process.argv[2] ?? 0);
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  });
  const wss = new WebSocketServer({ server, maxPayload: MAX_PAYLOAD, perMessageDeflate: false });
  wss.on('connection', route);

  const heartbeat = setInterval(() => {
    for (const client of wss.clients as Set<Socket>) {
      if (client.alive === false) {
        client.terminate();
        continue;
      }
      client.alive = false;
      client.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const stop = () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.close(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  server.listen(port, HOST, () => {
    const address = server.address();
    const actual = typeof address === 'object' && address ? address.port : port;
    process.stdout.write(`Listening on http://${HOST}:${actual}\n`);
  });
}

main();
