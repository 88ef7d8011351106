import { findDirectHandlers } from '../src/transport/direct-handlers';
import { startApp, type RunningApp } from './support/app';

describe('direct handlers (the hot path without Nest’s per-message wrapper)', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
  });

  afterAll(async () => {
    await running.close();
  });

  it('calls handlers without enhancers directly and leaves DTO-validated ones to Nest', () => {
    const direct = findDirectHandlers(running.app);
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
