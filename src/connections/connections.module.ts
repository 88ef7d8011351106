import { Global, Module } from '@nestjs/common';
import { ConnectionRegistry } from './connection-registry';

/** The open connections of this instance, by id: the adapter adds and removes them. */
@Global()
@Module({ providers: [ConnectionRegistry], exports: [ConnectionRegistry] })
export class ConnectionsModule {}
