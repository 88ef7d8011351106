import { EventEmitter } from 'node:events';
import { SystemScheduler } from '../common/scheduler';
import { loadConfig } from '../config/load-config';
import { ConnectionRegistry } from '../connections/connection-registry';
import { Endpoints, type EndpointDefinition } from '../protocol/endpoints';
import type { Connection } from '../transport/socket/connection';
import type { PreparedFrame } from '../transport/socket/prepared-frame';
import { HeartbeatService } from './heartbeat.service';

/** Just enough of a socket for the sweep: liveness flag, ping, send, terminate. */
class FakeSocket extends EventEmitter {
  alive = true;
  isOpen = true;
  pings = 0;
  terminated = false;
  readonly sent: Buffer[] = [];
  constructor(
    readonly id: string,
    readonly endpoint: EndpointDefinition,
  ) {
    super();
  }
  ping(): void {
    this.pings++;
  }
  sendFrame(frame: PreparedFrame): boolean {
    if (!this.isOpen) return false;
    this.sent.push(frame.payload);
    return true;
  }
  terminate(): void {
    this.terminated = true;
    this.isOpen = false;
  }
  /** What the transport does when the peer's pong arrives. */
  pong(): void {
    this.alive = true;
  }
}

describe('HeartbeatService', () => {
  let registry: ConnectionRegistry;
  let heartbeat: HeartbeatService;

  const add = (id: string, endpoint: EndpointDefinition = Endpoints.echo) => {
    const socket = new FakeSocket(id, endpoint);
    registry.add(socket as unknown as Connection);
    return socket;
  };

  beforeEach(() => {
    registry = new ConnectionRegistry();
    // sweep() is called by hand; the scheduler is never started.
    heartbeat = new HeartbeatService(
      loadConfig({ NODE_ENV: 'test' }),
      registry,
      new SystemScheduler(),
    );
  });

  it('pings every socket once per sweep', () => {
    const a = add('a');
    const b = add('b', Endpoints.room);
    heartbeat.sweep();
    expect([a.pings, b.pings]).toEqual([1, 1]);
    expect(a.alive).toBe(false);
  });

  it('keeps a socket that answered, terminates one that did not by the next sweep', () => {
    const answers = add('answers');
    const silent = add('silent');
    expect(heartbeat.sweep()).toBe(0);
    answers.pong();
    expect(heartbeat.sweep()).toBe(1);
    expect(silent.terminated).toBe(true);
    expect(answers.terminated).toBe(false);
    expect(answers.pings).toBe(2);
  });

  it('also sends an application ping to JSON clients, the same bytes to each', () => {
    const json1 = add('j1', Endpoints.json);
    const json2 = add('j2', Endpoints.json);
    const text = add('t');
    heartbeat.sweep();
    expect(JSON.parse(json1.sent[0].toString())).toEqual({ type: 'ping', data: {} });
    expect(json2.sent[0]).toBe(json1.sent[0]);
    expect(text.sent).toHaveLength(0);
  });

  it('skips sockets that are already closing', () => {
    const closing = add('c');
    closing.isOpen = false;
    heartbeat.sweep();
    expect(closing.pings).toBe(0);
  });
});
