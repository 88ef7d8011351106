import { Global, Module } from '@nestjs/common';
import { RoomRegistry } from '../rooms/room-registry';
import { PubSubService } from './pubsub.service';

@Global()
@Module({
  providers: [RoomRegistry, PubSubService],
  exports: [RoomRegistry, PubSubService],
})
export class PubSubModule {}
