import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { ConsoleAssets } from './console-assets';
import { ConsoleController } from './console.controller';
import { DevTokenController } from './dev-token.controller';

/**
 * The browser console at GET /, and, outside production, POST /auth/dev-token to sign tokens
 * for it. The page only talks to the public endpoints, so it is served in production too.
 */
@Module({})
export class ConsoleModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: ConsoleModule,
      controllers: [
        ConsoleController,
        ...(config.nodeEnv === 'production' ? [] : [DevTokenController]),
      ],
      providers: [{ provide: ConsoleAssets, useFactory: () => new ConsoleAssets() }],
    };
  }
}
