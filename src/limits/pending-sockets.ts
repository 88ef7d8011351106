import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Logger } from '@nestjs/common';
import { LogThrottle } from '../bus/log-throttle';
import type { Clock } from '../common/clock';

/** At most one warning per this interval for refused sockets, and one for server errors. */
const WARNING_INTERVAL_MS = 10_000;

/**
 * Caps the sockets of the HTTP server that are not WebSockets (yet): every accepted socket
 * counts from its `connection` until it is upgraded or closed. HTTP requests, idle keep-alive
 * sockets and handshakes in progress all count; upgraded sockets are MAX_CONNECTIONS' business.
 * Past MAX_PENDING_SOCKETS a new socket is destroyed at once, before Node allocates a parser for
 * it: a flood of silent sockets then costs one file descriptor each for a moment instead of
 * holding them until HTTP_HEADERS_TIMEOUT_MS, so descriptors are never exhausted by it.
 * A refused client sees a reset (as with a full accept queue) and should retry with backoff.
 */
export class PendingSockets {
  private readonly log = new Logger(PendingSockets.name);
  private readonly tracked = new WeakSet<Duplex>();
  private readonly refusalWarnings: LogThrottle;
  private readonly errorWarnings: LogThrottle;
  private pendingCount = 0;
  /** Sockets destroyed because the cap was reached, since boot. */
  refused = 0;
  /**
   * The 'close' listener of every tracked socket: one function that reads the socket from
   * `this`, removed again at the upgrade, so a WebSocket keeps nothing of this class for its
   * whole life (a `once` closure per socket cost each idle connection about 300 bytes).
   */
  private readonly onSocketClose: (this: Duplex) => void;

  constructor(
    private readonly max: number,
    clock: Clock,
  ) {
    this.refusalWarnings = new LogThrottle(WARNING_INTERVAL_MS, clock);
    this.errorWarnings = new LogThrottle(WARNING_INTERVAL_MS, clock);
    const settle = (socket: Duplex) => this.settle(socket);
    this.onSocketClose = function (this: Duplex) {
      settle(this);
    };
  }

  /** Sockets accepted and neither upgraded nor closed. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Starts counting the sockets of `server`; call before it listens. */
  attach(server: HttpServer): void {
    // Prepended, so a refused socket is gone before Node's HTTP listener sets up its parser.
    server.prependListener('connection', this.onConnection);
    server.prependListener('upgrade', this.onUpgrade);
    server.on('error', this.onServerError);
  }

  detach(server: HttpServer): void {
    server.off('connection', this.onConnection);
    server.off('upgrade', this.onUpgrade);
    server.off('error', this.onServerError);
  }

  private readonly onConnection = (socket: Socket): void => {
    if (this.pendingCount >= this.max) {
      this.refused++;
      socket.destroy();
      this.warn(
        this.refusalWarnings,
        `MAX_PENDING_SOCKETS (${this.max}) reached: new sockets are closed at once`,
      );
      return;
    }
    this.pendingCount++;
    this.tracked.add(socket);
    socket.on('close', this.onSocketClose);
  };

  private readonly onUpgrade = (_request: unknown, socket: Duplex): void => this.settle(socket);

  /**
   * Errors of the listening socket: accept failing with EMFILE/ENFILE (out of descriptors) is
   * the one that matters; Node keeps listening after it, so it is logged, not fatal.
   */
  private readonly onServerError = (error: NodeJS.ErrnoException): void => {
    const code = error.code ?? error.name;
    this.warn(
      this.errorWarnings,
      `HTTP server error ${code}${error.syscall ? ` on ${error.syscall}` : ''}: ${error.message}` +
        (code === 'EMFILE' || code === 'ENFILE'
          ? ' (out of file descriptors: lower MAX_PENDING_SOCKETS or MAX_CONNECTIONS, or raise ulimit -n)'
          : ''),
    );
  };

  private settle(socket: Duplex): void {
    if (!this.tracked.delete(socket)) return;
    this.pendingCount--;
    socket.off('close', this.onSocketClose);
  }

  private warn(throttle: LogThrottle, line: string): void {
    const suppressed = throttle.take();
    if (suppressed === undefined) return;
    this.log.warn(suppressed > 0 ? `${line} (${suppressed} more since the last report)` : line);
  }
}
