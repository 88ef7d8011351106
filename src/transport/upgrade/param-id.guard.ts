import { Injectable } from '@nestjs/common';
import { CloseReason } from '../../protocol/close-codes';
import { canonicalId } from '../../protocol/ids';
import type { Connection } from '../socket/connection';
import { ConnectionGuard, type GuardVerdict } from './connection-guard';

/**
 * Every path parameter (client_id, room_id, channel) must follow the id rule. The connection
 * keeps the canonical (NFC) form, so one name typed two ways is one chat id, room or channel.
 */
@Injectable()
export class ParamIdGuard extends ConnectionGuard {
  check(connection: Connection): GuardVerdict {
    const { endpoint, params } = connection;
    let canonical: Record<string, string> | undefined;
    for (const [name, label] of Object.entries(endpoint.params)) {
      const id = canonicalId(params[name]);
      if (id === undefined) return { reason: CloseReason.invalidParam(label) };
      if (id !== params[name]) (canonical ??= { ...params })[name] = id;
    }
    if (canonical) connection.params = canonical;
    return true;
  }
}
