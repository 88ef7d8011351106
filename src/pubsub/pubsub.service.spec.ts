import { Logger } from '@nestjs/common';
import WebSocket from 'ws';
import type { BusMessage } from '../bus/bus';
import { InMemoryBus } from '../bus/in-memory-bus';
import type { ChannelHistory } from '../history/channel-history';
import { ConnectionRegistry } from '../connections/connection-registry';
import { TransportStats } from '../metrics/transport-stats';
import { Endpoints, type EndpointDefinition } from '../protocol/endpoints';
import { RoomRegistry } from '../rooms/room-registry';
import { Connection } from '../transport/socket/connection';
import { PubSubService } from './pubsub.service';

interface Sent {
  readonly payload: unknown;
  readonly options: unknown;
}

/**
 * What ws's server passes when it builds a socket: a null address makes a server-side socket with
 * no network, and the options object must exist (ws reads `autoPong` from it).
 */
const SERVER_SIDE = [null, undefined, {}] as unknown as [null];

/**
 * A real Connection (its own `sendText`, open-state check and counters) whose only fake part is
 * the wire: `send` records the payload instead of writing it, and completes on the next
 * microtask as a ws write completes later. `during` runs inside `send`, to act mid-broadcast.
 */
class FakeConnection extends Connection {
  readonly sent: Sent[] = [];
  during?: () => void;
  private state: number = WebSocket.OPEN;

  constructor(id: string, endpoint: EndpointDefinition = Endpoints.room) {
    super(...SERVER_SIDE);
    this.id = id;
    this.endpoint = endpoint;
    this.host = {
      stats: new TransportStats(),
      maxBufferedBytes: 1024 * 1024,
      slowConsumerGraceMs: 1000,
    };
    // ws keeps the state private; an own getter shadows its prototype getter.
    Object.defineProperty(this, 'readyState', { get: () => this.state });
  }

  /** As if the peer or the server had closed the socket. */
  markClosed(): void {
    this.state = WebSocket.CLOSED;
  }

  override send(payload: unknown, options?: unknown, callback?: unknown): void {
    this.sent.push({ payload, options });
    this.during?.();
    if (typeof callback === 'function') queueMicrotask(() => (callback as () => void)());
  }

  get texts(): string[] {
    return this.sent.map(({ payload }) => (payload as Buffer).toString('utf8'));
  }
}

/** A recipient whose writes never complete: the callback never runs. */
class StalledConnection extends FakeConnection {
  override send(payload: unknown, options?: unknown): void {
    this.sent.push({ payload, options });
  }
}

