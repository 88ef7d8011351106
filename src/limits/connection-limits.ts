import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';

/**
 * The limits on what connections may hold, read once from the configuration (defaults and rules
 * in environment.ts). The pieces that enforce them read these fields on their hot paths:
 * - MAX_CONNECTIONS: Admission refuses an upgrade with 503 past it;
 * - MAX_BUFFERED_BYTES: a socket with more unsent data is shed with 1013 (Connection);
 * - MAX_PENDING_FRAMES: frames waiting behind an in-flight handler; past it the dispatcher stops
 *   reading the socket until half of them are handled;
 * - MAX_SUBSCRIPTIONS: channels per /ws/json connection (ChannelsService);
 * - SLOW_CONSUMER_GRACE_MS: how long a shed connection's close may take before it is terminated.
 */
@Injectable()
export class ConnectionLimits {
  /** Undefined: no limit. */
  readonly maxConnections: number | undefined;
  readonly maxBufferedBytes: number;
  readonly maxPendingFrames: number;
  readonly maxSubscriptions: number;
  readonly slowConsumerGraceMs: number;

  constructor(config: AppConfig) {
    this.maxConnections = config.maxConnections;
    this.maxBufferedBytes = config.maxBufferedBytes;
    this.maxPendingFrames = config.maxPendingFrames;
    this.maxSubscriptions = config.maxSubscriptions;
    this.slowConsumerGraceMs = config.slowConsumerGraceMs;
  }
}

/**
 * The limits that bound the gateway's own work rather than a connection's (defaults and rules in
 * environment.ts):
 * - CONNECT_RATE_STORAGE_TIMEOUT_MS: how long an upgrade waits for the connect-rate storage;
 * - MAX_PENDING_PUBLISHES: Redis bus publishes unanswered before more are dropped;
 * - MAX_LOG_LINE_CHARS, MAX_LOG_FIELD_CHARS, LOG_CONNECTION_LINES_PER_SECOND: the size and rate
 *   of log lines. The logger exists before Nest does, so app.factory.ts passes these to logging/
 *   as plain numbers from the configuration; this class lists them with the other limits.
 */
@Injectable()
export class OperationalLimits {
  readonly connectRateStorageTimeoutMs: number;
  readonly maxPendingPublishes: number;
  readonly maxLogLineChars: number;
  readonly maxLogFieldChars: number;
  readonly logConnectionLinesPerSecond: number;

  constructor(config: AppConfig) {
    this.connectRateStorageTimeoutMs = config.connectRate.storageTimeoutMs;
    this.maxPendingPublishes = config.maxPendingPublishes;
    this.maxLogLineChars = config.logLimits.maxLineChars;
    this.maxLogFieldChars = config.logLimits.maxFieldChars;
    this.logConnectionLinesPerSecond = config.logLimits.connectionLinesPerSecond;
  }
}
