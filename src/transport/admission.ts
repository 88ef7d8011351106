import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ConnectionRegistry } from '../connections/connection-registry';

/**
 * Decides, before any WebSocket work, whether an upgrade may proceed; a refusal is an HTTP
 * status the client can see:
 * - 503 while the server drains for shutdown, and past MAX_CONNECTIONS open sockets;
 * - 403 when the request has an Origin header that ALLOWED_ORIGINS does not list. Requests
 *   without Origin (non-browser clients) are allowed: the check protects browsers from
 *   cross-site use of their credentials, which only browsers send Origin for.
 */
@Injectable()
export class Admission {
  private draining = false;
  private readonly allowedOrigins?: ReadonlySet<string>;

  constructor(
    private readonly config: AppConfig,
    private readonly connections: ConnectionRegistry,
  ) {
    if (config.allowedOrigins) this.allowedOrigins = new Set(config.allowedOrigins);
  }

  /** Returns the HTTP status to refuse `request` with, or undefined to let it through. */
  refusalFor(request: IncomingMessage): number | undefined {
    if (this.draining) return 503;
    const origin = request.headers.origin;
    if (
      origin !== undefined &&
      this.allowedOrigins &&
      !this.allowedOrigins.has(origin.toLowerCase())
    ) {
      return 403;
    }
    const max = this.config.maxConnections;
    if (max !== undefined && this.connections.size >= max) return 503;
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
