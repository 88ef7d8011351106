import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { BusMessage } from '../bus/bus';
import type { RedisBus } from '../bus/redis-bus';
import {
  ChannelHistory,
  HistoryUnavailableError,
  type HistoryRead,
  type Publication,
  type StreamPosition,
} from './channel-history';
import {
  ADD_SCRIPT,
  READ_SCRIPT,
  SHARDED_ADD_SCRIPT,
  type HistoryScript,
} from './redis-history-scripts';

export interface RedisChannelHistoryOptions {
  /** REDIS_PREFIX: keys are `<prefix>history:{<topic>}:stream` and `…:meta`. */
  readonly prefix: string;
  readonly size: number;
  readonly ttlSeconds: number;
}

/** Eviction policies under which Redis never drops a key on its own. */
const SAFE_POLICIES = new Set(['noeviction']);

/**
 * Channel history on Redis: a stream and a meta hash per channel, written by one Lua script per
 * publication (redis-history-scripts.ts) on the bus's publisher connection, which also PUBLISHes
 * the frame with its position to every instance. The bus's connection fails fast: a publish while
 * Redis is unreachable rejects at once, one in flight when the link drops (or stays silent for
 * SOCKET_TIMEOUT_MS) rejects then.
 */
export class RedisChannelHistory extends ChannelHistory {
  private readonly logger = new Logger(RedisChannelHistory.name);

  constructor(
    private readonly bus: RedisBus,
    private readonly options: RedisChannelHistoryOptions,
  ) {
    super();
    // Once, at the first 'ready': CONFIG may be refused (managed Redis), then nothing is said.
    bus.onReady(() => this.checkEvictionPolicy());
  }

  async publish(message: BusMessage): Promise<StreamPosition> {
    const { channel, frame } = this.bus.frameOf(message);
    const { size, ttlSeconds } = this.options;
    const script = this.bus.sharded ? SHARDED_ADD_SCRIPT : ADD_SCRIPT;
    const reply = await this.run(script, message.topic, [
      frame,
      size,
      ttlSeconds,
      channel,
      freshEpoch(),
    ]);
    const [epoch, offset] = reply as [string, number];
    return { epoch, offset: Number(offset) };
  }

  async read(topic: string, since?: number): Promise<HistoryRead> {
    const from = since === undefined ? '' : String(Math.max(since, 0) + 1);
    const reply = await this.run(READ_SCRIPT, topic, [freshEpoch(), this.options.ttlSeconds, from]);
    const [epoch, offset, entries] = reply as [string, number, [string, string[]][]];
    const publications: Publication[] = [];
    for (const [id, fields] of entries) {
      const message = this.bus.decodeStored(topic, fields[1]);
      // A forged or corrupt entry is left out: the gap it leaves reads as recovered:false.
      if (message !== undefined)
        publications.push({ offset: parseInt(id, 10), data: message.data });
    }
    return { position: { epoch, offset: Number(offset) }, publications };
  }

  private async run(
    script: HistoryScript,
    topic: string,
    args: (string | number)[],
  ): Promise<unknown> {
    const connection = this.bus.commands;
    if (connection.status !== 'ready') throw new HistoryUnavailableError();
    const base = `${this.options.prefix}history:{${topic}}`;
    const keys = [`${base}:stream`, `${base}:meta`];
    try {
      return await connection.evalsha(script.sha, 2, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) {
        throw new HistoryUnavailableError(error);
      }
    }
    try {
      return await connection.eval(script.lua, 2, ...keys, ...args);
    } catch (error) {
      throw new HistoryUnavailableError(error);
    }
  }

  private checkEvictionPolicy(): void {
    this.bus.commands.config('GET', 'maxmemory-policy').then(
      (reply) => {
        const policy = Array.isArray(reply) ? String(reply[1]) : undefined;
        if (policy === undefined || SAFE_POLICIES.has(policy)) return;
        this.logger.warn(
          `Redis maxmemory-policy is "${policy}": under memory pressure it can evict channel ` +
            'history, and subscribers resuming then get recovered:false (set noeviction)',
        );
      },
      () => undefined,
    );
  }
}

/** Offered to the scripts each call; used only when the channel has no epoch. */
function freshEpoch(): string {
  return randomBytes(8).toString('base64url');
}
