import { RoomRegistry } from './room-registry';

interface Member {
  readonly name: string;
}

describe('RoomRegistry', () => {
  let rooms: RoomRegistry<Member>;
  const alice: Member = { name: 'alice' };
  const bob: Member = { name: 'bob' };

  beforeEach(() => {
    rooms = new RoomRegistry<Member>();
  });

  it('creates a room with its first member only', () => {
    expect(rooms.join('r1', alice)).toBe(true);
    expect(rooms.join('r1', bob)).toBe(false);
    expect(rooms.size).toBe(1);
    expect([...(rooms.members('r1') ?? [])]).toEqual([alice, bob]);
  });

  it('removes a room when its last member leaves, and only then', () => {
    rooms.join('r1', alice);
    rooms.join('r1', bob);

    expect(rooms.leave('r1', alice)).toBe(false);
    expect(rooms.has('r1')).toBe(true);
    expect([...(rooms.members('r1') ?? [])]).toEqual([bob]);

    expect(rooms.leave('r1', bob)).toBe(true);
    expect(rooms.has('r1')).toBe(false);
    expect(rooms.members('r1')).toBeUndefined();
    expect(rooms.size).toBe(0);
    expect(rooms.memberCount).toBe(0);
    expect([...rooms.roomNames()]).toEqual([]);
  });

  it('lets an id be reused once its room is removed, starting empty', () => {
    rooms.join('r1', alice);
    rooms.leave('r1', alice);

    expect(rooms.join('r1', bob)).toBe(true);
    expect([...(rooms.members('r1') ?? [])]).toEqual([bob]);
    expect(rooms.roomsOf(alice)).toBeUndefined();
  });

  it('treats a leave by a non-member as a no-op that creates nothing', () => {
    rooms.join('r1', alice);

    expect(rooms.leave('r1', bob)).toBe(false);
    expect(rooms.leave('r2', alice)).toBe(false);
    expect(rooms.has('r2')).toBe(false);
    expect([...(rooms.members('r1') ?? [])]).toEqual([alice]);
    expect([...(rooms.roomsOf(alice) ?? [])]).toEqual(['r1']);
  });

  it('counts a member joining twice once, and one leave removes it', () => {
    rooms.join('r1', alice);
    expect(rooms.join('r1', alice)).toBe(false);
    expect(rooms.members('r1')?.size).toBe(1);
    expect(rooms.leave('r1', alice)).toBe(true);
    expect(rooms.size).toBe(0);
  });

  it('tracks the rooms of each member', () => {
    rooms.join('r1', alice);
    rooms.join('r2', alice);
    rooms.join('r2', bob);

    expect([...(rooms.roomsOf(alice) ?? [])]).toEqual(['r1', 'r2']);
    expect([...(rooms.roomsOf(bob) ?? [])]).toEqual(['r2']);
    expect(rooms.memberCount).toBe(2);
  });

  it('leaveAll removes a member everywhere and returns exactly the rooms it emptied', () => {
    rooms.join('solo', alice);
    rooms.join('shared', alice);
    rooms.join('shared', bob);

    expect(rooms.leaveAll(alice)).toEqual(['solo']);
    expect(rooms.has('solo')).toBe(false);
    expect([...(rooms.members('shared') ?? [])]).toEqual([bob]);
    expect(rooms.roomsOf(alice)).toBeUndefined();
    expect(rooms.leaveAll(alice)).toEqual([]);

    expect(rooms.leaveAll(bob)).toEqual(['shared']);
    expect(rooms.size).toBe(0);
    expect(rooms.memberCount).toBe(0);
  });
});
