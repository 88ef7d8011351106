import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ConnectionRegistry } from '../connections/connection-registry';
import { CloseCode, CloseReason } from '../protocol/close-codes';
import { Admission } from '../transport/upgrade/admission';

/**
 * Drains the WebSocket side before the application closes: new upgrades get 503, every open
 * socket is asked to close with 1001 "Server shutting down", and the drain ends when all have
 * closed or SHUTDOWN_TIMEOUT_MS has passed, whichever is first; sockets still open then (a peer
 * that ignores the close) are destroyed, so no peer can hold the process up.
 */
@Injectable()
export class GracefulShutdown {
  private readonly logger = new Logger(GracefulShutdown.name);

  constructor(
    private readonly config: AppConfig,
    private readonly connections: ConnectionRegistry,
    private readonly admission: Admission,
  ) {}

  async drain(): Promise<void> {
    this.admission.startDraining();
    const open = this.connections.size;
    this.logger.log({
      msg: 'draining',
      connections: open,
      timeoutMs: this.config.shutdownTimeoutMs,
    });
    for (const connection of this.connections) {
      if (connection.isOpen) connection.close(CloseCode.GoingAway, CloseReason.ServerShuttingDown);
    }
    const drained = await this.allClosedWithin(this.config.shutdownTimeoutMs);
    if (!drained) {
      const stragglers = this.connections.size;
      for (const connection of this.connections) connection.terminate();
      this.logger.warn({ msg: 'shutdown timeout: terminated sockets', stragglers });
    }
  }

  private allClosedWithin(timeoutMs: number): Promise<boolean> {
    if (this.connections.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.connections.onRemove(() => {
        if (this.connections.size > 0) return;
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
