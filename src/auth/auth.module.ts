import { Global, Module } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { SessionExpiry } from './session-expiry';
import { SessionRefresh } from './session-refresh.service';
import { TokenSigner } from './token-signer';
import { TokenVerifier } from './token-verifier';

/**
 * Authentication: the token verifier and signer built from the validated JWT configuration, the
 * guard that applies them at the upgrade (JwtAuthGuard, on every gateway class), and the session lifecycle (expiry, refresh).
 * Time comes from the application's Clock (CommonModule), so tests can control it.
 */
@Global()
@Module({
  providers: [
    {
      provide: TokenVerifier,
      inject: [AppConfig, Clock],
      useFactory: (config: AppConfig, clock: Clock) => new TokenVerifier(config.jwt, clock),
    },
    {
      provide: TokenSigner,
      inject: [AppConfig, Clock],
      useFactory: (config: AppConfig, clock: Clock) => new TokenSigner(config.jwt, clock),
    },
    SessionExpiry,
    SessionRefresh,
  ],
  exports: [TokenVerifier, TokenSigner, SessionExpiry, SessionRefresh],
})
export class AuthModule {}
