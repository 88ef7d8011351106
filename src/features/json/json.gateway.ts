import { UseGuards } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage } from '@nestjs/websockets';
import { JwtAuthGuard } from '../../auth/jwt-auth.guard';
import { SessionRefresh } from '../../auth/session-refresh.service';
import { Endpoints } from '../../protocol/endpoints';
import { normaliseId } from '../../protocol/ids';
import {
  jsonReply,
  JsonMessageType as T,
  requestIdOf,
  type JsonReply,
} from '../../protocol/json-messages';
import type { Peer } from '../../transport/socket/peer';
import { EndpointGateway } from '../../transport/endpoint-gateway.decorator';
import { sendReply } from '../../transport/dispatch/replies';
import { WsValidationPipe } from '../../transport/dispatch/ws-validation.pipe';
import { ChannelsService } from '../channels/channels.service';
import { ChannelDto } from './dto/channel.dto';
import { PublishDto } from './dto/publish.dto';
import { RefreshDto } from './dto/refresh.dto';
import { resumePointOf } from './dto/resume-point';

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

  /**
   * With history on, the reply carries the position (and with `since` the recovered
   * publications) and is sent here, before the publications held meanwhile: nothing may come
   * between them. Without, `since` is not read and the reply is today's `{channel}`.
   */
  @SubscribeMessage(T.subscribe)
  subscribe(
    @ConnectedSocket() client: Peer,
    @MessageBody('payload', WsValidationPipe) { channel }: ChannelDto,
    @MessageBody() envelope: unknown,
  ): JsonReply | Promise<void> {
    const id = normaliseId(channel);
    if (this.channels.hasHistory) return this.subscribeWithHistory(client, id, envelope);
    this.channels.subscribe(client, id);
    return jsonReply(T.subscribed, { channel: id });
  }

  private async subscribeWithHistory(
    client: Peer,
    channel: string,
    envelope: unknown,
  ): Promise<void> {
    const since = resumePointOf(envelope);
    const { position, start } = await this.channels.subscribeWithHistory(client, channel, since);
    const data = { channel, ...position } as unknown as JsonReply['data'];
    sendReply(client, jsonReply(T.subscribed, data), requestIdOf(envelope));
    start();
  }

  @SubscribeMessage(T.unsubscribe)
  unsubscribe(
    @ConnectedSocket() client: Peer,
    @MessageBody('payload', WsValidationPipe) { channel }: ChannelDto,
  ): JsonReply {
    const id = normaliseId(channel);
    this.channels.unsubscribe(client, id);
    return jsonReply(T.unsubscribed, { channel: id });
  }

  /** Moves the token deadline of an authenticated connection; same subject only. */
  @SubscribeMessage(T.refresh)
  refresh(
    @ConnectedSocket() client: Peer,
    @MessageBody('payload', WsValidationPipe) { token }: RefreshDto,
  ): JsonReply {
    return jsonReply(T.refreshed, { exp: this.sessions.refresh(client, token) });
  }

  @SubscribeMessage(T.publish)
  publish(
    @ConnectedSocket() client: Peer,
    @MessageBody('payload', WsValidationPipe) { channel, message }: PublishDto,
  ): JsonReply | Promise<JsonReply> {
    const id = normaliseId(channel);
    const stored = this.channels.publish(id, message, client);
    if (stored === undefined) return jsonReply(T.published, { channel: id });
    return stored.then(({ epoch, offset }) =>
      jsonReply(T.published, { channel: id, epoch, offset }),
    );
  }
}
