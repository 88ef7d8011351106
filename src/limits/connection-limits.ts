import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';

/**
 * The limits on what connections may hold, read once from the configuration (defaults and rules
 * in environment.ts). The pieces that enforce them read these fields on their hot paths:
 * - MAX_CONNECTIONS: Admission refuses an upgrade with 503 past it;
 * - MAX_BUFFERED_BYTES: a socket with more unsent data is shed with 1013 (Connection);
 * - MAX_PENDING_FRAMES: frames waiting behind an in-flight handler; past it the dispatcher stops
 *   reading the socket until half of them are handled;
 * - MAX_SUBSCRIPTIONS: channels per /ws/json connection (ChannelsService).
 */
@Injectable()
export class ConnectionLimits {
  /** Undefined: no limit. */
  readonly maxConnections: number | undefined;
  readonly maxBufferedBytes: number;
  readonly maxPendingFrames: number;
  readonly maxSubscriptions: number;

  constructor(config: AppConfig) {
    this.maxConnections = config.maxConnections;
    this.maxBufferedBytes = config.maxBufferedBytes;
    this.maxPendingFrames = config.maxPendingFrames;
    this.maxSubscriptions = config.maxSubscriptions;
  }
}
