import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { WsAdapter } from '@nestjs/platform-ws';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { SystemClock } from '../common/clock';
import type { AppConfig } from '../config/app-config';
import type { ConnectionRegistry } from '../connections/connection-registry';
import type { ConnectionLimits, OperationalLimits } from '../limits/connection-limits';
import { CloseCode } from '../protocol/close-codes';
import type { EndpointDefinition } from '../protocol/endpoints';
import { ErrorMessages } from '../protocol/text-messages';
import { ConnectionLog, refusalReason } from '../logging/connection-log';
import type { TransportStats } from '../metrics/transport-stats';
import type { Admission } from './upgrade/admission';
import { Connection, type ConnectionHost } from './socket/connection';
import type { ConnectionGuard, GuardVerdict } from './upgrade/connection-guard';
import type { EndpointGatewayOptions } from './endpoint-gateway.decorator';
import type { EndpointHandlers } from './dispatch/gateway-handlers';
import type { InstanceId } from '../common/instance-id';
import type { MessageDispatcher } from './dispatch/message-dispatcher';
import { PathRouter, type RouteMatch } from './upgrade/path-router';
import { ignoreSocketError, refuseUpgrade } from './upgrade/upgrade-refusal';
import { WriteBatcher } from './socket/write-batcher';

function markAlive(this: WebSocket): void {
  (this as Connection).alive = true;
}

export interface SwitchboardAdapterDependencies {
  readonly config: AppConfig;
  readonly connections: ConnectionRegistry;
  readonly dispatcher: MessageDispatcher;
  readonly instanceId: InstanceId;
  /**
   * The transport's own checks (the id rule), run in order on every accepted socket before the
   * guards of the gateway's class; the first refusal closes it with 1008.
   */
  readonly guards: readonly ConnectionGuard[];
  readonly admission: Admission;
  /** MAX_BUFFERED_BYTES, which every connection's sends are checked against. */
  readonly limits: ConnectionLimits;
  readonly operationalLimits: OperationalLimits;
  readonly stats: TransportStats;
}

interface Route {
  readonly endpoint: EndpointDefinition;
  readonly server: WebSocketServer;
  /** The transport's checks, then the gateway's class guards. */
  readonly guards: readonly ConnectionGuard[];
}

/**
 * The stock WsAdapter, extended with what a multi-endpoint server needs:
 *
 * - One `upgrade` listener on the application's HTTP server routes every upgrade through a
 *   PathRouter, so gateways declare patterns (`/ws/room/:roomId`) and receive decoded params.
 *   An upgrade to no route gets HTTP 404 instead of the stock adapter's silent reset; Admission
 *   answers 403 (origin), 429 (per-IP limits) and 503 (draining, MAX_CONNECTIONS) before any
 *   WebSocket work.
 * - Connection guards (the id rule for path parameters, then the guards declared on the gateway
 *   class with @UseGuards, such as JwtAuthGuard) run once the socket is open; a refusal closes it
 *   with 1008 and a reason, and the gateway never sees the socket.
 * - Frames go through MessageDispatcher with plain calls instead of a per-message RxJS pipeline;
 *   so do pings, which ws does not answer by itself (autoPong off). The handlers are those of
 *   buildGatewayHandlers, not the callbacks Nest binds per socket (which would run the class
 *   guards again on every message).
 * - Frames over MAX_MESSAGE_BYTES are refused by ws itself (maxPayload) with 1009, before they
 *   are buffered.
 */
