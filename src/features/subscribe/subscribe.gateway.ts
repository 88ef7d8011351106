import { UseGuards } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  SubscribeMessage,
} from '@nestjs/websockets';
import { JwtAuthGuard } from '../../auth/jwt-auth.guard';
import { Endpoints, TEXT_EVENT } from '../../protocol/endpoints';
import type { Peer } from '../../transport/socket/peer';
import { EndpointGateway } from '../../transport/endpoint-gateway.decorator';
import { ChannelsService } from '../channels/channels.service';

function noReply(): void {}

type SubscribeConnection = Peer<{ channel: string }>;

/**
 * `/ws/subscribe/{channel}`: a text frame reaches every subscriber of the channel, the sender
 * included, on /ws/subscribe and /ws/json alike. Leaving happens when the socket closes.
 */
@EndpointGateway(Endpoints.subscribe)
@UseGuards(JwtAuthGuard)
export class SubscribeGateway implements OnGatewayConnection {
  constructor(private readonly channels: ChannelsService) {}

  handleConnection(client: SubscribeConnection): void {
    this.channels.subscribe(client, client.params.channel);
  }

  /**
   * With history on, the next frame waits until this one is stored (per-sender order), and one
   * that cannot be gets `{"error":"Bus unavailable"}` (the WsException's message).
   */
  @SubscribeMessage(TEXT_EVENT)
  publish(
    @ConnectedSocket() client: SubscribeConnection,
    @MessageBody() text: string,
  ): Promise<void> | void {
    return this.channels.publish(client.params.channel, text, client)?.then(noReply);
  }
}
