import { applyDecorators, UseFilters } from '@nestjs/common';
import { WebSocketGateway } from '@nestjs/websockets';
import type { EndpointDefinition } from '../protocol/endpoints';
import { WsErrorFilter } from './ws-error.filter';

/** Gateway options as the Switchboard adapter receives them. */
export interface EndpointGatewayOptions {
  readonly path: string;
  readonly endpoint: EndpointDefinition;
}

/**
 * Declares a gateway for one endpoint of the contract: its path pattern reaches the adapter's
 * router, and errors reach the client through WsErrorFilter.
 */
export function EndpointGateway(endpoint: EndpointDefinition): ClassDecorator {
  const options: EndpointGatewayOptions = { path: endpoint.path, endpoint };
  return applyDecorators(WebSocketGateway(options), UseFilters(WsErrorFilter));
}
