import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { ConnectionRegistry } from '../../connections/connection-registry';
import { ConnectionLimits } from '../../limits/connection-limits';
import { UpgradeLimits } from '../../limits/upgrade-limits';

/**
 * Decides, before any WebSocket work, whether an upgrade may proceed; a refusal is an HTTP
 * status the client can see:
 * - 503 while the server drains for shutdown, and past MAX_CONNECTIONS open sockets;
 * - 403 when the request has an Origin header that ALLOWED_ORIGINS does not list. Requests
 *   without Origin (non-browser clients) are allowed: the check protects browsers from
 *   cross-site use of their credentials, which only browsers send Origin for;
 * - 429 past a per-client-IP limit (UpgradeLimits). That check may have to ask Redis: the answer
 *   is then a promise, and draining and MAX_CONNECTIONS are checked again once it resolves.
 */
@Injectable()
export class Admission {
  private draining = false;
  private readonly allowedOrigins?: ReadonlySet<string>;

  constructor(
    private readonly config: AppConfig,
    private readonly connections: ConnectionRegistry,
    private readonly limits: UpgradeLimits,
    private readonly connectionLimits: ConnectionLimits,
  ) {
    if (config.allowedOrigins) this.allowedOrigins = new Set(config.allowedOrigins);
  }

  /**
   * The HTTP status to refuse `request` with, or undefined to let it through; a promise of
   * either only when a per-IP rate has to be looked up. `socket` is the request's socket, which
   * holds a per-IP slot until it closes.
   */
  refusalFor(
    request: IncomingMessage,
    socket: Duplex,
  ): number | undefined | Promise<number | undefined> {
    const refusal = this.instanceRefusal() ?? this.originRefusal(request);
    if (refusal !== undefined) return refusal;
    const limited = this.limits.refusalFor(request, socket);
    if (!(limited instanceof Promise)) return limited;
    return limited.then((status) => status ?? this.instanceRefusal());
  }

  /** 503 while draining or at MAX_CONNECTIONS. */
  private instanceRefusal(): number | undefined {
    if (this.draining) return 503;
    const max = this.connectionLimits.maxConnections;
    if (max !== undefined && this.connections.size >= max) return 503;
    return undefined;
  }

  private originRefusal(request: IncomingMessage): number | undefined {
    const origin = request.headers.origin;
    if (
      origin !== undefined &&
      this.allowedOrigins &&
      !this.allowedOrigins.has(origin.toLowerCase())
    ) {
      return 403;
    }
    return undefined;
  }

  /** From now on every upgrade is refused with 503. */
  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }
}
