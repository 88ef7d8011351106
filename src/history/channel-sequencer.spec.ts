import type { BusMessage } from '../bus/bus';
import type { HistoryRead } from './channel-history';
import { ChannelSequencer, type SequencerOptions } from './channel-sequencer';

const TOPIC = 'channel:a';
const pub = (offset: number, epoch = 'e'): BusMessage => ({
  topic: TOPIC,
  data: offset,
  epoch,
  offset,
});

/** A sequencer whose history reads are answered by the test, one at a time. */
function setup(options: Partial<SequencerOptions> = {}) {
  const delivered: number[] = [];
  const lost: string[] = [];
  const reads: { since: number; answer: (read: HistoryRead) => void; fail: () => void }[] = [];
  const sequencer = new ChannelSequencer(
    {
      deliver: (message) => delivered.push(message.offset!),
      lost: (topic) => lost.push(topic),
      read: (_topic, since) =>
        new Promise<HistoryRead>((resolve, reject) => {
          reads.push({ since, answer: resolve, fail: () => reject(new Error('down')) });
        }),
    },
    { readAttempts: 1, retryDelayMs: 0, maxHeld: 100, ...options },
  );
  return { sequencer, delivered, lost, reads };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
/**
 * Resolves once `done` holds, checking after each timer turn (a retry timer of 0 ms runs within
 * one on an idle loop, later on a loaded machine); fails after 200 turns.
 */
async function turnsUntil(done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 200 && !done(); turn++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  if (!done()) throw new Error('The condition did not hold within 200 timer turns');
}
const retained = (epoch: string, offset: number, from: number): HistoryRead => ({
  position: { epoch, offset },
  publications: Array.from({ length: offset - from + 1 }, (_, i) => ({
    offset: from + i,
    data: from + i,
  })),
});

describe('ChannelSequencer', () => {
  it('delivers the next offset at once and drops duplicates and older ones', () => {
    const { sequencer, delivered } = setup();
    sequencer.seed(TOPIC, { epoch: 'e', offset: 3 });
    for (const offset of [4, 4, 5, 3, 6]) sequencer.accept(pub(offset));
    expect(delivered).toEqual([4, 5, 6]);
  });

  it('fills a jump from history, in order, before the publications that arrived meanwhile', async () => {
    const { sequencer, delivered, reads, lost } = setup();
    sequencer.seed(TOPIC, { epoch: 'e', offset: 1 });
    sequencer.accept(pub(4));
    sequencer.accept(pub(6));
    sequencer.accept(pub(5));
    expect(delivered).toEqual([]);
    expect(reads.map((r) => r.since)).toEqual([1]);
    reads[0].answer(retained('e', 4, 2));
    await settle();
    expect(delivered).toEqual([2, 3, 4, 5, 6]);
    expect(lost).toEqual([]);
  });

  it('ends the subscriptions when the missing publications left history, then goes on', async () => {
    const { sequencer, delivered, reads, lost } = setup();
    sequencer.seed(TOPIC, { epoch: 'e', offset: 1 });
    sequencer.accept(pub(9));
    reads[0].answer(retained('e', 9, 5));
    await settle();
    expect(lost).toEqual([TOPIC]);
    sequencer.accept(pub(10));
    expect(delivered).toEqual([10]);
  });

  it('treats a new epoch as a loss for the subscribers of the old one', () => {
    const { sequencer, delivered, lost } = setup();
    sequencer.seed(TOPIC, { epoch: 'old', offset: 7 });
    sequencer.accept(pub(1, 'new'));
    sequencer.accept(pub(2, 'new'));
    expect(lost).toEqual([TOPIC]);
    expect(delivered).toEqual([1, 2]);
  });

  it('checks history on resume and delivers what the bus dropped', async () => {
    const { sequencer, delivered, reads } = setup();
    sequencer.seed(TOPIC, { epoch: 'e', offset: 2 });
    sequencer.resume();
    reads[0].answer(retained('e', 4, 3));
    await settle();
    expect(delivered).toEqual([3, 4]);
  });

  it('reports a loss when history cannot be read, and restarts from the next publication', async () => {
    const { sequencer, delivered, reads, lost } = setup();
    sequencer.seed(TOPIC, { epoch: 'e', offset: 2 });
    sequencer.accept(pub(5));
    reads[0].fail();
    await settle();
    expect(lost).toEqual([TOPIC]);
    expect(delivered).toEqual([5]);
  });

  it('retries a failed read (the publisher connection may come back last) before giving up', async () => {
    const { sequencer, delivered, reads, lost } = setup({ readAttempts: 2 });
    sequencer.seed(TOPIC, { epoch: 'e', offset: 2 });
    sequencer.resume();
    reads[0].fail();
    await turnsUntil(() => reads.length > 1);
    expect(reads).toHaveLength(2);
    reads[1].answer(retained('e', 3, 3));
    await settle();
    expect(delivered).toEqual([3]);
    expect(lost).toEqual([]);
  });

  it('gives a gap up when too much is held while it is repaired', () => {
    const { sequencer, delivered, lost } = setup({ maxHeld: 2 });
    sequencer.seed(TOPIC, { epoch: 'e', offset: 1 });
    for (const offset of [3, 4, 5]) sequencer.accept(pub(offset));
    expect(lost).toEqual([TOPIC]);
    expect(delivered).toEqual([3, 4, 5]);
  });

  it('forgets a topic whose last member left, even mid-repair', async () => {
    const { sequencer, delivered, reads } = setup();
    sequencer.seed(TOPIC, { epoch: 'e', offset: 1 });
    sequencer.accept(pub(3));
    sequencer.forget(TOPIC);
    reads[0].answer(retained('e', 3, 2));
    await settle();
    expect(delivered).toEqual([]);
  });
});
