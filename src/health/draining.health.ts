import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { Admission } from '../transport/upgrade/admission';

/** Down once shutdown has begun, so load balancers stop routing new clients here at once. */
@Injectable()
export class DrainingHealthIndicator {
  constructor(
    private readonly admission: Admission,
    private readonly health: HealthIndicatorService,
  ) {}

  check<const Key extends string>(key: Key): HealthIndicatorResult<Key> {
    const indicator = this.health.check(key);
    return this.admission.isDraining
      ? indicator.down({ message: 'The server is shutting down' })
      : indicator.up();
  }
}
