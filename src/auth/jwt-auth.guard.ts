import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { AppConfig } from '../config/app-config';
import { CloseReason } from '../protocol/close-codes';
import type { Peer } from '../transport/socket/peer';
import { upgradeRequestOf } from '../transport/socket/connection-context';
import { AuthCloseReason } from './auth-failure';
import { SessionExpiry } from './session-expiry';
import { TokenVerifier } from './token-verifier';

/**
 * Authenticates sockets from `?token=` or `Authorization: Bearer`. Declared on a gateway class
 * (`@UseGuards(JwtAuthGuard)`), it runs once per connection, after the upgrade; a refusal
 * closes the socket with 1008 and the reason it throws:
 *
 * - A token is required on endpoints that ask for one (/ws/secure) and, with AUTH_REQUIRED,
 *   everywhere; a missing one is refused with "Token missing".
 * - A token that is presented is always verified, required or not: a bad or expired token is
 *   refused ("Token invalid", "Token expired"), never silently ignored.
 * - Where the path names the client (chat's client_id), it must equal the token's subject.
 *
 * An accepted token's principal is recorded on the connection and its expiry is watched, so the
 * socket is closed with 1008 "Token expired" when `exp` passes.
 *
 * Declared on a handler instead, it runs for each message and lets through only connections
 * that authenticated at the upgrade; a refusal is the error reply "Token missing".
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly config: AppConfig,
    private readonly verifier: TokenVerifier,
    private readonly expiry: SessionExpiry,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const connection = context.switchToWs().getClient<Peer>();
    const request = upgradeRequestOf(context);
    if (request === undefined) return this.authenticated(connection);
    const { endpoint } = connection;
    const result = this.verifier.authenticate(request);
    if (!result.ok) {
      const required = this.config.authRequired || endpoint.requiresToken === true;
      if (result.reason === 'missing' && !required) return true;
      throw new WsException(AuthCloseReason[result.reason]);
    }
    const { principal } = result;
    const subjectParam = endpoint.subjectParam;
    // The client id is canonical (NFC); a subject minted in another normal form is the same name.
    if (
      subjectParam !== undefined &&
      connection.params[subjectParam] !== principal.sub.normalize('NFC')
    ) {
      throw new WsException(CloseReason.ClientIdMismatch);
    }
    connection.principal = principal;
    this.expiry.watch(connection);
    return true;
  }

  private authenticated(connection: Peer): boolean {
    if (connection.principal !== undefined) return true;
    throw new WsException(CloseReason.TokenMissing);
  }
}
