import type { JsonValue } from '../protocol/json-value';

export type { JsonValue };

/** One message on one topic. */
export interface BusMessage {
  readonly topic: string;
  readonly data: JsonValue;
  /**
   * Id of the publishing connection, when a connection published it. Connection ids are unique
   * across instances, so a subscriber can exclude the sender on every instance.
   */
  readonly sender?: string;
  /** When true, the sender's own connection does not receive the message (room semantics). */
  readonly skipSender?: boolean;
  /** Set on a channel publication that went through history (src/history): its stream epoch. */
  readonly epoch?: string;
  /** With `epoch`: the publication's offset in the channel's stream. */
  readonly offset?: number;
}

export type BusListener = (message: BusMessage) => void;

/** Counters of what went wrong short of an outage, for /metrics; empty for an in-process bus. */
export interface BusProblemCounts {
  /** Frames received from other instances (or forged) and refused, by reason. */
  readonly rejected: ReadonlyMap<string, number>;
  /** Commands the server answered with an error (an ACL denial), by command. */
  readonly commandErrors: ReadonlyMap<string, number>;
  /** Times the subscriber connection was lost after it was ready. */
  readonly subscriberDisconnects: number;
}

const NO_PROBLEMS: BusProblemCounts = {
  rejected: new Map(),
  commandErrors: new Map(),
  subscriberDisconnects: 0,
};

/**
 * Topic-based pub/sub between every instance of Switchboard. Chat, rooms and channels deliver
 * through it and never talk to a transport directly, so swapping the in-memory bus for Redis
 * changes no gateway.
 *
 * Guarantees every implementation keeps:
 * - At-most-once: each listener subscribed to a topic, on any instance, receives a published
 *   message at most once. Nothing is persisted, acknowledged or retried; a message published while
 *   an instance is unreachable is lost for that instance. Nothing is queued for later either: a
 *   publish that cannot leave this instance is dropped and counted in `dropped`.
 * - Per-publisher order: messages published by one caller on one topic reach each listener in the
 *   order they were published. There is no order across publishers or topics.
 * - Publishing never waits on the network: listeners on the publishing instance run synchronously
 *   inside `publish`, before it returns; remote instances are reached best-effort.
 * - Reference counting: `subscribe` and `unsubscribe` are counted per (topic, listener); a topic
 *   costs nothing (no remote subscription, no memory) once its count returns to zero.
 *
 * A listener must not throw; if one does, the bus logs it and still calls the others.
 */
export abstract class Bus {
  abstract publish(message: BusMessage): void;
  abstract subscribe(topic: string, listener: BusListener): void;
  abstract unsubscribe(topic: string, listener: BusListener): void;
  /** Whether messages currently reach other instances (always true for an in-process bus). */
  abstract get connected(): boolean;
  /**
   * Publishes that did not reach (or may not have reached) other instances since boot; local
   * listeners received them all the same. Always 0 for an in-process bus.
   */
  abstract get dropped(): number;
  /** Number of topics with at least one listener on this instance. */
  abstract get topicCount(): number;
  /**
   * Why the bus, though connected, does not carry messages between instances (a server that
   * refuses its commands); undefined while it does. Readiness is down while this is set.
   */
  /**
   * Calls `listener` whenever this instance may have missed messages of other instances and is
   * receiving again (the Redis subscriber connection came back), so that a caller with history
   * can repair the gap. Never called by an in-process bus.
   */
  onResume(listener: () => void): void {
    void listener;
  }
  /**
   * Resolves once messages published on `topic` from now on reach this instance (its remote
   * subscription is in effect); rejects when it is not (no listener, or the network is down).
   * A reader of history waits for it first, so nothing falls between the read and live delivery.
   */
  whenSubscribed(topic: string): Promise<void> {
    void topic;
    return Promise.resolve();
  }
  get problem(): string | undefined {
    return undefined;
  }
  get problemCounts(): BusProblemCounts {
    return NO_PROBLEMS;
  }
}
