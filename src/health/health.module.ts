import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { BusHealthIndicator } from './bus.health';
import { DrainingHealthIndicator } from './draining.health';
import { HealthController } from './health.controller';

@Module({
  // Terminus would log every failed probe; the bus logs an outage once instead.
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [BusHealthIndicator, DrainingHealthIndicator],
})
export class HealthModule {}
