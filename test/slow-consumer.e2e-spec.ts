import type { Socket } from 'node:net';
import { TransportStats } from '../src/metrics/transport-stats';
import { useApp } from './support/app';
import { waitForValue, withTimeout } from './support/wait';

const MESSAGE = 'x'.repeat(8 * 1024);
/** Far more than loopback's kernel buffers can absorb for a reader that stopped reading. */
const COUNT = 2048;
const BATCH = 32;

describe('slow consumers', () => {
  // Our clients: one of them stops reading at the TCP level.
  const fixture = useApp({ MAX_BUFFERED_BYTES: String(256 * 1024), RATE_LIMIT_MAX: '1000000' });
  const { clients } = fixture;

  it('sheds a member that stopped reading while the room streams, without slowing the others', async () => {
    const path = '/ws/room/stream';
    const [stalled, reader, sender] = await clients.openAll(path, path, path);
    const registry = fixture.connections;
    const stats = fixture.running.app.get(TransportStats);

    // Stop reading at the TCP level: the server's writes to this socket pile up.
    (stalled.socket as unknown as { _socket: Socket })._socket.pause();

    // The sender keeps at most one batch ahead of the healthy reader, so only the stalled
    // member can fall behind, however loaded the machine running this test is.
    let received = 0;
    let caughtUp: (() => void) | undefined;
    reader.socket.on('message', (data: Buffer) => {
      if (data.toString() === MESSAGE) received++;
      if (received % BATCH === 0) caughtUp?.();
    });
    for (let sent = 0; sent < COUNT; sent += BATCH) {
      const batchDone = new Promise<void>((resolve) => (caughtUp = resolve));
      for (let i = 0; i < BATCH; i++) sender.send(MESSAGE);
      await withTimeout(batchDone, 5000, `the reader to receive ${sent + BATCH} messages`);
    }
    expect(received).toBe(COUNT);
    await waitForValue(() => stats.slowConsumers, 1, 'slow consumers shed', 5000);
    await waitForValue(() => registry.size, 2, 'open connections after shedding', 5000);
    expect(reader.isOpen).toBe(true);
    expect(sender.isOpen).toBe(true);

    await Promise.all([reader.close(), sender.close()]);
    stalled.socket.terminate();
  }, 30_000);
});
