import { Global, Module } from '@nestjs/common';
import { Bus } from './bus';
import { InMemoryBus } from './in-memory-bus';

/** Provides the Bus: in-memory, one process. */
@Global()
@Module({
  providers: [{ provide: Bus, useClass: InMemoryBus }],
  exports: [Bus],
})
export class BusModule {}
