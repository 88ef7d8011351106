import { Global, Module } from '@nestjs/common';
import { Clock, SystemClock } from './clock';
import { InstanceId } from './instance-id';
import { Scheduler, SystemScheduler } from './scheduler';

/**
 * What every layer may inject: this process's InstanceId and the time (Clock, Scheduler), which
 * tests replace with fakes so timers fire without sleeping.
 */
@Global()
@Module({
  providers: [
    // A factory, not a value: every application in one process (tests) needs its own id.
    { provide: InstanceId, useFactory: () => new InstanceId() },
    { provide: Clock, useClass: SystemClock },
    { provide: Scheduler, useClass: SystemScheduler },
  ],
  exports: [InstanceId, Clock, Scheduler],
})
export class CommonModule {}
