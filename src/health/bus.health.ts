import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { Bus } from '../bus/bus';

/**
 * Up while the bus reaches the other instances (always, for the in-memory bus). Reads a flag the
 * bus keeps current, so a probe costs no round trip to Redis and answers at once in an outage.
 */
@Injectable()
export class BusHealthIndicator {
  constructor(
    private readonly bus: Bus,
    private readonly health: HealthIndicatorService,
  ) {}

  check<const Key extends string>(key: Key): HealthIndicatorResult<Key> {
    const indicator = this.health.check(key);
    return this.bus.connected
      ? indicator.up()
      : indicator.down({ message: 'The bus cannot reach the other instances' });
  }
}
