import { STATUS_CODES } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import type { Clock } from '../common/clock';

/** Length of a sampling window: one second, so the burst is a rate per second. */
export const CONNECTION_LOG_WINDOW_MS = 1000;

export interface ConnectionLogOptions {
  /**
   * LOG_CONNECTION_LINES_PER_SECOND: lines of each kind (connection, refused upgrade) written per
   * window before sampling starts.
   */
  readonly linesPerSecond: number;
  /** MAX_LOG_FIELD_CHARS: longest request path a refusal line keeps. */
  readonly maxPathChars: number;
}

export interface ConnectionLine {
  readonly endpoint: string;
  readonly id: string;
}

export interface ClosedLine extends ConnectionLine {
  readonly code: number;
  readonly durationMs: number;
}

export interface RefusedLine {
  readonly status: number;
  readonly reason: string;
  /** The request path, query left out: a query may carry a token. */
  readonly path: string;
  readonly remoteAddress?: string;
}

/**
 * The adapter's lines about WebSocket connections: "connection open", "connection closed",
 * "upgrade refused". Under churn they are sampled rather than written one per event:
 *
 * - each window of CONNECTION_LOG_WINDOW_MS writes at most `linesPerSecond` connection lines
 *   (open and close together) and `linesPerSecond` refusal lines, in full;
 * - the rest are counted, and one "connection lines sampled" line per window that held some
 *   back gives the counts: opened, closed, refused by status. The counts of every window add up
 *   to every event, so nothing goes unaccounted, only unitemised.
 *
 * The summary is written when the window ends (an unref'd timer) or, at the latest, with the
 * next line after it. /metrics counts every close and refusal exactly, whatever the sampling.
 */
export class ConnectionLog {
  private windowStart = -Infinity;
  private connectionLines = 0;
  private refusedLines = 0;
  private opened = 0;
  private closed = 0;
  private readonly refused = new Map<number, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly log: LoggerService,
    private readonly clock: Clock,
    private readonly options: ConnectionLogOptions,
  ) {}

  open(line: ConnectionLine): void {
    if (this.allowConnectionLine()) this.log.log({ msg: 'connection open', ...line });
    else this.opened++;
  }

  close(line: ClosedLine): void {
    if (this.allowConnectionLine()) this.log.log({ msg: 'connection closed', ...line });
    else this.closed++;
  }

  /** A 4xx refusal is the client's doing: info, not a warning. A 5xx is ours: warn. */
  refuse(line: RefusedLine): void {
    this.roll();
    if (this.refusedLines < this.options.linesPerSecond) {
      this.refusedLines++;
      const entry = {
        msg: 'upgrade refused',
        ...line,
        path: line.path.slice(0, this.options.maxPathChars),
      };
      if (line.status >= 500) this.log.warn(entry);
      else this.log.log(entry);
      return;
    }
    this.refused.set(line.status, (this.refused.get(line.status) ?? 0) + 1);
    this.armSummary();
  }

  /** Writes the counts held back so far, if any; the window goes on. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.opened === 0 && this.closed === 0 && this.refused.size === 0) return;
    this.log.log({
      msg: 'connection lines sampled',
      windowMs: CONNECTION_LOG_WINDOW_MS,
      opened: this.opened,
      closed: this.closed,
      refused: Object.fromEntries(this.refused),
    });
    this.opened = 0;
    this.closed = 0;
    this.refused.clear();
  }

  /** Stops the summary timer; what was held back is written first. */
  dispose(): void {
    this.flush();
  }

  private allowConnectionLine(): boolean {
    this.roll();
    if (this.connectionLines < this.options.linesPerSecond) {
      this.connectionLines++;
      return true;
    }
    this.armSummary();
    return false;
  }

  private roll(): void {
    const now = this.clock.now();
    if (now - this.windowStart < CONNECTION_LOG_WINDOW_MS) return;
    this.flush();
    this.windowStart = now;
    this.connectionLines = 0;
    this.refusedLines = 0;
  }

  private armSummary(): void {
    if (this.timer) return;
    const remaining = this.windowStart + CONNECTION_LOG_WINDOW_MS - this.clock.now();
    this.timer = setTimeout(() => this.flush(), Math.max(remaining, 0));
    this.timer.unref();
  }
}

/** Why the adapter refused an upgrade with `status`, for the "upgrade refused" line. */
export function refusalReason(status: number, draining: boolean): string {
  switch (status) {
    case 404:
      return 'no endpoint at this path';
    case 403:
      return 'origin not allowed';
    case 503:
      return draining ? 'shutting down' : 'MAX_CONNECTIONS reached';
    default:
      return STATUS_CODES[status] ?? 'refused';
  }
}
