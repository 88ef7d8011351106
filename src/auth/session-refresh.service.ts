import { Injectable } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { JsonErrorMessage } from '../protocol/json-messages';
import type { Peer } from '../transport/socket/peer';
import { SessionExpiry } from './session-expiry';
import { TokenVerifier } from './token-verifier';

const REFUSALS = {
  missing: JsonErrorMessage.tokenInvalid,
  invalid: JsonErrorMessage.tokenInvalid,
  expired: JsonErrorMessage.tokenExpired,
  'subject-mismatch': JsonErrorMessage.subjectMismatch,
} as const;

/**
 * Moves a live connection's token deadline: the new token must be valid and name the same
 * subject. A refused refresh leaves the current session as it was.
 */
@Injectable()
export class SessionRefresh {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly expiry: SessionExpiry,
  ) {}

  /** Returns the new expiry (seconds since the epoch; null for a token without `exp`). */
  refresh(connection: Peer, token: string): number | null {
    const current = connection.principal;
    if (current === undefined) throw new WsException(JsonErrorMessage.notAuthenticated);
    const result = this.verifier.verifyRefresh(current, token);
    if (!result.ok) throw new WsException(REFUSALS[result.reason]);
    connection.principal = result.principal;
    this.expiry.watch(connection);
    return result.principal.exp ?? null;
  }
}
