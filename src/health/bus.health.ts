import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { Bus } from '../bus/bus';

/**
 * Up while the bus reaches the other instances (always, for the in-memory bus): connected, and
 * Redis not refusing its commands. Reads state the bus keeps current, so a probe costs no round
 * trip to Redis and answers at once in an outage.
 */
@Injectable()
export class BusHealthIndicator {
  constructor(
    private readonly bus: Bus,
    private readonly health: HealthIndicatorService,
  ) {}

  check<const Key extends string>(key: Key): HealthIndicatorResult<Key> {
    const indicator = this.health.check(key);
    if (!this.bus.connected) {
      return indicator.down({ message: 'The bus cannot reach the other instances' });
    }
    const problem = this.bus.problem;
    return problem === undefined ? indicator.up() : indicator.down({ message: problem });
  }
}
