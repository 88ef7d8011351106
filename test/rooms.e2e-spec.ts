import { Bus } from '../src/bus/bus';
import { RoomRegistry } from '../src/rooms/room-registry';
import { useApp } from './support/app';
import { waitForValue } from './support/wait';

// Every test here needs several sockets at once: our clients, not superwstest's chains.
describe('rooms /ws/room/{room_id}', () => {
  const fixture = useApp();
  const { clients } = fixture;
  let rooms: RoomRegistry;
  let bus: Bus;
  /** Topics the app subscribes on its own; each room adds one while it has members. */
  let topicsWithoutClients: number;

  beforeAll(() => {
    rooms = fixture.running.app.get(RoomRegistry);
    bus = fixture.running.app.get(Bus);
    topicsWithoutClients = bus.topicCount;
  });

  it('relays a message verbatim to every other member, not to the sender or other rooms', async () => {
    const [a, b, c] = await clients.openAll('/ws/room/r1', '/ws/room/r1', '/ws/room/r1');
    const [d, e] = await clients.openAll('/ws/room/r2', '/ws/room/r2');
    const text = '  héllo ✓ {"not":"parsed"}\t';

    a.send(text);
    expect(await b.nextText()).toBe(text);
    expect(await c.nextText()).toBe(text);

    // Markers sent after delivery: a copy to A, a duplicate to B or C, or a leak into r2 would
    // have been written to that socket before the marker.
    b.send('marker-r1');
    expect(await a.nextText()).toBe('marker-r1');
    expect(await c.nextText()).toBe('marker-r1');
    c.send('marker-r1-again');
    expect(await b.nextText()).toBe('marker-r1-again');
    e.send('marker-r2');
    expect(await d.nextText()).toBe('marker-r2');
    d.send('marker-r2-again');
    expect(await e.nextText()).toBe('marker-r2-again');
  });

  it('keeps each sender’s messages in order', async () => {
    const [a, b] = await clients.openAll('/ws/room/order', '/ws/room/order');
    const texts = ['1', '2', '3', '4', '5'];
    for (const text of texts) a.send(text);
    expect(await b.nextTexts(texts.length)).toEqual(texts);
  });

  it('removes a room when its last member leaves, then lets its id be reused', async () => {
    const [a1, a2] = await clients.openAll('/ws/room/alpha', '/ws/room/alpha');
    const [b1] = await clients.openAll('/ws/room/beta');
    await waitForValue(() => rooms.size, 2, 'the number of rooms');
    expect(bus.topicCount).toBe(topicsWithoutClients + 2);

    await a1.close();
    await waitForValue(() => fixture.connections.size, 2, 'the number of open connections');
    expect(rooms.size).toBe(2);

    await a2.close();
    await b1.close();
    await waitForValue(() => rooms.size, 0, 'the number of rooms');
    expect(bus.topicCount).toBe(topicsWithoutClients);

    const [c1, c2] = await clients.openAll('/ws/room/alpha', '/ws/room/alpha');
    c1.send('reused');
    expect(await c2.nextText()).toBe('reused');
    expect(rooms.size).toBe(1);
  });

  it('has no room left once every client has gone', async () => {
    await clients.openAll('/ws/room/x', '/ws/room/y', '/ws/room/z', '/ws/room/x');
    await waitForValue(() => rooms.size, 3, 'the number of rooms');

    await clients.closeAll();

    await waitForValue(() => rooms.size, 0, 'the number of rooms');
    expect(rooms.memberCount).toBe(0);
    expect(bus.topicCount).toBe(topicsWithoutClients);
  });
});
