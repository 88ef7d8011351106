import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Scheduler, type ScheduledTask } from '../common/scheduler';
import { AppConfig } from '../config/app-config';
import { ConnectionRegistry } from '../connections/connection-registry';
import { jsonReply, JsonMessageType } from '../protocol/json-messages';
import { sendPrepared } from '../transport/socket/fan-out';
import { PreparedFrame } from '../transport/socket/prepared-frame';

/**
 * Keeps every connection honest with one sweep per HEARTBEAT_INTERVAL_MS over all sockets, not
 * a timer per socket or per message.
 *
 * Each sweep terminates the sockets that have not answered the previous sweep's protocol ping
 * (their `alive` flag is still clear), then clears the flag and pings the rest. A pong sets the
 * flag again. JSON clients also get an application-level `{"type":"ping","data":{}}`, which
 * browsers can see (they answer protocol pings silently).
 */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HeartbeatService.name);
  private readonly jsonPing = PreparedFrame.of(JSON.stringify(jsonReply(JsonMessageType.ping, {})));
  private timer: ScheduledTask | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly connections: ConnectionRegistry,
    private readonly scheduler: Scheduler,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = this.scheduler.every(this.config.heartbeatIntervalMs, () => this.sweep());
  }

  onApplicationShutdown(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** One heartbeat round; returns the number of sockets terminated. */
  sweep(): number {
    let terminated = 0;
    for (const connection of this.connections) {
      if (!connection.alive) {
        this.logger.debug(`Connection ${connection.id} missed a heartbeat: terminating`);
        connection.terminate();
        terminated++;
        continue;
      }
      if (!connection.isOpen) continue;
      connection.alive = false;
      connection.ping();
      if (connection.endpoint.format === 'json') sendPrepared(connection, this.jsonPing);
    }
    return terminated;
  }
}
