import { Endpoints, type EndpointDefinition } from '../protocol/endpoints';
import type { Connection } from '../transport/socket/connection';
import { ConnectionRegistry } from './connection-registry';

/** The registry reads only `endpoint`; a fake keeps the spec free of sockets. */
function fakeConnection(endpoint: EndpointDefinition): Connection {
  return { endpoint } as unknown as Connection;
}

describe('ConnectionRegistry', () => {
  let registry: ConnectionRegistry;

  beforeEach(() => {
    registry = new ConnectionRegistry();
  });

  it('counts connections in total and per endpoint', () => {
    const chat1 = fakeConnection(Endpoints.chat);
    const chat2 = fakeConnection(Endpoints.chat);
    const room = fakeConnection(Endpoints.room);
    for (const connection of [chat1, chat2, room]) registry.add(connection);

    expect(registry.size).toBe(3);
    expect(registry.countFor('chat')).toBe(2);
    expect(registry.countFor('room')).toBe(1);
    expect(registry.countFor('echo')).toBe(0);
    expect([...registry]).toEqual([chat1, chat2, room]);
  });

  it('ignores a second add of the same connection', () => {
    const chat = fakeConnection(Endpoints.chat);
    registry.add(chat);
    registry.add(chat);
    expect(registry.size).toBe(1);
    expect(registry.countFor('chat')).toBe(1);
  });

  it('notifies every removal listener once, however often a connection is removed', () => {
    const first = jest.fn();
    const second = jest.fn();
    registry.onRemove(first);
    registry.onRemove(second);
    const chat = fakeConnection(Endpoints.chat);
    registry.add(chat);

    registry.remove(chat);
    registry.remove(chat);

    expect(first).toHaveBeenCalledTimes(1);
    expect(first).toHaveBeenCalledWith(chat);
    expect(second).toHaveBeenCalledTimes(1);
    expect(registry.size).toBe(0);
    expect(registry.countFor('chat')).toBe(0);
  });

  it('does not notify for a connection it never held', () => {
    const listener = jest.fn();
    registry.onRemove(listener);
    registry.remove(fakeConnection(Endpoints.room));
    expect(listener).not.toHaveBeenCalled();
    expect(registry.countFor('room')).toBe(0);
  });
});
