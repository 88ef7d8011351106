import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Clock } from '../common/clock';
import { Bus, type BusListener, type BusMessage } from './bus';
import { decodeEnvelope, encodeEnvelope, type EnvelopeError } from './envelope';
import { ListenerTable } from './listener-table';
import { LogThrottle } from './log-throttle';
import {
  connectIoredis,
  HEARTBEAT_MS,
  redisOptions,
  type RedisConnection,
  type RedisConnector,
} from './redis-connection';

export interface RedisBusOptions {
  /** REDIS_URL. May hold a password: never logged. */
  readonly url: string;
  /** REDIS_PREFIX: the Redis channel of a topic is prefix + topic. */
  readonly prefix: string;
  /** This instance's id: envelopes carrying it as origin are our own, already delivered. */
  readonly instance: string;
  readonly clock: Clock;
  /** Opens the two connections; ioredis unless a spec passes a fake. */
  readonly connect?: RedisConnector;
  /** Interval of the PING that notices a silent Redis; default HEARTBEAT_MS. */
  readonly heartbeatMs?: number;
}

/** Publishes allowed on the wire without an answer before more are dropped (a stalled Redis). */
export const MAX_PENDING_PUBLISHES = 10_000;
/** How long shutdown waits for QUIT before closing the sockets anyway. */
const QUIT_TIMEOUT_MS = 500;
/** At most one log line per kind of repeated problem per interval. */
const PROBLEM_LOG_INTERVAL_MS = 10_000;

/**
 * The bus shared by every instance through Redis pub/sub: one publisher and one subscriber
 * connection per instance, whatever the number of sockets and topics.
 *
 * - `publish` writes one envelope to the topic's channel, then delivers to local listeners
 *   synchronously. The envelope comes back from Redis to this instance too and is ignored there
 *   (its origin is ours), so every listener gets each message once.
 * - A channel is subscribed when its topic gets its first local listener and unsubscribed when it
 *   loses its last one.
 * - Redis going away never blocks anything: local delivery goes on, publishes that cannot be sent
 *   are dropped and counted, `connected` turns false (readiness answers 503), one warning is
 *   logged. ioredis reconnects on its own (at most a second apart) and resubscribes; topics
 *   whose subscription changed meanwhile are settled on reconnection.
 * - Per-publisher order holds across instances: one publisher connection writes in call order,
 *   Redis relays a channel in order, the subscriber dispatches in arrival order.
 */