describe('PubSubService', () => {
  let bus: InMemoryBus;
  let rooms: RoomRegistry<Connection>;
  let connections: ConnectionRegistry;
  let pubsub: PubSubService;

  beforeEach(() => {
    bus = new InMemoryBus();
    rooms = new RoomRegistry<Connection>();
    connections = new ConnectionRegistry();
    pubsub = new PubSubService(bus, rooms, connections);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  /** Accepts fakes as the transport does (registered, then joined), in the order given. */
  function joinAll(topic: string, ...fakes: FakeConnection[]): void {
    for (const fake of fakes) {
      connections.add(fake);
      pubsub.join(topic, fake);
    }
  }

  function fakes(count: number, endpoint?: EndpointDefinition): FakeConnection[] {
    return Array.from({ length: count }, (_, i) => new FakeConnection(`c${i}`, endpoint));
  }

  describe('delivery', () => {
    it('reaches every member of the topic as a text frame, and no one else', () => {
      const [a, b, c] = fakes(3);
      const outsider = new FakeConnection('outsider');
      joinAll('room:r1', a, b, c);
      joinAll('room:r2', outsider);

      pubsub.publish('room:r1', 'héllo', a);

      for (const member of [a, b, c]) {
        expect(member.texts).toEqual(['héllo']);
        expect(member.sent[0].options).toEqual({ binary: false });
      }
      expect(outsider.sent).toEqual([]);
    });

    it('leaves out the sender with skipSender (rooms), and only the sender', () => {
      const [a, b, c] = fakes(3);
      joinAll('room:r1', a, b, c);

      pubsub.publish('room:r1', 'm', b, true);

      expect(a.texts).toEqual(['m']);
      expect(b.sent).toEqual([]);
      expect(c.texts).toEqual(['m']);
    });

    it('includes the sender without skipSender (chat)', () => {
      const [a, b] = fakes(2);
      joinAll('chat', a, b);
      pubsub.publish('chat', 'Client c0: m', a);
      expect(a.texts).toEqual(['Client c0: m']);
      expect(b.texts).toEqual(['Client c0: m']);
    });

    it('stops delivering to a member once it left', () => {
      const [a, b] = fakes(2);
      joinAll('room:r1', a, b);
      pubsub.leave('room:r1', b);
      pubsub.publish('room:r1', 'm');
      expect(a.texts).toEqual(['m']);
      expect(b.sent).toEqual([]);
    });

    it('skips a member whose socket is no longer open', () => {
      const [a, b] = fakes(2);
      joinAll('room:r1', a, b);
      a.markClosed();
      pubsub.publish('room:r1', 'm');
      expect(a.sent).toEqual([]);
      expect(b.texts).toEqual(['m']);
    });
  });

  describe('encodes once', () => {
    it('sends the very same Buffer instance to every recipient', () => {
      const members = fakes(50);
      joinAll('room:big', ...members);

      pubsub.publish('room:big', 'shared payload');

      const first = members[0].sent[0].payload;
      expect(Buffer.isBuffer(first)).toBe(true);
      for (const member of members) {
        expect(member.sent).toHaveLength(1);
        expect(member.sent[0].payload).toBe(first);
      }
    });

    it('encodes each publish afresh', () => {
      const [a, b] = fakes(2);
      joinAll('room:r1', a, b);
      pubsub.publish('room:r1', 'one');
      pubsub.publish('room:r1', 'two');
      expect(a.texts).toEqual(['one', 'two']);
      expect(b.sent[1].payload).toBe(a.sent[1].payload);
      expect(a.sent[1].payload).not.toBe(a.sent[0].payload);
    });

    it('encodes once per wire format when text and JSON endpoints share a topic', () => {
      const [text1, text2] = fakes(2, Endpoints.subscribe);
      const json1 = new FakeConnection('j1', Endpoints.json);
      const json2 = new FakeConnection('j2', Endpoints.json);
      joinAll('channel:news', text1, json1, text2, json2);

      pubsub.publish('channel:news', 'breaking');

      expect(text1.texts).toEqual(['breaking']);
      expect(text2.sent[0].payload).toBe(text1.sent[0].payload);
      expect(json2.sent[0].payload).toBe(json1.sent[0].payload);
      expect(JSON.parse(json1.texts[0])).toEqual({
        type: 'message',
        data: { channel: 'news', message: 'breaking' },
      });
    });

    it('sends non-string data to text endpoints as JSON text', () => {
      const [a] = fakes(1);
      joinAll('room:r1', a);
      pubsub.publish('room:r1', { n: 1 });
      expect(a.texts).toEqual(['{"n":1}']);
    });
  });

  describe('a broadcast never waits for, or stops at, one recipient', () => {
    it('delivers to everyone synchronously when the first recipient’s send never completes', () => {
      const stalled = new StalledConnection('stalled');
      const others = fakes(3);
      joinAll('room:r1', stalled, ...others);

      pubsub.publish('room:r1', 'm');

      // No await between publish and here: anything awaited per recipient would not have run.
      expect(stalled.texts).toEqual(['m']);
      for (const other of others) expect(other.texts).toEqual(['m']);
    });

    it('skips a member closed by an earlier recipient mid-loop and reaches the rest', () => {
      const [a, b, c, d] = fakes(4);
      joinAll('room:r1', a, b, c, d);
      a.during = () => {
        b.markClosed();
      };

      pubsub.publish('room:r1', 'm');

      expect(b.sent).toEqual([]);
      expect(c.texts).toEqual(['m']);
      expect(d.texts).toEqual(['m']);
    });

    it('survives a member removed from the registries mid-loop', () => {
      const [a, b, c] = fakes(3);
      joinAll('room:r1', a, b, c);
      a.during = () => {
        b.markClosed();
        connections.remove(b);
      };

      pubsub.publish('room:r1', 'm');

      expect(b.sent).toEqual([]);
      expect(c.texts).toEqual(['m']);
      expect(pubsub.isMember('room:r1', b)).toBe(false);
    });

    it('survives the room being emptied and removed mid-loop, and the id is reusable', () => {
      const [a, b] = fakes(2);
      joinAll('room:r1', a, b);
      a.during = () => {
        for (const member of [a, b]) {
          member.markClosed();
          connections.remove(member);
        }
      };

      expect(() => pubsub.publish('room:r1', 'm')).not.toThrow();

      expect(b.sent).toEqual([]);
      expect(rooms.size).toBe(0);
      expect(bus.topicCount).toBe(0);

      const [c, d] = [new FakeConnection('c'), new FakeConnection('d')];
      joinAll('room:r1', c, d);
      pubsub.publish('room:r1', 'again');
      expect(c.texts).toEqual(['again']);
      expect(d.texts).toEqual(['again']);
    });

    it('reaches the rest when a recipient’s send throws, and logs it', () => {
      const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const [a, b, c] = fakes(3);
      joinAll('room:r1', a, b, c);
      a.during = () => {
        throw new Error('write after end');
      };

      expect(() => pubsub.publish('room:r1', 'm')).not.toThrow();

      expect(b.texts).toEqual(['m']);
      expect(c.texts).toEqual(['m']);
      expect(warned).toHaveBeenCalledTimes(1);
    });
  });

  describe('bus subscriptions follow local membership', () => {
    it('subscribes a topic on its first local member and unsubscribes on its last', () => {
      const subscribe = jest.spyOn(bus, 'subscribe');
      const unsubscribe = jest.spyOn(bus, 'unsubscribe');
      const [a, b] = fakes(2);

      joinAll('room:r1', a, b);
      expect(subscribe).toHaveBeenCalledTimes(1);
      expect(bus.topicCount).toBe(1);

      pubsub.leave('room:r1', a);
      expect(unsubscribe).not.toHaveBeenCalled();
      pubsub.leave('room:r1', b);
      expect(unsubscribe).toHaveBeenCalledTimes(1);
      expect(bus.topicCount).toBe(0);
      expect(rooms.size).toBe(0);
    });

    it('leaves every topic when the connection is removed', () => {
      const [a, b] = fakes(2);
      joinAll('room:r1', a, b);
      pubsub.join('chat', a);
      expect(pubsub.isMember('chat', a)).toBe(true);

      connections.remove(a);

      expect(pubsub.isMember('chat', a)).toBe(false);
      expect(pubsub.isMember('room:r1', a)).toBe(false);
      expect(rooms.has('chat')).toBe(false);
      expect(bus.topicCount).toBe(1);
      connections.remove(b);
      expect(rooms.size).toBe(0);
      expect(bus.topicCount).toBe(0);
    });
  });

  describe('channels with history: hold, release, floor', () => {
    const TOPIC = 'channel:news';
    const at = (offset: number, epoch = 'e'): BusMessage => ({
      topic: TOPIC,
      data: offset,
      epoch,
      offset,
    });
    const offsets = (fake: FakeConnection) =>
      fake.texts.map((text) => (JSON.parse(text) as { data: { offset: number } }).data.offset);

    beforeEach(() => {
      // History is only read to repair gaps, which these tests do not make.
      const history = {
        read: () => Promise.reject(new Error('unused')),
      } as unknown as ChannelHistory;
      pubsub = new PubSubService(bus, rooms, connections, history);
    });

    it('holds a subscriber’s deliveries until release, then sends those past the reply’s offset', () => {
      const [member] = fakes(1, Endpoints.json);
      connections.add(member);
      pubsub.joinHeld(TOPIC, member);
      for (const offset of [5, 6, 7]) bus.publish(at(offset));
      expect(member.sent).toEqual([]);

      pubsub.release(TOPIC, member, 'e', 6);
      expect(offsets(member)).toEqual([7]);
      bus.publish(at(8));
      expect(offsets(member)).toEqual([7, 8]);
    });

    it('skips a live publication the history read overtook: no duplicate after the reply', () => {
      const [old, fresh] = fakes(2, Endpoints.json);
      joinAll(TOPIC, old);
      pubsub.seed(TOPIC, 'e', 4);
      bus.publish(at(5));
      connections.add(fresh);
      pubsub.joinHeld(TOPIC, fresh);
      // The read answered offset 6, yet 6 reaches this instance only now.
      pubsub.release(TOPIC, fresh, 'e', 6);
      bus.publish(at(6));
      bus.publish(at(7));
      expect(offsets(old)).toEqual([5, 6, 7]);
      expect(offsets(fresh)).toEqual([7]);
    });

    it('sends the offset to /ws/json members and the bare value to text members', () => {
      const [json] = fakes(1, Endpoints.json);
      const [text] = fakes(1, Endpoints.subscribe);
      joinAll(TOPIC, json, text);
      bus.publish(at(1));
      expect(json.texts).toEqual([
        '{"type":"message","data":{"channel":"news","message":1,"offset":1}}',
      ]);
      expect(text.texts).toEqual(['1']);
    });

    it('tells /ws/json members "Insufficient state" on a new epoch and ends their subscription', () => {
      const [json] = fakes(1, Endpoints.json);
      const [text] = fakes(1, Endpoints.subscribe);
      joinAll(TOPIC, json, text);
      pubsub.seed(TOPIC, 'old', 9);
      bus.publish(at(1, 'new'));
      expect(json.texts).toEqual([
        '{"type":"unsubscribed","data":{"channel":"news","reason":"Insufficient state"}}',
      ]);
      expect(pubsub.isMember(TOPIC, json)).toBe(false);
      expect(text.texts).toEqual(['1']);
    });
  });
});
