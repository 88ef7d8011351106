import { Global, Module } from '@nestjs/common';
import { TransportStats } from '../metrics/transport-stats';
import { MessageDispatcher } from './dispatch/message-dispatcher';
import { Admission } from './upgrade/admission';
import { ParamIdGuard } from './upgrade/param-id.guard';

/**
 * What the WebSocket transport owns: admission and the path check on the upgrade path, the
 * message dispatcher, and its counters; createApp hands them to the adapter. The services it uses
 * come from their own modules (ConnectionsModule, LimitsModule, CommonModule).
 */
@Global()
@Module({
  providers: [MessageDispatcher, ParamIdGuard, Admission, TransportStats],
  exports: [MessageDispatcher, ParamIdGuard, Admission, TransportStats],
})
export class TransportModule {}
