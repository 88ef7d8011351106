import { UseGuards } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage } from '@nestjs/websockets';
import { JwtAuthGuard } from '../../auth/jwt-auth.guard';
import { SessionRefresh } from '../../auth/session-refresh.service';
import { Endpoints } from '../../protocol/endpoints';
import { normaliseId } from '../../protocol/ids';
import { jsonReply, JsonMessageType as T, type JsonReply } from '../../protocol/json-messages';
import type { Connection } from '../../transport/connection';
import { EndpointGateway } from '../../transport/endpoint-gateway.decorator';
import { WsValidationPipe } from '../../transport/ws-validation.pipe';
import { ChannelsService } from '../channels/channels.service';
import { ChannelDto } from './dto/channel.dto';
import { PublishDto } from './dto/publish.dto';
import { RefreshDto } from './dto/refresh.dto';

/**
 * `/ws/json`: the JSON envelope protocol. The transport parses and routes `{type, payload?, id?}`
 * by type and echoes `id` on every reply; each handler validates its payload with a DTO.
 */
@EndpointGateway(Endpoints.json)
@UseGuards(JwtAuthGuard)
export class JsonGateway {
  constructor(
    private readonly channels: ChannelsService,
    private readonly sessions: SessionRefresh,
  ) {}

  @SubscribeMessage(T.ping)
  ping(): JsonReply {
    return jsonReply(T.pong, {});
  }

  /** The answer to the server's heartbeat ping: nothing to reply. */
  @SubscribeMessage(T.pong)
  pong(): void {}

  @SubscribeMessage(T.subscribe)
  subscribe(
    @ConnectedSocket() client: Connection,
    @MessageBody('payload', WsValidationPipe) { channel }: ChannelDto,
  ): JsonReply {
    const id = normaliseId(channel);
    this.channels.subscribe(client, id);
    return jsonReply(T.subscribed, { channel: id });
  }

  @SubscribeMessage(T.unsubscribe)
  unsubscribe(
    @ConnectedSocket() client: Connection,
    @MessageBody('payload', WsValidationPipe) { channel }: ChannelDto,
  ): JsonReply {
    const id = normaliseId(channel);
    this.channels.unsubscribe(client, id);
    return jsonReply(T.unsubscribed, { channel: id });
  }

  /** Moves the token deadline of an authenticated connection; same subject only. */
  @SubscribeMessage(T.refresh)
  refresh(
    @ConnectedSocket() client: Connection,
    @MessageBody('payload', WsValidationPipe) { token }: RefreshDto,
  ): JsonReply {
    return jsonReply(T.refreshed, { exp: this.sessions.refresh(client, token) });
  }

  @SubscribeMessage(T.publish)
  publish(
    @ConnectedSocket() client: Connection,
    @MessageBody('payload', WsValidationPipe) { channel, message }: PublishDto,
  ): JsonReply {
    const id = normaliseId(channel);
    this.channels.publish(id, message, client);
    return jsonReply(T.published, { channel: id });
  }
}
