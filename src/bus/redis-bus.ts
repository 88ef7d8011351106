import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Clock } from '../common/clock';
import type { PayloadBounds } from '../limits/payload-limits';
import { Bus, type BusListener, type BusMessage, type BusProblemCounts } from './bus';
import { BusFrameCodec, maxFrameBytes, type FrameRejection } from './bus-frame';
import type { EnvelopeError } from './envelope';
import { ListenerTable } from './listener-table';
import { LogThrottle } from './log-throttle';
import type { RedisTarget } from '../config/redis-target';
import {
  ClusterLink,
  clusterOptions,
  connectCluster,
  type ClusterConnector,
} from './redis-cluster-link';
import {
  HEARTBEAT_MS,
  openSingleLink,
  type RedisConnection,
  type RedisConnector,
  type RedisLink,
} from './redis-connection';

export interface RedisBusOptions {
  /** REDIS_URL or REDIS_CLUSTER_NODES. May hold a password: never logged. */
  readonly target: RedisTarget;
  /**
   * REDIS_PREFIX: the Redis channel of a topic is prefix + topic on one Redis, and
   * prefix + `{topic}` on a cluster (the hash tag of the topic's history and presence keys).
   */
  readonly prefix: string;
  /** This instance's id: envelopes carrying it as origin are our own, already delivered. */
  readonly instance: string;
  /** BUS_SECRET: when set, frames are signed and unsigned or badly signed ones refused. */
  readonly secret?: string;
  /** MAX_MESSAGE_BYTES: frames larger than maxFrameBytes of it are refused unread. */
  readonly maxMessageBytes: number;
  /** MAX_PAYLOAD_DEPTH and MAX_PAYLOAD_ENTRIES: the shape a message's data may have. */
  readonly payloadBounds?: PayloadBounds;
  readonly clock: Clock;
  /** Opens the two connections to one Redis; ioredis unless a spec passes a fake. */
  readonly connect?: RedisConnector;
  /** Opens the cluster client; ioredis's Cluster unless a spec passes a fake. */
  readonly connectCluster?: ClusterConnector;
  /** Interval of the PING that notices a silent Redis; default HEARTBEAT_MS. */
  readonly heartbeatMs?: number;
  /**
   * MAX_PENDING_PUBLISHES: publishes allowed on the wire without an answer before more are
   * dropped (a stalled Redis).
   */
  readonly maxPendingPublishes: number;
}
/** How long shutdown waits for QUIT before closing the sockets anyway. */
const QUIT_TIMEOUT_MS = 500;
/** At most one log line per kind of repeated problem per interval. */
const PROBLEM_LOG_INTERVAL_MS = 10_000;
/**
 * How long readiness stays down after Redis refused a PUBLISH, unless one succeeds first. Nothing
 * probes PUBLISH, so without traffic a refusal is assumed to persist this long only.
 */
export const PUBLISH_REFUSAL_HOLD_MS = 10_000;

const MALFORMED: ReadonlySet<FrameRejection> = new Set<EnvelopeError>([
  'invalid-json',
  'not-an-object',
  'unknown-version',
  'invalid-field',
]);

/**
 * The bus shared by every instance through Redis pub/sub: one publisher and one subscriber
 * connection per instance, whatever the number of sockets and topics.
 *
 * - `publish` writes one frame (bus-frame.ts) to the topic's channel, then delivers to local
 *   listeners synchronously. Redis pub/sub has no "not to myself": the frame comes back to this
 *   instance too, which recognises it by a byte-prefix compare (its origin comes first) before
 *   any decoding, HMAC or JSON.parse, so every listener gets each message once.
 * - Frames from the bus are held to the limits of client input (size, depth) and, with a
 *   BUS_SECRET, to a valid HMAC; the others are refused, counted by reason, logged throttled.
 * - A command Redis refuses (an ACL without +publish or +subscribe) is logged, counted, and
 *   reported as `problem` (readiness 503); refused subscriptions are retried every heartbeat.
 * - A channel is subscribed when its topic gets its first local listener and unsubscribed when it
 *   loses its last one.
 * - Redis going away never blocks anything: local delivery goes on, publishes that cannot be sent
 *   are dropped and counted, `connected` turns false (readiness answers 503), one warning is
 *   logged. ioredis reconnects on its own (at most a second apart) and resubscribes; topics
 *   whose subscription changed meanwhile are settled on reconnection.
 * - Per-publisher order holds across instances: one publisher connection writes in call order,
 *   Redis relays a channel in order, the subscriber dispatches in arrival order.
 * - Channel history (src/history) publishes through a Lua script on the publisher connection;
 *   its frames come back as `#<epoch>:<offset>:<frame>` and are delivered on every instance,
 *   this one included, with their position. `onResume` tells the history's sequencer when the
 *   subscriber came back after a loss, and `whenSubscribed` when a new topic's SUBSCRIBE holds.
 */
