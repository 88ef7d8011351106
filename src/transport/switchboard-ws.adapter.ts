import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { WsAdapter } from '@nestjs/platform-ws';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { AppConfig } from '../config/app-config';
import type { ConnectionRegistry } from '../connections/connection-registry';
import { CloseCode, CloseReason } from '../protocol/close-codes';
import type { EndpointDefinition } from '../protocol/endpoints';
import { isValidId } from '../protocol/ids';
import { Connection, type BoundHandler } from './connection';
import type { EndpointGatewayOptions } from './endpoint-gateway.decorator';
import type { InstanceId } from './instance-id';
import type { MessageDispatcher } from './message-dispatcher';
import { PathRouter, type RouteMatch } from './path-router';
import { refuseUpgrade } from './upgrade-refusal';

function markAlive(this: WebSocket): void {
  (this as Connection).alive = true;
}

export interface SwitchboardAdapterDependencies {
  readonly config: AppConfig;
  readonly connections: ConnectionRegistry;
  readonly dispatcher: MessageDispatcher;
  readonly instanceId: InstanceId;
}

interface Route {
  readonly endpoint: EndpointDefinition;
  readonly server: WebSocketServer;
}

/**
 * The stock WsAdapter, extended with what a multi-endpoint server needs:
 *
 * - One `upgrade` listener on the application's HTTP server routes every upgrade through a
 *   PathRouter, so gateways declare patterns (`/ws/room/:roomId`) and receive decoded params.
 *   An upgrade to no route gets HTTP 404 instead of the stock adapter's silent reset.
 * - Path parameters are checked against the id rule once the socket is open; a bad one is closed
 *   with 1008 and a reason, and the gateway never sees the socket.
 * - Frames go through MessageDispatcher with plain calls instead of a per-message RxJS pipeline.
 * - Frames over MAX_MESSAGE_BYTES are refused by ws itself (maxPayload) with 1009, before they
 *   are buffered.
 */
export class SwitchboardWsAdapter extends WsAdapter {
  private readonly log = new Logger(SwitchboardWsAdapter.name);
  private readonly router = new PathRouter<Route>();
  private listeningServer?: HttpServer;
  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) =>
    this.routeUpgrade(request, socket, head);
  private readonly onMessage: (this: WebSocket, data: RawData, isBinary: boolean) => void;

  constructor(
    app: INestApplicationContext,
    private readonly deps: SwitchboardAdapterDependencies,
  ) {
    super(app);
    const { dispatcher } = deps;
    // One function shared by every socket: ws calls it with `this` bound to the socket.
    this.onMessage = function (this: WebSocket, data: RawData, isBinary: boolean) {
      dispatcher.dispatch(this as Connection, data, isBinary);
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
      WebSocket: Connection,
    });
    this.router.add(endpoint.path, { endpoint, server });
    this.listen();
    return server;
  }

  override bindMessageHandlers(client: Connection, handlers: MessageMappingProperties[]): void {
    const map = new Map<string, BoundHandler>();
    for (const handler of handlers) {
      map.set(handler.message as string, handler.callback as BoundHandler);
    }
    client.handlers = map;
    client.on('message', this.onMessage);
  }

  override async dispose(): Promise<void> {
    this.listeningServer?.off('upgrade', this.onUpgrade);
    this.listeningServer = undefined;
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
    const match = this.router.match(query === -1 ? url : url.slice(0, query));
    if (!match) {
      refuseUpgrade(socket, 404);
      return;
    }
    match.value.server.handleUpgrade(request, socket, head, (ws) =>
      this.accept(ws as Connection, request, match),
    );
  }

  private accept(connection: Connection, request: IncomingMessage, match: RouteMatch<Route>): void {
    const { endpoint, server } = match.value;
    connection.id = this.deps.instanceId.nextConnectionId();
    connection.endpoint = endpoint;
    connection.params = match.params;
    connection.connectedAt = Date.now();
    connection.on('pong', markAlive);
    connection.on('error', (error) =>
      this.log.debug(`Connection ${connection.id} error: ${error.message}`),
    );
    this.deps.connections.add(connection);
    connection.once('close', () => this.deps.connections.remove(connection));

    const invalid = Object.keys(endpoint.params).find((name) => !isValidId(match.params[name]));
    if (invalid !== undefined) {
      connection.close(
        CloseCode.PolicyViolation,
        CloseReason.invalidParam(endpoint.params[invalid]),
      );
      return;
    }
    server.emit('connection', connection, request);
  }
}
