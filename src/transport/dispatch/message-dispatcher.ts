import { Injectable, Logger } from '@nestjs/common';
import type { RawData } from 'ws';
import { Clock } from '../../common/clock';
import { ConnectionLimits } from '../../limits/connection-limits';
import { MessageThrottles } from '../../limits/message-throttles';
import { TransportStats } from '../../metrics/transport-stats';
import { CloseCode, CloseReason } from '../../protocol/close-codes';
import { type EndpointDefinition, TEXT_EVENT } from '../../protocol/endpoints';
import { JsonErrorMessage, jsonError, type RequestId } from '../../protocol/json-messages';
import { ErrorMessages } from '../../protocol/text-messages';
import type { Connection } from '../socket/connection';
import type { EndpointHandlers, MessageHandler } from './gateway-handlers';
import { decodeEnvelope, requestIdOfText } from './json-envelope';
import { errorReply, errorReplyFor, sendReply, settleReply } from './replies';

const NO_HANDLERS: ReadonlyMap<string, MessageHandler> = new Map();

/**
 * The per-message hot path, run for every frame on every endpoint before a gateway sees it. It
 * replaces the stock adapter's per-message RxJS pipeline with plain calls.
 *
 * On arrival: frames on a socket the server is closing are dropped; a binary frame closes the
 * socket with 1003 (every endpoint speaks text); the rate limit counts the frame. Pings count
 * too and are answered here (see `ping`).
 *
 * Then, one frame at a time per connection, in arrival order (so every reply and every effect,
 * such as a subscription, follows request order):
 * 1. a connection whose token has expired is closed with 1008 (auth holds on every message);
 * 2. a frame over the rate limit is not handled; the sender gets an error;
 * 3. the frame is decoded for the endpoint's format: text as is, JSON envelopes checked and
 *    routed by type (invalid JSON and unknown types are answered here); a JSON handler with a
 *    @Throttle / @SkipThrottle of its own has its limit checked here (MessageThrottles);
 * 4. the gateway handler runs and its result is sent, with the request id on JSON: a value, a
 *    promise's value, or every value of an observable, the next frame waiting until the last is
 *    sent. Handlers without enhancers are called directly (see direct-handlers.ts); the others,
 *    such as those validating a DTO, go through Nest's enhancers (see gateway-handlers.ts).
 */
@Injectable()
export class MessageDispatcher {
  private readonly logger = new Logger(MessageDispatcher.name);

  /**
   * MAX_PENDING_FRAMES: frames a connection may have waiting while a handler is in flight. Past
   * it the socket is paused, so a client that sends faster than it is served is held back by TCP,
   * not by memory; it is read again once half of them are handled.
   */
  private readonly maxPendingFrames: number;
  private handlers: ReadonlyMap<EndpointDefinition, ReadonlyMap<string, MessageHandler>> =
    new Map();

  constructor(
    private readonly throttles: MessageThrottles,
    private readonly clock: Clock,
    private readonly stats: TransportStats,
    limits: ConnectionLimits,
  ) {
    this.maxPendingFrames = limits.maxPendingFrames;
  }

  /** The gateways' handlers by endpoint (see buildGatewayHandlers); set at boot, before any socket. */
  useGatewayHandlers(gateways: EndpointHandlers): void {
    const handlers = new Map<EndpointDefinition, ReadonlyMap<string, MessageHandler>>();
    for (const [endpoint, gateway] of gateways) handlers.set(endpoint, gateway.messages);
    this.handlers = handlers;
  }

  dispatch(connection: Connection, data: RawData, isBinary: boolean): void {
    if (!connection.isOpen) return;
    if (isBinary) {
      connection.close(CloseCode.UnsupportedData, CloseReason.BinaryNotSupported);
      return;
    }
    this.stats.received[connection.endpoint.name]++;
    const text = (data as Buffer).toString();
    const allowed = this.throttles.allowFrame(connection);
    if (connection.inFlight) {
      connection.backlog.push({ text, allowed });
      if (connection.backlog.length >= this.maxPendingFrames && !connection.isPaused)
        connection.pause();
      return;
    }
    this.run(connection, text, allowed);
  }