export class RedisBus extends Bus implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisBus.name);
  private readonly listeners = new ListenerTable(this.logger);
  private readonly publisher: RedisConnection;
  private readonly subscriber: RedisConnection;
  /** On a Redis Cluster: SPUBLISH and SSUBSCRIBE, channels tagged `{topic}`. */
  readonly sharded: boolean;
  /**
   * Topics whose SUBSCRIBE or UNSUBSCRIBE did not reach Redis (issued while the subscriber was
   * down, or lost with it). On the next 'ready' each is subscribed or unsubscribed according to
   * whether it has listeners then.
   */
  private readonly unsettled = new Set<string>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly frames: BusFrameCodec;
  private readonly malformedLog: LogThrottle;
  private readonly commandLog: LogThrottle;
  private readonly backlogLog: LogThrottle;
  private link: 'connecting' | 'up' | 'down' = 'connecting';
  private downSince = 0;
  private droppedAtDown = 0;
  private lastError?: string;
  private droppedCount = 0;
  private readonly rejected = new Map<FrameRejection, number>();
  private readonly commandErrors = new Map<string, number>();
  private subscriberDisconnects = 0;
  private subscriberWasReady = false;
  /**
   * The publisher connection went down during the outage under way. When it did not, only the
   * subscriber was lost (Redis cut it for its output buffer, say) and no publish was dropped.
   */
  private publisherLost = false;
  private subscribeRefused = false;
  /** When Redis last refused a PUBLISH, while no PUBLISH succeeded since; else undefined. */
  private publishRefusedAt?: number;
  private closing = false;
  private readonly resumeListeners: (() => void)[] = [];
  /** SUBSCRIBEs sent and not yet confirmed, by topic (see whenSubscribed). */
  private readonly pendingSubscriptions = new Map<string, Promise<unknown>>();
  /** The subscriber was lost after being ready: its next 'ready' may follow missed messages. */
  private subscriberMissed = false;

  constructor(private readonly options: RedisBusOptions) {
    super();
    this.malformedLog = new LogThrottle(PROBLEM_LOG_INTERVAL_MS, options.clock);
    this.commandLog = new LogThrottle(PROBLEM_LOG_INTERVAL_MS, options.clock);
    this.backlogLog = new LogThrottle(PROBLEM_LOG_INTERVAL_MS, options.clock);
    this.frames = new BusFrameCodec({
      instance: options.instance,
      secret: options.secret,
      maxBytes: maxFrameBytes(options.maxMessageBytes),
      payloadBounds: options.payloadBounds,
    });
    const link = openLink(options);
    this.publisher = link.publisher;
    this.subscriber = link.subscriber;
    this.sharded = link.sharded;
    for (const connection of [this.publisher, this.subscriber]) {
      connection.on('ready', this.onLinkChange);
      connection.on('close', this.onLinkChange);
      // ioredis reports every failed attempt here; the outage warning says it once.
      connection.on('error', this.onError);
    }
    this.subscriber.on('ready', this.onSubscriberReady);
    this.subscriber.on('close', this.onSubscriberClosed);
    this.publisher.on('close', this.onPublisherClosed);
    this.subscriber.on('messageBuffer', this.onMessage);
    this.heartbeat = setInterval(this.ping, options.heartbeatMs ?? HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  publish(message: BusMessage): void {
    // Redis first: a listener that publishes in turn then cannot overtake this message remotely.
    this.forward(message);
    this.listeners.dispatch(message);
  }

  /** Calls `listener` once, when the publisher connection is first ready. */
  onReady(listener: () => void): void {
    if (this.publisher.status === 'ready') listener();
    else this.publisher.once('ready', listener);
  }

  override onResume(listener: () => void): void {
    this.resumeListeners.push(listener);
  }

  override whenSubscribed(topic: string): Promise<void> {
    if (!this.listeners.has(topic) || this.unsettled.has(topic) || !this.connected) {
      return Promise.reject(new Error(`"${topic}" is not subscribed on Redis`));
    }
    const pending = this.pendingSubscriptions.get(topic);
    return pending ? pending.then(() => undefined) : Promise.resolve();
  }

  /** The connection the channel history runs its scripts on; it answers in order with PUBLISH. */
  get commands(): RedisConnection {
    return this.publisher;
  }

  /** The Redis channel of `topic` and the frame of `message` on it, as `publish` would send. */
  frameOf(message: BusMessage): { readonly channel: string; readonly frame: string } {
    const channel = this.channelOf(message.topic);
    return { channel, frame: this.frames.encode(channel, message) };
  }

  /** Decodes a frame read back from history (the signature checked as on the wire), or undefined. */
  decodeStored(topic: string, frame: string): BusMessage | undefined {
    const channel = this.channelOf(topic);
    const decoded = this.frames.decode(channel, Buffer.from(frame), true);
    if (decoded.kind === 'envelope') return { topic, ...decoded.envelope };
    if (decoded.kind === 'rejected') this.onRejected(channel, decoded.reason);
    return undefined;
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
   * Publishes not sent (Redis unreachable, or maxPendingPublishes unanswered) or lost with the
   * connection before Redis answered them; the latter may have reached other instances.
   */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Envelopes received and ignored because they were malformed or of an unknown version. */
  get malformed(): number {
    let count = 0;
    for (const [reason, total] of this.rejected) if (MALFORMED.has(reason)) count += total;
    return count;
  }

  override get problem(): string | undefined {
    if (!this.connected) return undefined;
    if (this.subscribeRefused) {
      return 'Redis refuses SUBSCRIBE: messages from the other instances do not arrive';
    }
    if (
      this.publishRefusedAt !== undefined &&
      this.options.clock.now() - this.publishRefusedAt < PUBLISH_REFUSAL_HOLD_MS
    ) {
      return 'Redis refuses PUBLISH: messages do not reach the other instances';
    }
    return undefined;
  }

  override get problemCounts(): BusProblemCounts {
    return {
      rejected: this.rejected,
      commandErrors: this.commandErrors,
      subscriberDisconnects: this.subscriberDisconnects,
    };
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
    if (publisher.commandQueue.length >= this.options.maxPendingPublishes) {
      this.droppedCount++;
      this.warnThrottled(
        this.backlogLog,
        `Redis has ${this.options.maxPendingPublishes} publishes unanswered: dropping publishes until it catches up`,
      );
      return;
    }
    const channel = this.channelOf(message.topic);
    let payload: string;
    try {
      payload = this.frames.encode(channel, message);
    } catch (error) {
      this.droppedCount++;
      this.logger.error(`Cannot encode a message on topic "${message.topic}"`, error as Error);
      return;
    }
    publisher.publish(channel, payload).then(this.onPublished, this.onPublishFailed);
  }

  private readonly onPublished = (): void => {
    this.publishRefusedAt = undefined;
  };

  private readonly onPublishFailed = (error: unknown): void => {
    this.droppedCount++;
    // Any other rejection means the connection dropped first: the outage is logged once elsewhere.
    if (!isReplyError(error)) return;
    this.publishRefusedAt = this.options.clock.now();
    this.onCommandError('PUBLISH', error, 'the message did not reach the other instances');
  };

  private onCommandError(command: string, error: unknown, consequence: string): void {
    this.commandErrors.set(command, (this.commandErrors.get(command) ?? 0) + 1);
    this.warnThrottled(
      this.commandLog,
      `Redis refused ${command} (${describeError(error)}): ${consequence}`,
    );
  }

  private sync(topic: string, wanted: boolean): void {
    if (this.subscriber.status !== 'ready') {
      this.unsettled.add(topic);
      return;
    }
    const channel = this.channelOf(topic);
    const command = wanted
      ? this.subscriber.subscribe(channel)
      : this.subscriber.unsubscribe(channel);
    const settled = command.then(
      () => this.onSynced(wanted),
      (error: unknown) => {
        this.onSyncFailed([topic], wanted, error);
        throw error;
      },
    );
    if (!wanted) {
      // onSyncFailed has dealt with a failure; nobody waits on an unsubscribe.
      settled.catch(() => undefined);
      return;
    }
    this.pendingSubscriptions.set(topic, settled);
    const forget = () => {
      if (this.pendingSubscriptions.get(topic) === settled) this.pendingSubscriptions.delete(topic);
    };
    settled.then(forget, forget);
  }

  private onSynced(wanted: boolean): void {
    if (wanted) this.subscribeRefused = false;
  }

  private onSyncFailed(topics: readonly string[], wanted: boolean, error: unknown): void {
    for (const topic of topics) this.unsettled.add(topic);
    // Failing because the connection dropped is part of the outage; anything else is worth a line.
    if (this.closing || this.subscriber.status !== 'ready') return;
    if (wanted) this.subscribeRefused = true;
    this.onCommandError(
      wanted ? 'SUBSCRIBE' : 'UNSUBSCRIBE',
      error,
      `${topics.length} topic(s) retried every heartbeat`,
    );
  }

  private readonly onPublisherClosed = (): void => {
    this.publisherLost = true;
  };

  private readonly onSubscriberReady = (): void => {
    this.subscriberWasReady = true;
    this.settleSubscriptions();
    if (!this.subscriberMissed) return;
    this.subscriberMissed = false;
    // ioredis resubscribes on 'ready' without waiting: a PING answered after those SUBSCRIBEs
    // means messages flow again, so a history read from then on misses nothing.
    const resume = (): void => {
      for (const listener of this.resumeListeners) listener();
    };
    this.subscriber.ping().then(resume, resume);
  };

  /**
   * Redis closes a subscriber that reads too slowly (client-output-buffer-limit pubsub) and
   * nothing replays what it had queued for it: the loss is counted here, apart from `dropped`,
   * which counts this instance's own publishes.
   */
  private readonly onSubscriberClosed = (): void => {
    if (!this.subscriberWasReady || this.closing) return;
    this.subscriberWasReady = false;
    this.subscriberMissed = true;
    this.subscriberDisconnects++;
  };

  private readonly settleSubscriptions = (): void => {
    if (this.unsettled.size === 0 || this.subscriber.status !== 'ready') return;
    const wanted: string[] = [];
    const unwanted: string[] = [];
    for (const topic of this.unsettled) (this.listeners.has(topic) ? wanted : unwanted).push(topic);
    this.unsettled.clear();
    if (wanted.length > 0) {
      this.subscriber.subscribe(...wanted.map((topic) => this.channelOf(topic))).then(
        () => this.onSynced(true),
        (error: unknown) => this.onSyncFailed(wanted, true, error),
      );
    }
    // ioredis may just have resubscribed these from before the outage.
    if (unwanted.length > 0) {
      this.subscriber
        .unsubscribe(...unwanted.map((topic) => this.channelOf(topic)))
        .catch((error: unknown) => this.onSyncFailed(unwanted, false, error));
    }
  };

  private readonly onMessage = (rawChannel: Buffer, frame: Buffer): void => {
    const channel = rawChannel.toString();
    const topic = this.topicOf(channel);
    if (topic === undefined) return;
    if (frame[0] === HISTORY_MARK) {
      this.onHistoryFrame(channel, topic, frame);
      return;
    }
    const decoded = this.frames.decode(channel, frame);
    if (decoded.kind === 'own') return;
    if (decoded.kind === 'rejected') {
      this.onRejected(channel, decoded.reason);
      return;
    }
    const { origin, data, sender, skipSender } = decoded.envelope;
    // Our origin without our encoder's prefix: not written by this instance, yet claiming to be.
    if (origin === this.options.instance) return;
    this.listeners.dispatch({ topic, data, sender, skipSender });
  };

  /** The Redis channel of `topic` (see RedisBusOptions.prefix). */
  private channelOf(topic: string): string {
    return this.sharded ? `${this.options.prefix}{${topic}}` : this.options.prefix + topic;
  }

  /** The topic of a Redis channel, or undefined when it is none of this deployment's. */
  private topicOf(channel: string): string | undefined {
    const { prefix } = this.options;
    if (!channel.startsWith(prefix)) return undefined;
    if (!this.sharded) return channel.slice(prefix.length);
    const tagged = channel.slice(prefix.length);
    return tagged.startsWith('{') && tagged.endsWith('}') ? tagged.slice(1, -1) : undefined;
  }

  /**
   * A channel publication relayed by the history script: `#<epoch>:<offset>:<frame>`. The frame is
   * checked as any other (our own included, never skipped: local delivery waits for the offset);
   * the header is not covered by the signature, see docs/scaling.md.
   */
  private onHistoryFrame(channel: string, topic: string, frame: Buffer): void {
    const header = parseHistoryHeader(frame);
    if (header === undefined) {
      this.onRejected(channel, 'invalid-field');
      return;
    }
    const decoded = this.frames.decode(channel, frame.subarray(header.length), true);
    if (decoded.kind !== 'envelope') {
      if (decoded.kind === 'rejected') this.onRejected(channel, decoded.reason);
      return;
    }
    const { data, sender, skipSender } = decoded.envelope;
    const { epoch, offset } = header;
    this.listeners.dispatch({ topic, data, sender, skipSender, epoch, offset });
  }

  private onRejected(channel: string, reason: FrameRejection): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
    this.warnThrottled(this.malformedLog, `Ignored an envelope on "${channel}": ${reason}`);
  }

  private readonly onLinkChange = (): void => {
    if (this.closing) return;
    const now = this.options.clock.now();
    if (this.connected) {
      if (this.link === 'down') {
        const seconds = ((now - this.downSince) / 1000).toFixed(1);
        const dropped = this.droppedCount - this.droppedAtDown;
        this.logger.log(this.restoredLine(seconds, dropped));
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
    this.publisherLost = this.publisher.status !== 'ready';
    const head = this.link === 'up' ? 'Lost the Redis connection' : 'Cannot reach Redis';
    this.logger.warn(
      this.sharded
        ? `${head} (a Redis Cluster shard or more)${reason}: until a replica takes over or ` +
            'the primary returns, publishes to its channels are dropped and what the other ' +
            'instances publish there is lost for this one; the other shards and local ' +
            'delivery continue'
        : `${head}${reason}: cross-instance delivery is paused and publishes are dropped ` +
            'until it returns; what the other instances publish meanwhile is lost for this ' +
            'one; local delivery continues',
    );
    this.link = 'down';
    this.downSince = now;
    this.droppedAtDown = this.droppedCount;
  };

  /** What an outage ended with; a lone subscriber loss on one Redis has a likely cause. */
  private restoredLine(seconds: string, dropped: number): string {
    if (this.sharded) {
      return (
        `Redis connection restored after ${seconds} s (every Redis Cluster shard has a ` +
        `primary again); ${dropped} publish(es) dropped meanwhile`
      );
    }
    if (this.publisherLost) {
      return `Redis connection restored after ${seconds} s; ${dropped} publish(es) dropped meanwhile`;
    }
    return (
      `Redis subscriber connection restored after ${seconds} s; what the other instances ` +
      'published meanwhile did not reach this one (if Redis logged "output buffer limits", ' +
      'raise client-output-buffer-limit pubsub)'
    );
  }

  private anyRetrying(): boolean {
    return [this.publisher, this.subscriber].some(
      (connection) => connection.status === 'reconnecting' || connection.status === 'close',
    );
  }

  private readonly onError = (error: Error): void => {
    this.lastError = describeError(error);
  };

  private readonly ping = (): void => {
    this.settleSubscriptions();
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

/** Both connections on one Redis, or both views of one cluster client. */
function openLink(options: RedisBusOptions): RedisLink {
  const { target, instance } = options;
  if (target.kind === 'single') return openSingleLink(target.url, instance, options.connect);
  const connect = options.connectCluster ?? connectCluster;
  return new ClusterLink(connect(target, clusterOptions(target, instance)), options.heartbeatMs);
}

/** First byte of a history frame: never the first byte of an envelope (`{`) or a signature (hex). */
export const HISTORY_MARK = 0x23; // '#'
const HISTORY_HEADER = /^#([A-Za-z0-9_-]{1,64}):([1-9][0-9]{0,15}):/;

/** The epoch and offset a history frame starts with, and the header's length in bytes. */
function parseHistoryHeader(
  frame: Buffer,
): { readonly epoch: string; readonly offset: number; readonly length: number } | undefined {
  const match = HISTORY_HEADER.exec(frame.toString('latin1', 0, 100));
  if (match === null) return undefined;
  return { epoch: match[1], offset: Number(match[2]), length: match[0].length };
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

/**
 * Whether Redis answered the command with an error (ioredis's ReplyError: NOPERM, WRONGTYPE...),
 * as opposed to the connection failing under it. By name: ioredis's class is untyped.
 */
function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
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
