import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { BusHealthIndicator } from './bus.health';
import { DrainingHealthIndicator } from './draining.health';

/** Never rate-limited: probes and load balancers poll it, and it must answer under load. */
@Controller()
@SkipThrottle()
export class HealthController {
  constructor(
    private readonly checks: HealthCheckService,
    private readonly bus: BusHealthIndicator,
    private readonly draining: DrainingHealthIndicator,
  ) {}

  /** Liveness: the process is up and serving HTTP. Never depends on Redis. */
  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness: 200 while the bus reaches the other instances, 503 while it does not (Redis
   * away, or refusing PUBLISH or SUBSCRIBE), so a load balancer stops sending new clients to an instance that cannot fan out;
   * also 503 once the server has started draining for shutdown.
   */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.checks.check([() => this.bus.check('bus'), () => this.draining.check('shutdown')]);
  }
}
