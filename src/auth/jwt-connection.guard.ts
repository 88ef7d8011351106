import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CloseReason } from '../protocol/close-codes';
import type { Connection } from '../transport/connection';
import { ConnectionGuard, type GuardVerdict } from '../transport/connection-guard';
import { AuthCloseReason } from './auth-failure';
import { SessionExpiry } from './session-expiry';
import { TokenVerifier } from './token-verifier';

/**
 * Authenticates sockets at the upgrade, from `?token=` or `Authorization: Bearer`.
 *
 * - A token is required on endpoints that ask for one (/ws/secure) and, with AUTH_REQUIRED,
 *   everywhere; a missing one is refused with "Token missing".
 * - A token that is presented is always verified, required or not: a bad or expired token is
 *   refused, never silently ignored.
 * - Where the path names the client (chat's client_id), it must equal the token's subject.
 *
 * An accepted token's principal is recorded on the connection and its expiry is watched, so the
 * socket is closed with 1008 "Token expired" when `exp` passes.
 */
@Injectable()
export class JwtConnectionGuard extends ConnectionGuard {
  constructor(
    private readonly config: AppConfig,
    private readonly verifier: TokenVerifier,
    private readonly expiry: SessionExpiry,
  ) {
    super();
  }

  check(connection: Connection, request: IncomingMessage): GuardVerdict {
    const { endpoint } = connection;
    const result = this.verifier.authenticate(request);
    if (!result.ok) {
      const required = this.config.authRequired || endpoint.requiresToken === true;
      return result.reason === 'missing' && !required
        ? true
        : { reason: AuthCloseReason[result.reason] };
    }
    const { principal } = result;
    const subjectParam = endpoint.subjectParam;
    // The client id is canonical (NFC); a subject minted in another normal form is the same name.
    if (
      subjectParam !== undefined &&
      connection.params[subjectParam] !== principal.sub.normalize('NFC')
    ) {
      return { reason: CloseReason.ClientIdMismatch };
    }
    connection.principal = principal;
    this.expiry.watch(connection);
    return true;
  }
}
