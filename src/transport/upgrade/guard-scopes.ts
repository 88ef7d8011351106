import { GUARDS_METADATA } from '@nestjs/common/constants';
import { GuardsContextCreator } from '@nestjs/core/guards/guards-context-creator';

/**
 * Where each level of `@UseGuards` runs on a gateway. Nest's own GuardsContextCreator resolves
 * the guards (instances from the module's injector, as stock Nest does); each subclass only hides
 * the level that belongs to the other scope:
 *
 * - guards declared on the gateway class run once per connection, after the upgrade and before
 *   any message listener exists (see GatewayConnectionGuard);
 * - guards declared on a handler method run for every message that handler receives.
 *
 * Global guards (`app.useGlobalGuards`, APP_GUARD) are not applied to gateways, as in stock Nest,
 * whose SocketModule builds its context creators without the application config.
 */
export class ConnectionGuardsContextCreator extends GuardsContextCreator {
  override reflectMethodMetadata<T>(callback: (...args: unknown[]) => unknown, key: string): T {
    return (key === GUARDS_METADATA ? undefined : super.reflectMethodMetadata(callback, key)) as T;
  }
}

export class MessageGuardsContextCreator extends GuardsContextCreator {
  override reflectClassMetadata<T>(instance: object, key: string): T {
    return (key === GUARDS_METADATA ? undefined : super.reflectClassMetadata(instance, key)) as T;
  }
}
