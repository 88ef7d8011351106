import { useApp } from './support/app';
import { waitForValue } from './support/wait';

describe('chat /ws/{client_id}', () => {
  // The lobby is shared by the whole app: each test starts once every earlier chat client is
  // gone on the server side, so no "left" line leaks into the next test.
  const fixture = useApp();
  const { clients } = fixture;

  it('delivers "Client A: m" to every chat client, the sender included, exactly once', async () => {
    const [a, b, c] = await clients.openAll('/ws/A', '/ws/B', '/ws/C');

    a.send('hello');
    for (const client of [a, b, c]) expect(await client.nextText()).toBe('Client A: hello');

    // A duplicate of A's line would arrive before B's marker on every socket.
    b.send('marker');
    for (const client of [a, b, c]) expect(await client.nextText()).toBe('Client B: marker');
  });

  it('keeps the text verbatim (unicode, spaces, JSON-looking text) and in order', async () => {
    const [a, b] = await clients.openAll('/ws/A', '/ws/B');
    const texts = ['héllo wörld ✓ 🚀', '  padded  ', '{"type":"x"}', 'Client Z: spoof'];

    for (const text of texts) a.send(text);

    const expected = texts.map((text) => `Client A: ${text}`);
    expect(await b.nextTexts(texts.length)).toEqual(expected);
    expect(await a.nextTexts(texts.length)).toEqual(expected);
  });

  it('tells the others "Client A left" exactly once when A disconnects', async () => {
    const [a, b, c] = await clients.openAll('/ws/A', '/ws/B', '/ws/C');

    await a.close();

    expect(await b.nextText()).toBe('Client A left');
    expect(await c.nextText()).toBe('Client A left');
    b.send('marker');
    expect(await b.nextText()).toBe('Client B: marker');
    expect(await c.nextText()).toBe('Client B: marker');
  });

  it('stops delivering to a client once it has left', async () => {
    const [a, b] = await clients.openAll('/ws/A', '/ws/B');
    await a.close();
    expect(await b.nextText()).toBe('Client A left');

    const c = await clients.open('/ws/C');
    b.send('after');
    expect(await b.nextText()).toBe('Client B: after');
    expect(await c.nextText()).toBe('Client B: after');
    expect(a.unread).toEqual([]);
  });

  it('announces a client refused for its id to nobody', async () => {
    const b = await clients.open('/ws/B');
    const refused = await clients.open('/ws/not%20valid');
    expect(await refused.closed()).toEqual({ code: 1008, reason: 'Invalid client_id' });
    await waitForValue(() => fixture.connections.size, 1, 'the number of open connections');

    b.send('marker');
    expect(await b.nextText()).toBe('Client B: marker');
  });
});
