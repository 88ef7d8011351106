import { WsException } from '@nestjs/websockets';
import { JsonErrorMessage } from '../../../protocol/json-messages';
import type { ResumePoint } from '../../channels/channels.service';

/** Longest epoch a client may send back (the server's are far shorter). */
const MAX_EPOCH_LENGTH = 64;

const RULE = 'since must be {"offset": integer ≥ 0, "epoch"?: non-empty string}';

/** `{"offset": N}` or `{"offset": N, "epoch": "E"}`: N a safe integer ≥ 0, E a non-empty string. */
export function isResumePoint(value: unknown): value is ResumePoint {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { offset, epoch, ...rest } = value as Record<string, unknown>;
  return (
    Object.keys(rest).length === 0 &&
    Number.isSafeInteger(offset) &&
    (offset as number) >= 0 &&
    (epoch === undefined ||
      (typeof epoch === 'string' && epoch.length > 0 && epoch.length <= MAX_EPOCH_LENGTH))
  );
}

/**
 * The `since` of a `subscribe` payload (already checked by ChannelDto), or undefined without one;
 * any other value is answered "Validation failed" on `payload.since`, as the pipe would. Read
 * only with history on: with HISTORY_SIZE=0, `since` stays an undeclared field, ignored as before.
 */
export function resumePointOf(envelope: unknown): ResumePoint | undefined {
  const payload = (envelope as { payload?: unknown }).payload;
  const since = (payload as { since?: unknown }).since;
  if (since === undefined || isResumePoint(since)) return since;
  throw new WsException({
    message: JsonErrorMessage.validationFailed,
    errors: [{ field: 'payload.since', message: RULE }],
  });
}
