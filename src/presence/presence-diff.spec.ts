import { PendingDiff } from './presence-diff';

const alice = { client: 'i.1', user: 'alice' };
const bob = { client: 'i.2', user: null };

describe('PendingDiff', () => {
  it('lists joins and leaves, then starts empty again', () => {
    const diff = new PendingDiff();
    diff.join(alice);
    diff.leave(bob);
    expect(diff.take()).toEqual({ joins: [alice], leaves: [bob] });
    expect(diff.isEmpty).toBe(true);
  });

  it('cancels a join followed by a leave, and a leave followed by a join', () => {
    const diff = new PendingDiff();
    diff.join(alice);
    diff.leave(alice);
    diff.leave(bob);
    diff.join(bob);
    expect(diff.isEmpty).toBe(true);
    expect(diff.take()).toEqual({ joins: [], leaves: [] });
  });

  it('merges batches from several instances with the same rule', () => {
    const diff = new PendingDiff();
    diff.merge({ joins: [alice], leaves: [] });
    diff.merge({ joins: [bob], leaves: [alice] });
    expect(diff.take()).toEqual({ joins: [bob], leaves: [] });
  });
});
