import { Injectable } from '@nestjs/common';
import { OBSERVED_CLOSE_CODES } from '../protocol/close-codes';
import type { EndpointName } from '../protocol/endpoints';

type PerEndpoint = Record<EndpointName, number>;

const zeroes = (): PerEndpoint => ({ echo: 0, chat: 0, room: 0, subscribe: 0, secure: 0, json: 0 });

/**
 * Plain counters bumped on the hot path: a property increment per event, nothing allocated.
 * The metrics module reads them when Prometheus scrapes, so counting costs nothing per message
 * beyond the increment itself.
 */
@Injectable()
export class TransportStats {
  readonly received = zeroes();
  readonly sent = zeroes();
  readonly rateLimited = zeroes();
  /**
   * Closes by the code the server observed (1006 when a socket ended without a close frame);
   * codes outside OBSERVED_CLOSE_CODES share the key `other`, so the map stays small.
   */
  readonly closes = new Map<string, number>();
  /** Upgrades answered with an HTTP error, by status. */
  readonly refusedUpgrades = new Map<number, number>();
  slowConsumers = 0;

  countClose(code: number): void {
    const label = OBSERVED_CLOSE_CODES.has(code) ? String(code) : 'other';
    this.closes.set(label, (this.closes.get(label) ?? 0) + 1);
  }

  countRefusedUpgrade(status: number): void {
    this.refusedUpgrades.set(status, (this.refusedUpgrades.get(status) ?? 0) + 1);
  }
}
