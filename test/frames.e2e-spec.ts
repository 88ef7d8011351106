import { useApp } from './support/app';
import type { TestClient } from './support/ws-client';

const TEXT_ENDPOINTS = ['/ws', '/ws/A', '/ws/room/r'];

/** `count` copies of `char`; `bytes` is what MAX_MESSAGE_BYTES counts. */
function repeat(char: string, count: number): { text: string; bytes: number } {
  const text = char.repeat(count);
  return { text, bytes: Buffer.byteLength(text) };
}

// Our clients: these tests send raw frames (binary, oversized) and check that nothing at all
// arrived before the close.
describe('frames on text endpoints', () => {
  const fixture = useApp();
  const { clients } = fixture;

  async function expectEchoed(client: TestClient, text: string): Promise<void> {
    client.send(text);
    const reply = await client.nextText();
    // Compared by length first so that a failure does not print 64 KiB.
    expect(reply.length).toBe(`Echo: ${text}`.length);
    expect(reply === `Echo: ${text}`).toBe(true);
  }

  it.each(TEXT_ENDPOINTS)('%s closes with 1003 on a binary frame', async (path) => {
    const client = await clients.open(path);
    client.sendBinary(Buffer.from('hello'));
    expect((await client.closed()).code).toBe(1003);
    expect(client.unread).toEqual([]);
  });

  it.each(TEXT_ENDPOINTS)('%s closes with 1009 on a frame over 65536 bytes', async (path) => {
    const client = await clients.open(path);
    const { text, bytes } = repeat('é', 32769);
    expect(bytes).toBe(65538);
    client.send(text);
    expect((await client.closed()).code).toBe(1009);
    expect(client.unread).toEqual([]);
  });

  describe('MAX_MESSAGE_BYTES defaults to 65536 and counts bytes, not characters', () => {
    it.each([
      ['ASCII', 'a', 65536],
      ['2-byte é', 'é', 32768],
      ['4-byte 🚀', '🚀', 16384],
    ])('accepts exactly 65536 bytes of %s', async (_case, char, count) => {
      const { text, bytes } = repeat(char, count);
      expect(bytes).toBe(65536);
      await expectEchoed(await clients.open('/ws'), text);
    });

    it.each([
      ['ASCII', 'a', 65537],
      ['2-byte é', 'é', 32769],
      ['3-byte €', '€', 21846],
      ['4-byte 🚀', '🚀', 16385],
    ])('refuses %s over 65536 bytes in fewer than 65536 characters', async (_case, char, count) => {
      const { text, bytes } = repeat(char, count);
      expect(bytes).toBeGreaterThan(65536);
      const client = await clients.open('/ws');
      client.send(text);
      expect((await client.closed()).code).toBe(1009);
    });
  });

  it('keeps serving other clients after closing one with 1003 and one with 1009', async () => {
    const echo = await clients.open('/ws');
    const [roomA, roomB] = await clients.openAll('/ws/room/shared', '/ws/room/shared');

    const binary = await clients.open('/ws/room/shared');
    binary.sendBinary(Buffer.from([1, 2, 3]));
    expect((await binary.closed()).code).toBe(1003);
    const tooBig = await clients.open('/ws/room/shared');
    tooBig.send('x'.repeat(65537));
    expect((await tooBig.closed()).code).toBe(1009);

    await expectEchoed(echo, 'still here');
    roomA.send('still relaying');
    expect(await roomB.nextText()).toBe('still relaying');
    roomB.send('both ways');
    expect(await roomA.nextText()).toBe('both ways');
  });
});

describe('MAX_MESSAGE_BYTES from the environment', () => {
  const fixture = useApp({ MAX_MESSAGE_BYTES: '100' });

  it.each([
    ['100 ASCII bytes', 'a', 100],
    ['100 bytes of é (50 characters)', 'é', 50],
  ])('accepts %s', async (_case, char, count) => {
    const { text, bytes } = repeat(char, count);
    expect(bytes).toBe(100);
    await fixture.request().ws('/ws').sendText(text).expectText(`Echo: ${text}`).close();
  });

  it.each([
    ['101 ASCII bytes', 'a', 101],
    ['102 bytes of é (51 characters)', 'é', 51],
  ])('closes with 1009 on %s', async (_case, char, count) => {
    await fixture.request().ws('/ws').sendText(repeat(char, count).text).expectClosed(1009);
  });
});
