import { UseGuards } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage } from '@nestjs/websockets';
import { JwtAuthGuard } from '../../auth/jwt-auth.guard';
import { Endpoints, TEXT_EVENT } from '../../protocol/endpoints';
import { TextMessages } from '../../protocol/text-messages';
import type { Peer } from '../../transport/socket/peer';
import { EndpointGateway } from '../../transport/endpoint-gateway.decorator';

/**
 * `/ws/secure`: only reachable with a valid token (the transport's connection guard closes other
 * sockets with 1008 before this gateway sees them); greets the token's name.
 */
@EndpointGateway(Endpoints.secure)
@UseGuards(JwtAuthGuard)
export class SecureGateway {
  @SubscribeMessage(TEXT_EVENT)
  greet(@ConnectedSocket() client: Peer, @MessageBody() text: string): string {
    return TextMessages.secureGreeting(client.principal?.name ?? '', text);
  }
}
