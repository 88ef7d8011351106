import { buildGatewayHandlers } from '../src/transport/dispatch/gateway-handlers';
import { useApp } from './support/app';

describe('direct handlers (the hot path without Nest’s per-message wrapper)', () => {
  const fixture = useApp();

  it('calls handlers without enhancers directly and leaves DTO-validated ones to Nest', () => {
    const gateways = buildGatewayHandlers(fixture.running.app);
    const summary = Object.fromEntries(
      [...gateways].map(([endpoint, { direct }]) => [endpoint.name, [...direct].sort()]),
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

  it('runs JwtAuthGuard on every gateway once per connection, not per message', () => {
    for (const [endpoint, { connectionGuard }] of buildGatewayHandlers(fixture.running.app)) {
      expect([endpoint.name, connectionGuard !== undefined]).toEqual([endpoint.name, true]);
    }
  });
});