export class SwitchboardWsAdapter extends WsAdapter {
  private readonly log = new Logger(SwitchboardWsAdapter.name);
  /** Open, close and refusal lines, sampled under churn. */
  private readonly connectionLog: ConnectionLog;
  private readonly router = new PathRouter<Route>();
  private listeningServer?: HttpServer;
  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) =>
    this.routeUpgrade(request, socket, head);
  private readonly onMessage: (this: WebSocket, data: RawData, isBinary: boolean) => void;
  private readonly onPing: (this: WebSocket, data: Buffer) => void;
  private readonly host: ConnectionHost;
  private gateways: EndpointHandlers = new Map();

  constructor(
    app: INestApplicationContext,
    private readonly deps: SwitchboardAdapterDependencies,
  ) {
    super(app);
    const { dispatcher } = deps;
    this.host = {
      stats: deps.stats,
      maxBufferedBytes: deps.limits.maxBufferedBytes,
      slowConsumerGraceMs: deps.limits.slowConsumerGraceMs,
      batcher: new WriteBatcher(),
    };
    this.connectionLog = new ConnectionLog(this.log, new SystemClock(), {
      linesPerSecond: deps.operationalLimits.logConnectionLinesPerSecond,
      maxPathChars: deps.operationalLimits.maxLogFieldChars,
    });
    // One function shared by every socket: ws calls it with `this` bound to the socket.
    this.onMessage = function (this: WebSocket, data: RawData, isBinary: boolean) {
      dispatcher.dispatch(this as Connection, data, isBinary);
    };
    this.onPing = function (this: WebSocket, data: Buffer) {
      dispatcher.ping(this as Connection, data);
    };
  }

  override create(port: number, options?: Partial<EndpointGatewayOptions>): WebSocketServer {
    const endpoint = options?.endpoint;
    if (port !== 0 || !endpoint) {
      throw new Error(
        'Switchboard gateways share the HTTP server: declare them with @EndpointGateway and no port',
      );
    }
    const server = new WebSocketServer({
      noServer: true,
      maxPayload: this.deps.config.maxMessageBytes,
      perMessageDeflate: false,
      // Pings are answered by MessageDispatcher.ping: rate-limited, and shed like any send.
      autoPong: false,
      WebSocket: Connection,
    });
    const gateway = this.gateways.get(endpoint);
    if (!gateway)
      throw new Error(`No gateway handlers for ${endpoint.path}: see buildGatewayHandlers`);
    const guards = gateway.connectionGuard
      ? [...this.deps.guards, gateway.connectionGuard]
      : this.deps.guards;
    this.router.add(endpoint.path, { endpoint, server, guards });
    this.listen();
    return server;
  }

  /** Nest's per-socket callbacks are not used: see buildGatewayHandlers. */
  override bindMessageHandlers(client: Connection, _handlers: MessageMappingProperties[]): void {
    client.on('message', this.onMessage);
    client.on('ping', this.onPing);
  }

  /** What runs for each endpoint (see buildGatewayHandlers); before the gateways bind. */
  useGatewayHandlers(gateways: EndpointHandlers): void {
    this.gateways = gateways;
    this.deps.dispatcher.useGatewayHandlers(gateways);
  }

  override async dispose(): Promise<void> {
    this.listeningServer?.off('upgrade', this.onUpgrade);
    this.listeningServer = undefined;
    this.connectionLog.dispose();
    await super.dispose();
  }

  private listen(): void {
    if (this.listeningServer) return;
    const httpServer = this.httpServer as HttpServer | undefined;
    if (!httpServer) throw new Error('SwitchboardWsAdapter needs the application HTTP server');
    httpServer.on('upgrade', this.onUpgrade);
    this.listeningServer = httpServer;
  }

  private routeUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const match = this.router.match(path);
    if (!match) {
      this.refuse(request, socket, 404);
      return;
    }
    const status = this.deps.admission.refusalFor(request, socket);
    if (!(status instanceof Promise)) {
      this.upgrade(request, socket, head, match, status);
      return;
    }
    // Node removed its own error listener when it emitted 'upgrade', and ws adds one only in
    // handleUpgrade: until then a reset from the client would be an uncaught error. Kept on a
    // refused socket, which is ended and may still see a reset.
    socket.on('error', ignoreSocketError);
    status.then(
      (answer) => this.upgrade(request, socket, head, match, answer),
      (error: unknown) => {
        this.log.error('Upgrade admission failed', error as Error);
        this.refuse(request, socket, 500);
      },
    );
  }

  private upgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    match: RouteMatch<Route>,
    refusal: number | undefined,
  ): void {
    if (refusal !== undefined) {
      this.refuse(request, socket, refusal);
      return;
    }
    // The client may have left while an asynchronous admission check ran.
    if (socket.destroyed) return;
    socket.off('error', ignoreSocketError);
    match.value.server.handleUpgrade(request, socket, head, (ws) =>
      this.accept(ws as Connection, request, match),
    );
  }

  private refuse(request: IncomingMessage, socket: Duplex, status: number): void {
    this.deps.stats.countRefusedUpgrade(status);
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    this.connectionLog.refuse({
      status,
      reason: refusalReason(status, this.deps.admission.isDraining),
      path: query === -1 ? url : url.slice(0, query),
      remoteAddress: request.socket.remoteAddress,
    });
    refuseUpgrade(socket, status);
  }

  private accept(connection: Connection, request: IncomingMessage, match: RouteMatch<Route>): void {
    const { endpoint } = match.value;
    connection.id = this.deps.instanceId.nextConnectionId();
    connection.endpoint = endpoint;
    connection.params = match.params;
    connection.connectedAt = Date.now();
    connection.host = this.host;
    connection.on('pong', markAlive);
    connection.on('error', (error) =>
      this.log.debug(`Connection ${connection.id} error: ${error.message}`),
    );
    this.deps.connections.add(connection);
    connection.once('close', (code: number) => this.closed(connection, code));
    this.connectionLog.open({ endpoint: endpoint.name, id: connection.id });

    this.admit(connection, request, match.value, 0);
  }

  /**
   * Runs the guards from `index` on, then hands the socket to its gateway. Synchronous guards
   * cost no promise; an asynchronous one pauses the socket until it answers, and the socket is
   * resumed once the chain ends either way (a refused socket must still read the close frame).
   */
  private admit(
    connection: Connection,
    request: IncomingMessage,
    route: Route,
    index: number,
  ): void {
    const { guards, server } = route;
    for (let i = index; i < guards.length; i++) {
      const verdict = guards[i].check(connection, request);
      if (verdict instanceof Promise) {
        connection.pause();
        verdict.then(
          (answer) => {
            if (this.refused(connection, answer)) connection.resume();
            else this.admit(connection, request, route, i + 1);
          },
          (error: unknown) => {
            this.log.error(`Connection guard failed on ${connection.id}`, error as Error);
            if (connection.isOpen)
              connection.close(CloseCode.InternalError, ErrorMessages.internal);
            connection.resume();
          },
        );
        return;
      }
      if (this.refused(connection, verdict)) return;
    }
    if (!connection.isOpen) return;
    server.emit('connection', connection, request);
    if (connection.isPaused) connection.resume();
  }

  private closed(connection: Connection, code: number): void {
    this.deps.connections.remove(connection);
    this.deps.stats.countClose(code);
    this.connectionLog.close({
      endpoint: connection.endpoint.name,
      id: connection.id,
      code,
      durationMs: Date.now() - connection.connectedAt,
    });
  }

  private refused(connection: Connection, verdict: GuardVerdict): boolean {
    if (verdict === true) return false;
    if (connection.isOpen) connection.close(CloseCode.PolicyViolation, verdict.reason);
    return true;
  }
}
