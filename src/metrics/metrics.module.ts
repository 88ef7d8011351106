import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/**
 * GET /metrics for Prometheus. Reads TransportStats, the connection and room registries and the
 * bus, which their global modules provide; adds nothing to the per-message path.
 */
@Module({
  controllers: [MetricsController],
  providers: [MetricsService],
})
export class MetricsModule {}
