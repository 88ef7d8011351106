import { Injectable } from '@nestjs/common';
import type { EndpointName } from '../protocol/endpoints';
import type { Connection } from '../transport/socket/connection';

type RemovalListener = (connection: Connection) => void;

/**
 * Every live connection of this instance, whatever its endpoint. The transport adds a socket when
 * it is accepted and removes it on close; services that keep per-connection state register a
 * removal listener instead of hooking each socket, so nothing outlives its connection.
 */
@Injectable()
export class ConnectionRegistry {
  private readonly connections = new Set<Connection>();
  private readonly perEndpoint = new Map<EndpointName, number>();
  private readonly removalListeners: RemovalListener[] = [];

  add(connection: Connection): void {
    if (this.connections.has(connection)) return;
    this.connections.add(connection);
    const name = connection.endpoint.name;
    this.perEndpoint.set(name, (this.perEndpoint.get(name) ?? 0) + 1);
  }

  /** Idempotent: the first call notifies the listeners, later calls do nothing. */
  remove(connection: Connection): void {
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

  [Symbol.iterator](): IterableIterator<Connection> {
    return this.connections.values();
  }
}
