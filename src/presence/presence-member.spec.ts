import { MAX_LISTED_MEMBERS, snapshotOf } from './presence-member';

describe('snapshotOf', () => {
  it('counts clients and distinct non-null users', () => {
    const members = [
      { client: 'a', user: 'alice' },
      { client: 'b', user: 'alice' },
      { client: 'c', user: null },
    ];
    expect(snapshotOf('doc', members)).toEqual({ channel: 'doc', clients: 3, users: 1, members });
  });

  it(`lists at most ${MAX_LISTED_MEMBERS} members, says so, and keeps the counts exact`, () => {
    const members = Array.from({ length: MAX_LISTED_MEMBERS + 1 }, (_, i) => ({
      client: `c${i}`,
      user: `u${i}`,
    }));
    const snapshot = snapshotOf('doc', members);
    expect(snapshot.members).toHaveLength(MAX_LISTED_MEMBERS);
    expect(snapshot).toMatchObject({
      clients: MAX_LISTED_MEMBERS + 1,
      users: MAX_LISTED_MEMBERS + 1,
      truncated: true,
    });
  });
});
