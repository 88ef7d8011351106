import { Global, Module } from '@nestjs/common';
import { RoomRegistry } from './room-registry';

/** The local members of every topic (rooms, channels); pub/sub fans out to them. */
@Global()
@Module({ providers: [RoomRegistry], exports: [RoomRegistry] })
export class RoomsModule {}
