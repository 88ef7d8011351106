import { UseGuards } from '@nestjs/common';
import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import { JwtAuthGuard } from '../../auth/jwt-auth.guard';
import { Endpoints, TEXT_EVENT } from '../../protocol/endpoints';
import { TextMessages } from '../../protocol/text-messages';
import { EndpointGateway } from '../../transport/endpoint-gateway.decorator';

/** `/ws`: every text frame comes back prefixed with "Echo: ". */
@EndpointGateway(Endpoints.echo)
@UseGuards(JwtAuthGuard)
export class EchoGateway {
  @SubscribeMessage(TEXT_EVENT)
  echo(@MessageBody() text: string): string {
    return TextMessages.echo(text);
  }
}
