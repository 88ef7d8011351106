import { WsException } from '@nestjs/websockets';
import { JsonErrorMessage } from '../../../protocol/json-messages';

/**
 * The `presence` flag of a `subscribe` payload (already checked by ChannelDto): true asks for
 * presence_diff frames. Absent is false; anything but a boolean is "Validation failed" on
 * `payload.presence`, as the pipe would answer.
 */
export function wantsPresenceDiffs(envelope: unknown): boolean {
  const payload = (envelope as { payload?: unknown }).payload;
  const presence = (payload as { presence?: unknown }).presence;
  if (presence === undefined || typeof presence === 'boolean') return presence === true;
  throw new WsException({
    message: JsonErrorMessage.validationFailed,
    errors: [{ field: 'payload.presence', message: 'presence must be a boolean value' }],
  });
}
