import { Module } from '@nestjs/common';
import { ChatGateway } from './chat/chat.gateway';
import { EchoGateway } from './echo/echo.gateway';
import { RoomGateway } from './room/room.gateway';

/** One gateway per endpoint of the wire contract. */
@Module({
  providers: [EchoGateway, ChatGateway, RoomGateway],
})
export class FeaturesModule {}
