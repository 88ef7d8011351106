import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { startServerProcess, type ServerProcess } from './support/server-process';
import { withTimeout } from './support/wait';
import { TestClient } from './support/ws-client';

const MiB = 1024 * 1024;
const FLOOD_BYTES = 100 * MiB;
/** How far the server's resident memory may grow while it is flooded. */
const RSS_GROWTH_LIMIT = 64 * MiB;
/** Under the default rate limit (10 frames per second) of the bystander's own connection. */
const BYSTANDER_INTERVAL_MS = 150;

/**
 * A masked client ping with the largest payload a control frame may carry (125 bytes), repeated
 * to fill a 1 MiB write. The mask is all zeroes, so the payload goes as is.
 */
function pingChunk(): Buffer {
  const frame = Buffer.alloc(2 + 4 + 125, 0x61);
  frame[0] = 0x89; // FIN + ping
  frame[1] = 0x80 | 125; // masked, 125 bytes
  frame.fill(0, 2, 6);
  return Buffer.concat(Array.from({ length: Math.floor(MiB / frame.length) }, () => frame));
}

/** The resident set size of process `pid`, from /proc. */
function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Writes `bytes` of pings with TCP backpressure; stops early once the socket is gone. */
async function floodPings(tcp: Socket, bytes: number): Promise<number> {
  const chunk = pingChunk();
  let written = 0;
  while (written < bytes && !tcp.destroyed) {
    written += chunk.length;
    if (!tcp.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          tcp.off('drain', done).off('close', done);
          resolve();
        };
        tcp.on('drain', done).on('close', done);
      });
    }
  }
  return written;
}

describe('ping flood (control frames obey the rate limit and MAX_BUFFERED_BYTES)', () => {
  let server: ServerProcess;

  // The server runs in its own process so its memory is measured alone, from the sources so the
  // test never runs a stale build.
  beforeAll(async () => {
    server = await startServerProcess({}, 40_000, { entry: 'source' });
  }, 45_000);

  afterAll(() => server?.kill());

  it('closes a socket that sends 100 MiB of pings and never reads, within 64 MiB of RSS, while serving another client', async () => {
    const url = `ws://127.0.0.1:${server.port}/ws`;
    const bystander = await TestClient.open(url);
    bystander.send('warm-up');
    expect(await bystander.nextText()).toBe('Echo: warm-up');

    const startRss = rssOf(server.child.pid!);
    let peakRss = startRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(server.child.pid!))), 20);

    const flooder = await TestClient.open(url);
    const tcp = (flooder.socket as unknown as { _socket: Socket })._socket;
    tcp.pause(); // never read: every answer the server sends piles up on its side
    const closed = new Promise<void>((resolve) => tcp.once('close', () => resolve()));
    tcp.on('error', () => {}); // a reset once the server sheds the socket is expected

    let flooding = true;
    const flood = floodPings(tcp, FLOOD_BYTES).finally(() => (flooding = false));
    let served = 0;
    try {
      while (flooding) {
        bystander.send(`during ${served}`);
        expect(await bystander.nextText()).toBe(`Echo: during ${served}`);
        served++;
        // Pacing, not waiting for an outcome: the bystander keeps using the spawned server
        // while the flood lasts (bounded by the flood, which ends on its own).
        await new Promise((resolve) => setTimeout(resolve, BYSTANDER_INTERVAL_MS));
      }
      await flood;
      // Reading again lets a socket the server closed without a reset end on our side too.
      tcp.resume();
      await withTimeout(closed, 5000, 'the server to close the flooding socket');
    } finally {
      clearInterval(sampler);
      tcp.destroy();
    }
    peakRss = Math.max(peakRss, rssOf(server.child.pid!));

    expect(peakRss - startRss).toBeLessThan(RSS_GROWTH_LIMIT);
    bystander.send('after');
    expect(await bystander.nextText()).toBe('Echo: after');
    await bystander.close();
  }, 60_000);
});
