import type { IncomingMessage } from 'node:http';
import { clientIp } from './client-ip';

function request(remoteAddress: string | undefined, forwardedFor?: string | string[]) {
  return {
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
}

describe('clientIp', () => {
  it('is the socket address, ignoring X-Forwarded-For, without trustProxy', () => {
    expect(clientIp(request('10.0.0.9', '203.0.113.7'), false)).toBe('10.0.0.9');
  });

  it('is the first X-Forwarded-For hop with trustProxy', () => {
    expect(clientIp(request('10.0.0.9', ' 203.0.113.7 , 10.0.0.1'), true)).toBe('203.0.113.7');
    expect(clientIp(request('10.0.0.9', ['2001:db8::1', '10.0.0.2']), true)).toBe('2001:db8::1');
  });

  it.each(['', 'unknown', 'not-an-ip, 203.0.113.7', '203.0.113.7:443'])(
    'falls back to the socket address for the hop %j',
    (header) => {
      expect(clientIp(request('10.0.0.9', header), true)).toBe('10.0.0.9');
    },
  );

  it('reports IPv4-mapped IPv6 addresses as IPv4', () => {
    expect(clientIp(request('::ffff:127.0.0.1'), false)).toBe('127.0.0.1');
    expect(clientIp(request('10.0.0.9', '::ffff:203.0.113.7'), true)).toBe('203.0.113.7');
    expect(clientIp(request('::1'), false)).toBe('::1');
  });

  it('is "unknown" once the peer has gone', () => {
    expect(clientIp(request(undefined), false)).toBe('unknown');
  });
});
