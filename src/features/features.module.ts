import { Module } from '@nestjs/common';
import { ChannelsService } from './channels/channels.service';
import { ChatGateway } from './chat/chat.gateway';
import { EchoGateway } from './echo/echo.gateway';
import { JsonGateway } from './json/json.gateway';
import { RoomGateway } from './room/room.gateway';
import { SecureGateway } from './secure/secure.gateway';
import { SubscribeGateway } from './subscribe/subscribe.gateway';

/** One gateway per endpoint of the wire contract, and the services they share. */
@Module({
  providers: [
    ChannelsService,
    EchoGateway,
    ChatGateway,
    RoomGateway,
    SubscribeGateway,
    SecureGateway,
    JsonGateway,
  ],
  exports: [ChannelsService],
})
export class FeaturesModule {}
