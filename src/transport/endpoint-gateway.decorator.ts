import { WebSocketGateway } from '@nestjs/websockets';
import type { EndpointDefinition } from '../protocol/endpoints';

/** Gateway options as the Switchboard adapter receives them. */
export interface EndpointGatewayOptions {
  readonly path: string;
  readonly endpoint: EndpointDefinition;
}

/**
 * Declares a gateway for one endpoint of the contract: its path pattern reaches the adapter's
 * router. Errors reach the client through WsErrorFilter's behaviour unless a filter declared with
 * @UseFilters catches them first (see endpoint-exception-filters.ts).
 */
export function EndpointGateway(endpoint: EndpointDefinition): ClassDecorator {
  const options: EndpointGatewayOptions = { path: endpoint.path, endpoint };
  return WebSocketGateway(options);
}
