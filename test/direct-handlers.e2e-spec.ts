import { findDirectHandlers } from '../src/transport/direct-handlers';
import { useApp } from './support/app';

describe('direct handlers (the hot path without Nest’s per-message wrapper)', () => {
  const fixture = useApp();

  it('calls handlers without enhancers directly and leaves DTO-validated ones to Nest', () => {
    const direct = findDirectHandlers(fixture.running.app);
    const summary = Object.fromEntries(
      [...direct].map(([endpoint, handlers]) => [endpoint, [...handlers.keys()].sort()]),
    );
    expect(summary).toEqual({
      echo: ['text'],
      chat: ['text'],
      room: ['text'],
      subscribe: ['text'],
      secure: ['text'],
      json: ['ping', 'pong'],
    });
  });
});
