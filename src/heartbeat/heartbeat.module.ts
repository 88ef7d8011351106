import { Module } from '@nestjs/common';
import { HeartbeatService } from './heartbeat.service';

/** Pings every open connection each HEARTBEAT_INTERVAL_MS and ends the ones that stopped answering. */
@Module({ providers: [HeartbeatService] })
export class HeartbeatModule {}
