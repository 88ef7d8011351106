import { UseGuards } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage, WsException } from '@nestjs/websockets';
import { JwtAuthGuard } from '../../auth/jwt-auth.guard';
import { SessionRefresh } from '../../auth/session-refresh.service';
import { PresenceService } from '../../presence/presence.service';
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
import { ErrorMessages } from '../../protocol/text-messages';
import { sendReply } from '../../transport/dispatch/replies';
import { WsValidationPipe } from '../../transport/dispatch/ws-validation.pipe';
import { ChannelsService } from '../channels/channels.service';
import { ChannelDto } from './dto/channel.dto';
import { PublishDto } from './dto/publish.dto';
import { RefreshDto } from './dto/refresh.dto';
import { wantsPresenceDiffs } from './dto/presence-flag';
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
    private readonly presence: PresenceService,
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
    const diffs = wantsPresenceDiffs(envelope);
    if (this.channels.hasHistory) return this.subscribeWithHistory(client, id, envelope, diffs);
    this.channels.subscribe(client, id);
    this.presence.join(client, id, diffs);
    return jsonReply(T.subscribed, { channel: id });
  }

  private async subscribeWithHistory(
    client: Peer,
    channel: string,
    envelope: unknown,
    diffs: boolean,
  ): Promise<void> {
    const since = resumePointOf(envelope);
    const { position, start } = await this.channels.subscribeWithHistory(client, channel, since);
    this.presence.join(client, channel, diffs);
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
    this.presence.leave(client, id);
    return jsonReply(T.unsubscribed, { channel: id });
  }

  /** The channel's members on every instance; being subscribed is not required. */
  @SubscribeMessage(T.presence)
  async presenceOf(
    @MessageBody('payload', WsValidationPipe) { channel }: ChannelDto,
  ): Promise<JsonReply> {
    const snapshot = await this.presence.snapshot(normaliseId(channel)).catch(() => {
      throw new WsException(ErrorMessages.busUnavailable);
    });
    return jsonReply(T.presence, snapshot as unknown as JsonReply['data']);
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