export class RedisBus extends Bus implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisBus.name);
  private readonly listeners = new ListenerTable(this.logger);
  private readonly publisher: RedisConnection;
  private readonly subscriber: RedisConnection;
  /**
   * Topics whose SUBSCRIBE or UNSUBSCRIBE did not reach Redis (issued while the subscriber was
   * down, or lost with it). On the next 'ready' each is subscribed or unsubscribed according to
   * whether it has listeners then.
   */
  private readonly unsettled = new Set<string>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly malformedLog: LogThrottle;
  private readonly commandLog: LogThrottle;
  private readonly backlogLog: LogThrottle;
  private link: 'connecting' | 'up' | 'down' = 'connecting';
  private downSince = 0;
  private droppedAtDown = 0;
  private lastError?: string;
  private droppedCount = 0;
  private malformedCount = 0;
  private closing = false;

  constructor(private readonly options: RedisBusOptions) {
    super();
    const connect = options.connect ?? connectIoredis;
    this.malformedLog = new LogThrottle(PROBLEM_LOG_INTERVAL_MS, options.clock);
    this.commandLog = new LogThrottle(PROBLEM_LOG_INTERVAL_MS, options.clock);
    this.backlogLog = new LogThrottle(PROBLEM_LOG_INTERVAL_MS, options.clock);
    this.publisher = connect(options.url, redisOptions('publisher', options.instance));
    this.subscriber = connect(options.url, redisOptions('subscriber', options.instance));
    for (const connection of [this.publisher, this.subscriber]) {
      connection.on('ready', this.onLinkChange);
      connection.on('close', this.onLinkChange);
      // ioredis reports every failed attempt here; the outage warning says it once.
      connection.on('error', this.onError);
    }
    this.subscriber.on('ready', this.settleSubscriptions);
    this.subscriber.on('message', this.onMessage);
    this.heartbeat = setInterval(this.ping, options.heartbeatMs ?? HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  publish(message: BusMessage): void {
    // Redis first: a listener that publishes in turn then cannot overtake this message remotely.
    this.forward(message);
    this.listeners.dispatch(message);
  }

  subscribe(topic: string, listener: BusListener): void {
    if (this.listeners.add(topic, listener)) this.sync(topic, true);
  }

  unsubscribe(topic: string, listener: BusListener): void {
    if (this.listeners.remove(topic, listener)) this.sync(topic, false);
  }

  /** Both connections are ready: this instance sends to and receives from the others. */
  get connected(): boolean {
    return this.publisher.status === 'ready' && this.subscriber.status === 'ready';
  }

  /**
   * Publishes not sent (Redis unreachable, or MAX_PENDING_PUBLISHES unanswered) or lost with the
   * connection before Redis answered them; the latter may have reached other instances.
   */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Envelopes received and ignored because they were malformed or of an unknown version. */
  get malformed(): number {
    return this.malformedCount;
  }

  get topicCount(): number {
    return this.listeners.size;
  }

  /** Quits both connections, or closes them at once when Redis is unreachable; never hangs. */
  async onApplicationShutdown(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.heartbeat);
    await Promise.all([close(this.publisher), close(this.subscriber)]);
  }

  private forward(message: BusMessage): void {
    const publisher = this.publisher;
    if (publisher.status !== 'ready') {
      this.droppedCount++;
      return;
    }
    if (publisher.commandQueue.length >= MAX_PENDING_PUBLISHES) {
      this.droppedCount++;
      this.warnThrottled(
        this.backlogLog,
        `Redis has ${MAX_PENDING_PUBLISHES} publishes unanswered: dropping publishes until it catches up`,
      );
      return;
    }
    let payload: string;
    try {
      payload = encodeEnvelope(this.options.instance, message);
    } catch (error) {
      this.droppedCount++;
      this.logger.error(`Cannot encode a message on topic "${message.topic}"`, error as Error);
      return;
    }
    publisher.publish(this.options.prefix + message.topic, payload).catch(this.onPublishFailed);
  }

  private readonly onPublishFailed = (): void => {
    // Rejected because the connection dropped first; the outage itself is logged once elsewhere.
    this.droppedCount++;
  };

  private sync(topic: string, wanted: boolean): void {
    if (this.subscriber.status !== 'ready') {
      this.unsettled.add(topic);
      return;
    }
    const channel = this.options.prefix + topic;
    const command = wanted
      ? this.subscriber.subscribe(channel)
      : this.subscriber.unsubscribe(channel);
    command.catch((error: unknown) => this.onSyncFailed([topic], wanted, error));
  }

  private onSyncFailed(topics: readonly string[], wanted: boolean, error: unknown): void {
    for (const topic of topics) this.unsettled.add(topic);
    // Failing because the connection dropped is part of the outage; anything else is worth a line.
    if (this.closing || this.subscriber.status !== 'ready') return;
    this.warnThrottled(
      this.commandLog,
      `${wanted ? 'SUBSCRIBE' : 'UNSUBSCRIBE'} failed for ${topics.length} topic(s) ` +
        `(${describeError(error)}); retried on the next reconnection`,
    );
  }

  private readonly settleSubscriptions = (): void => {
    if (this.unsettled.size === 0 || this.subscriber.status !== 'ready') return;
    const wanted: string[] = [];
    const unwanted: string[] = [];
    for (const topic of this.unsettled) (this.listeners.has(topic) ? wanted : unwanted).push(topic);
    this.unsettled.clear();
    const { prefix } = this.options;
    if (wanted.length > 0) {
      this.subscriber
        .subscribe(...wanted.map((topic) => prefix + topic))
        .catch((error: unknown) => this.onSyncFailed(wanted, true, error));
    }
    // ioredis may just have resubscribed these from before the outage.
    if (unwanted.length > 0) {
      this.subscriber
        .unsubscribe(...unwanted.map((topic) => prefix + topic))
        .catch((error: unknown) => this.onSyncFailed(unwanted, false, error));
    }
  };

  private readonly onMessage = (channel: string, raw: string): void => {
    const { prefix, instance } = this.options;
    if (!channel.startsWith(prefix)) return;
    const decoded = decodeEnvelope(raw);
    if (!decoded.ok) {
      this.onMalformed(channel, decoded.error);
      return;
    }
    const { origin, data, sender, skipSender } = decoded.envelope;
    if (origin === instance) return;
    this.listeners.dispatch({ topic: channel.slice(prefix.length), data, sender, skipSender });
  };

  private onMalformed(channel: string, error: EnvelopeError): void {
    this.malformedCount++;
    this.warnThrottled(this.malformedLog, `Ignored an envelope on "${channel}": ${error}`);
  }

  private readonly onLinkChange = (): void => {
    if (this.closing) return;
    const now = this.options.clock.now();
    if (this.connected) {
      if (this.link === 'down') {
        const seconds = ((now - this.downSince) / 1000).toFixed(1);
        const dropped = this.droppedCount - this.droppedAtDown;
        this.logger.log(
          `Redis connection restored after ${seconds} s; ${dropped} publish(es) dropped meanwhile`,
        );
      } else if (this.link === 'connecting') {
        this.logger.log(`Connected to Redis (channel prefix "${this.options.prefix}")`);
      }
      this.link = 'up';
      this.lastError = undefined;
      return;
    }
    // One warning per outage: when a ready link drops, or when the first attempt at boot fails
    // (one connection being ready before the other is no outage).
    if (this.link === 'down' || (this.link === 'connecting' && !this.anyRetrying())) return;
    const reason = this.lastError === undefined ? '' : ` (${this.lastError})`;
    this.logger.warn(
      `${this.link === 'up' ? 'Lost the Redis connection' : 'Cannot reach Redis'}${reason}: ` +
        'cross-instance delivery is paused and publishes are dropped until it returns; ' +
        'local delivery continues',
    );
    this.link = 'down';
    this.downSince = now;
    this.droppedAtDown = this.droppedCount;
  };

  private anyRetrying(): boolean {
    return [this.publisher, this.subscriber].some(
      (connection) => connection.status === 'reconnecting' || connection.status === 'close',
    );
  }

  private readonly onError = (error: Error): void => {
    this.lastError = describeError(error);
  };

  private readonly ping = (): void => {
    for (const connection of [this.publisher, this.subscriber]) {
      if (connection.status !== 'ready') continue;
      // A ping that fails needs nothing more: the socket timeout or close already ends the link.
      connection.ping().catch(() => undefined);
    }
  };

  private warnThrottled(throttle: LogThrottle, line: string): void {
    const suppressed = throttle.take();
    if (suppressed === undefined) return;
    this.logger.warn(suppressed > 0 ? `${line} (${suppressed} more since the last report)` : line);
  }
}

/**
 * What went wrong, for a log line: the error code when there is one (ECONNREFUSED), else the
 * message with any Redis URL in it masked, since a URL may carry a password.
 */
function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/rediss?:\/\/\S*/gi, '<redis url>').slice(0, 200);
}

async function close(connection: RedisConnection): Promise<void> {
  if (connection.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, QUIT_TIMEOUT_MS);
    });
    // QUIT lets the publishes already written reach Redis; a failure means the link is gone.
    await Promise.race([connection.quit().catch(() => undefined), timeout]);
    clearTimeout(timer);
  }
  if (connection.status !== 'end') connection.disconnect();
}
