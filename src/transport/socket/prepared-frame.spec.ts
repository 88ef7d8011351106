import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { PreparedFrame, writePrepared } from './prepared-frame';

describe('PreparedFrame', () => {
  it.each([
    ['a short text', 5, [0x81, 5]],
    ['a 126-byte text (16-bit length)', 126, [0x81, 126, 0, 126]],
    ['a 65536-byte text (64-bit length)', 65536, [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
  ])('frames %s as one unmasked FIN text frame', (_, length, header) => {
    const payload = Buffer.alloc(length, 'x');
    const frame = new PreparedFrame(payload);
    expect([...frame.parts[0]]).toEqual(header);
    expect(frame.parts[1]).toBe(payload);
  });

  it('reaches real clients as the same text ws.send would produce', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const accepted = once(server, 'connection') as Promise<[WebSocket]>;
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const [socket] = await accepted;
    const received: string[] = [];
    const done = new Promise<void>((resolve) =>
      client.on('message', (data: Buffer, isBinary: boolean) => {
        expect(isBinary).toBe(false);
        received.push(data.toString());
        if (received.length === 3) resolve();
      }),
    );
    const frame = PreparedFrame.of('héllo ✓');
    writePrepared(socket, frame);
    socket.send('between', { binary: false });
    writePrepared(socket, frame);
    await done;
    expect(received).toEqual(['héllo ✓', 'between', 'héllo ✓']);
    client.close();
    await once(client, 'close');
    await new Promise((resolve) => server.close(resolve));
  });
});
