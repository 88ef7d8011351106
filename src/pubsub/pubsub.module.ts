import { Global, Module } from '@nestjs/common';
import { PubSubService } from './pubsub.service';

/** Publishing to topics and fanning the bus's messages out to the local members (RoomsModule). */
@Global()
@Module({ providers: [PubSubService], exports: [PubSubService] })
export class PubSubModule {}