  /**
   * A client's ping counts toward the rate limit like any frame. Within it, the pong goes out
   * through the connection's send path, so MAX_BUFFERED_BYTES covers it; over it, the client gets
   * the rate-limit error any over-limit frame gets (a flooder that does not read is then shed as
   * a slow consumer). Answered at once, not queued behind a handler in flight: a ping has no
   * effect to order.
   */
  ping(connection: Connection, data: Buffer): void {
    if (!connection.isOpen) return;
    if (this.throttles.allowFrame(connection)) {
      connection.sendPong(data);
      return;
    }
    this.refuse(connection, undefined);
  }

  private run(connection: Connection, text: string, allowed: boolean): void {
    const pending = this.handle(connection, text, allowed);
    if (pending === undefined) return;
    connection.inFlight = true;
    void pending.then(() => this.next(connection));
  }

  /** Runs the frames that queued up while a handler was in flight, until one goes async. */
  private next(connection: Connection): void {
    connection.inFlight = false;
    const { backlog } = connection;
    while (!connection.inFlight && backlog.length > 0) {
      const frame = backlog.shift()!;
      this.run(connection, frame.text, frame.allowed);
    }
    if (connection.isPaused && backlog.length < this.maxPendingFrames / 2) connection.resume();
  }

  private handle(
    connection: Connection,
    text: string,
    allowed: boolean,
  ): Promise<void> | undefined {
    if (!connection.isOpen) return undefined;
    const exp = connection.principal?.exp;
    if (exp !== undefined && exp * 1000 <= this.clock.now()) {
      connection.close(CloseCode.PolicyViolation, CloseReason.TokenExpired);
      return undefined;
    }
    const { format } = connection.endpoint;
    if (!allowed) {
      this.refuse(connection, format === 'json' ? requestIdOfText(text) : undefined);
      return undefined;
    }
    const handlers = this.handlers.get(connection.endpoint) ?? NO_HANDLERS;
    if (format === 'text') return this.call(connection, handlers, TEXT_EVENT, text, undefined);
    const decoded = decodeEnvelope(text);
    if (!decoded.ok) {
      sendReply(connection, decoded.error);
      return undefined;
    }
    const { envelope } = decoded;
    if (!handlers.has(envelope.type)) {
      sendReply(connection, jsonError(JsonErrorMessage.unknownType, envelope.id));
      return undefined;
    }
    if (!this.throttles.allowHandler(connection, envelope.type)) {
      this.refuse(connection, envelope.id);
      return undefined;
    }
    return this.call(connection, handlers, envelope.type, envelope, envelope.id);
  }

  /** Answers a frame over its rate limit with the endpoint's error (the request id on JSON). */
  private refuse(connection: Connection, id: RequestId | undefined): void {
    this.stats.rateLimited[connection.endpoint.name]++;
    sendReply(connection, errorReply(connection.endpoint.format, ErrorMessages.rateLimited, id));
  }

  /**
   * Runs the handler for `event`: a plain call when it has no enhancers (its reply sent before
   * this returns if it answers a value), otherwise Nest's wrapper (a promise). Either way the
   * promise returned, if any, settles once every reply of this message is sent.
   */
  private call(
    connection: Connection,
    handlers: ReadonlyMap<string, MessageHandler>,
    event: string,
    data: unknown,
    id: RequestId | undefined,
  ): Promise<void> | undefined {
    const handler = handlers.get(event);
    if (!handler) {
      this.logger.warn(`No handler for "${event}" on endpoint ${connection.endpoint.name}`);
      return undefined;
    }
    let result: unknown;
    try {
      result = handler(connection, data, event);
    } catch (error) {
      sendReply(connection, errorReplyFor(connection, error), id);
      return undefined;
    }
    return settleReply(connection, result, id);
  }
}
