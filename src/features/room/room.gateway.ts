import { UseGuards } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  SubscribeMessage,
} from '@nestjs/websockets';
import { JwtAuthGuard } from '../../auth/jwt-auth.guard';
import { Endpoints, TEXT_EVENT } from '../../protocol/endpoints';
import { Topics } from '../../protocol/topics';
import { PubSubService } from '../../pubsub/pubsub.service';
import type { Peer } from '../../transport/socket/peer';
import { EndpointGateway } from '../../transport/endpoint-gateway.decorator';

type RoomConnection = Peer<{ roomId: string }>;

/**
 * `/ws/room/{room_id}`: a text frame reaches every other member of the room verbatim, on every
 * instance; the sender does not get its own message back. Leaving is automatic: PubSubService
 * drops a socket from every topic when it closes.
 */
@EndpointGateway(Endpoints.room)
@UseGuards(JwtAuthGuard)
export class RoomGateway implements OnGatewayConnection {
  constructor(private readonly pubsub: PubSubService) {}

  handleConnection(client: RoomConnection): void {
    this.pubsub.join(Topics.room(client.params.roomId), client);
  }

  @SubscribeMessage(TEXT_EVENT)
  relay(@ConnectedSocket() client: RoomConnection, @MessageBody() text: string): void {
    this.pubsub.publish(Topics.room(client.params.roomId), text, client, true);
  }
}
