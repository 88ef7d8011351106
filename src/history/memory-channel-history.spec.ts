import type { BusMessage } from '../bus/bus';
import { InMemoryBus } from '../bus/in-memory-bus';
import { Clock } from '../common/clock';
import { isComplete } from './channel-history';
import { MemoryChannelHistory } from './memory-channel-history';

class FakeClock extends Clock {
  time = 1_000_000;
  now(): number {
    return this.time;
  }
}

describe('MemoryChannelHistory', () => {
  let clock: FakeClock;
  let bus: InMemoryBus;
  let history: MemoryChannelHistory;
  const delivered: BusMessage[] = [];

  beforeEach(() => {
    clock = new FakeClock();
    bus = new InMemoryBus();
    history = new MemoryChannelHistory(bus, { size: 3, ttlMs: 10_000, clock, processEpoch: 'p' });
    delivered.length = 0;
    bus.subscribe('channel:a', (message) => delivered.push(message));
  });

  it('gives each publication the next offset and fans it out with its position', async () => {
    expect(await history.publish({ topic: 'channel:a', data: 'x' })).toEqual({
      epoch: 'p-1',
      offset: 1,
    });
    expect(await history.publish({ topic: 'channel:a', data: 'y' })).toEqual({
      epoch: 'p-1',
      offset: 2,
    });
    expect(delivered.map((m) => [m.epoch, m.offset, m.data])).toEqual([
      ['p-1', 1, 'x'],
      ['p-1', 2, 'y'],
    ]);
  });

  it('reads a fresh channel as offset 0 of a stable epoch', async () => {
    const first = await history.read('channel:b');
    expect(first).toEqual({ position: { epoch: 'p-1', offset: 0 }, publications: [] });
    expect((await history.read('channel:b')).position.epoch).toBe('p-1');
  });

  it('keeps the last HISTORY_SIZE publications and reports what was lost', async () => {
    for (const data of ['1', '2', '3', '4', '5'])
      await history.publish({ topic: 'channel:a', data });
    const read = await history.read('channel:a', 1);
    expect(read.publications.map((p) => p.offset)).toEqual([3, 4, 5]);
    expect(isComplete(1, read)).toBe(false);
    expect(isComplete(2, await history.read('channel:a', 2))).toBe(true);
    expect(isComplete(5, await history.read('channel:a', 5))).toBe(true);
    expect(isComplete(9, await history.read('channel:a', 9))).toBe(false);
  });

  it('starts a new epoch once the TTL has passed since the last publication', async () => {
    await history.publish({ topic: 'channel:a', data: 'x' });
    clock.time += 9_999;
    expect((await history.read('channel:a')).position).toEqual({ epoch: 'p-1', offset: 1 });
    clock.time += 10_000;
    expect((await history.read('channel:a')).position).toEqual({ epoch: 'p-2', offset: 0 });
  });

  it('frees channels whose TTL passed, subscribers or not', async () => {
    for (let i = 0; i < 50; i++) await history.publish({ topic: `channel:${i}`, data: i });
    expect(history.channelCount).toBe(50);
    clock.time += 10_001;
    await history.read('channel:other');
    expect(history.channelCount).toBe(1);
  });
});
