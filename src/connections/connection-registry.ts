import { Injectable } from '@nestjs/common';
import type { EndpointName } from '../protocol/endpoints';
import type { LivePeer } from '../transport/socket/peer';

type RemovalListener = (connection: LivePeer) => void;

/**
 * Every live connection of this instance, whatever its endpoint. The transport adds a socket when
 * it is accepted and removes it on close; services that keep per-connection state register a
 * removal listener instead of hooking each socket, so nothing outlives its connection.
 */
@Injectable()
export class ConnectionRegistry {
  private readonly connections = new Set<LivePeer>();
  private readonly perEndpoint = new Map<EndpointName, number>();
  private readonly removalListeners: RemovalListener[] = [];

  add(connection: LivePeer): void {
    if (this.connections.has(connection)) return;
    this.connections.add(connection);
    const name = connection.endpoint.name;
    this.perEndpoint.set(name, (this.perEndpoint.get(name) ?? 0) + 1);
  }

  /** Idempotent: the first call notifies the listeners, later calls do nothing. */
  remove(connection: LivePeer): void {
    if (!this.connections.delete(connection)) return;
    const name = connection.endpoint.name;
    this.perEndpoint.set(name, (this.perEndpoint.get(name) ?? 1) - 1);
    for (const listener of this.removalListeners) listener(connection);
  }

  onRemove(listener: RemovalListener): void {
    this.removalListeners.push(listener);
  }

  get size(): number {
    return this.connections.size;
  }

  countFor(endpoint: EndpointName): number {
    return this.perEndpoint.get(endpoint) ?? 0;
  }

  [Symbol.iterator](): IterableIterator<LivePeer> {
    return this.connections.values();
  }
}
