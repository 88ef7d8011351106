import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** The address of a socket whose peer has gone (Node then reports none). */
const UNKNOWN = 'unknown';

/**
 * The address per-IP limits count a request against: the socket's peer, or, when `trustProxy`,
 * the first X-Forwarded-For hop. That hop is only as trustworthy as the proxy in front: it must
 * overwrite the header (nginx `proxy_set_header X-Forwarded-For $remote_addr`), not append to
 * one the client sent. A first hop that is not an IP address is ignored.
 * IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) are reported as IPv4, so both forms count once.
 */
export function clientIp(request: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = firstForwardedHop(request.headers['x-forwarded-for']);
    if (forwarded !== undefined) return unmapped(forwarded);
  }
  const address = request.socket.remoteAddress;
  return address === undefined ? UNKNOWN : unmapped(address);
}

function firstForwardedHop(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const comma = value.indexOf(',');
  const hop = (comma === -1 ? value : value.slice(0, comma)).trim();
  return isIP(hop) === 0 ? undefined : hop;
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
