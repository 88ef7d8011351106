import { readdirSync, readFileSync } from 'node:fs';
import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { LogThrottle } from '../bus/log-throttle';
import type { Clock } from '../common/clock';

/** How often the descriptors in use are counted. */
export const DESCRIPTOR_CHECK_INTERVAL_MS = 1000;
/** Share of the limit in use from which a warning is logged. */
export const DESCRIPTOR_WARNING_RATIO = 0.9;
const WARNING_INTERVAL_MS = 10_000;

/** Where the numbers come from; undefined where the platform cannot tell (not Linux). */
export interface DescriptorSource {
  open(): number | undefined;
  limit(): number | undefined;
}

/** Linux's /proc: descriptors of this process and its soft limit (`ulimit -n`). */
export const procDescriptors: DescriptorSource = {
  open: () => {
    try {
      return readdirSync('/proc/self/fd').length;
    } catch (error) {
      // Listing them takes a descriptor too: failing for want of one is the answer.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EMFILE' || code === 'ENFILE') return Number.POSITIVE_INFINITY;
      return undefined; // no /proc: not Linux, or a sandbox without it
    }
  },
  limit: () => {
    try {
      const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
      return line ? Number(line[1]) : undefined;
    } catch {
      return undefined;
    }
  },
};

/**
 * Warns (at most every 10 s) when the process has used 90% of its file descriptors. Out of
 * descriptors, accept() fails with EMFILE, and libuv then closes each new connection at once
 * without telling Node: clients are dropped and nothing is logged. Counting the descriptors
 * is the only way to see it coming; MAX_PENDING_SOCKETS is what keeps it from happening.
 */
export class DescriptorWatch implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(DescriptorWatch.name);
  private readonly warnings: LogThrottle;
  private readonly maxOpen?: number;
  private timer?: NodeJS.Timeout;

  constructor(
    clock: Clock,
    private readonly source: DescriptorSource = procDescriptors,
  ) {
    this.warnings = new LogThrottle(WARNING_INTERVAL_MS, clock);
    this.maxOpen = source.limit();
  }

  onModuleInit(): void {
    if (this.maxOpen === undefined || this.source.open() === undefined) return;
    this.timer = setInterval(() => this.check(), DESCRIPTOR_CHECK_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Logs a warning when the descriptors in use reach DESCRIPTOR_WARNING_RATIO of the limit. */
  check(): void {
    const open = this.source.open();
    if (open === undefined || this.maxOpen === undefined) return;
    if (open < this.maxOpen * DESCRIPTOR_WARNING_RATIO) return;
    const suppressed = this.warnings.take();
    if (suppressed === undefined) return;
    const state = open >= this.maxOpen ? 'exhausted' : 'nearly exhausted';
    this.log.warn(
      `File descriptors ${state} (${Math.min(open, this.maxOpen)} of ${this.maxOpen} in use): at the limit ` +
        'accept() fails with EMFILE and new connections are dropped unanswered; lower ' +
        'MAX_PENDING_SOCKETS or MAX_CONNECTIONS, or raise ulimit -n' +
        (suppressed > 0 ? ` (${suppressed} more since the last report)` : ''),
    );
  }
}
