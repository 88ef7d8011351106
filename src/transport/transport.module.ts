import { Global, Module } from '@nestjs/common';
import { Clock, SystemClock } from '../common/clock';
import { Scheduler, SystemScheduler } from '../common/scheduler';
import { ConnectionRegistry } from '../connections/connection-registry';
import { HeartbeatService } from '../heartbeat/heartbeat.service';
import { TransportStats } from '../metrics/transport-stats';
import { Admission } from './upgrade/admission';
import { InstanceId } from '../common/instance-id';
import { MessageDispatcher } from './dispatch/message-dispatcher';
import { ParamIdGuard } from './upgrade/param-id.guard';

/** The pieces the WebSocket adapter is built from; createApp hands them to the adapter. */
@Global()
@Module({
  providers: [
    // A factory, not a value: every application in one process (tests) needs its own id.
    { provide: InstanceId, useFactory: () => new InstanceId() },
    { provide: Clock, useClass: SystemClock },
    { provide: Scheduler, useClass: SystemScheduler },
    ConnectionRegistry,
    MessageDispatcher,
    HeartbeatService,
    ParamIdGuard,
    Admission,
    TransportStats,
  ],
  exports: [
    InstanceId,
    Clock,
    Scheduler,
    ConnectionRegistry,
    MessageDispatcher,
    ParamIdGuard,
    Admission,
    TransportStats,
  ],
})
export class TransportModule {}
