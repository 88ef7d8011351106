import { UseGuards } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  SubscribeMessage,
} from '@nestjs/websockets';
import { JwtAuthGuard } from '../../auth/jwt-auth.guard';
import { Endpoints, TEXT_EVENT } from '../../protocol/endpoints';
import { TextMessages } from '../../protocol/text-messages';
import { Topics } from '../../protocol/topics';
import { PubSubService } from '../../pubsub/pubsub.service';
import type { Peer } from '../../transport/socket/peer';
import { EndpointGateway } from '../../transport/endpoint-gateway.decorator';

type ChatConnection = Peer<{ clientId: string }>;

/**
 * `/ws/{client_id}`: one lobby shared by every chat client on every instance. A message reaches
 * everyone, the sender included, as "Client {id}: {text}"; a departure as "Client {id} left".
 */
@EndpointGateway(Endpoints.chat)
@UseGuards(JwtAuthGuard)
export class ChatGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(private readonly pubsub: PubSubService) {}

  handleConnection(client: ChatConnection): void {
    this.pubsub.join(Topics.chat, client);
  }

  @SubscribeMessage(TEXT_EVENT)
  say(@ConnectedSocket() client: ChatConnection, @MessageBody() text: string): void {
    this.pubsub.publish(Topics.chat, TextMessages.chatLine(client.params.clientId, text), client);
  }

  /** By now the socket has left the lobby (PubSubService drops closed sockets from every topic). */
  handleDisconnect(client: ChatConnection): void {
    this.pubsub.publish(Topics.chat, TextMessages.chatLeft(client.params.clientId), client);
  }
}
