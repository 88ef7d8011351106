import { Global, Module } from '@nestjs/common';
import { ConnectionRegistry } from '../connections/connection-registry';
import { InstanceId } from './instance-id';
import { MessageDispatcher } from './message-dispatcher';

/** The pieces the WebSocket adapter is built from; createApp hands them to the adapter. */
@Global()
@Module({
  providers: [
    { provide: InstanceId, useValue: new InstanceId() },
    ConnectionRegistry,
    MessageDispatcher,
  ],
  exports: [InstanceId, ConnectionRegistry, MessageDispatcher],
})
export class TransportModule {}
