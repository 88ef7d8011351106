import { Injectable } from '@nestjs/common';
import { CloseReason } from '../protocol/close-codes';
import { isValidId } from '../protocol/ids';
import type { Connection } from './connection';
import { ConnectionGuard, type GuardVerdict } from './connection-guard';

/** Every path parameter (client_id, room_id, channel) must follow the id rule. */
@Injectable()
export class ParamIdGuard extends ConnectionGuard {
  check(connection: Connection): GuardVerdict {
    const { endpoint, params } = connection;
    for (const [name, label] of Object.entries(endpoint.params)) {
      if (!isValidId(params[name])) return { reason: CloseReason.invalidParam(label) };
    }
    return true;
  }
}
