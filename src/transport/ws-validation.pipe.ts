import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import type { JsonValue } from '../bus/bus';
import { JsonErrorMessage } from '../protocol/json-messages';
import type { FieldError } from './json-envelope';
import type { ClientErrorBody } from './ws-error.filter';

/**
 * class-validator for WebSocket payloads. A failure becomes a WsException carrying
 * `{message: "Validation failed", errors: [{field, message}]}`, which WsErrorFilter sends to the
 * client as an error reply; the connection stays open. Fields are reported under `payload.`, the
 * envelope key they arrived in.
 *
 * The handler receives the payload exactly as the client sent it. Nest's ValidationPipe deletes
 * `__proto__`, `constructor` and `prototype` keys in place at every depth, and class-transformer
 * drops some of them too; that would silently rewrite the JSON a client publishes. So the pipe
 * validates a structured clone and passes the original through once the clone is valid.
 */
export class WsValidationPipe extends ValidationPipe {
  constructor() {
    super({
      forbidUnknownValues: true,
      exceptionFactory: (errors: ValidationError[]) => {
        const clientError: ClientErrorBody = {
          message: JsonErrorMessage.validationFailed,
          errors: flatten(errors, 'payload') as unknown as JsonValue[],
        };
        return new WsException(clientError);
      },
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    await super.transform(structuredClone(value), metadata);
    return value;
  }
}

function flatten(errors: ValidationError[], prefix: string): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const field = `${prefix}.${error.property}`;
    for (const message of Object.values(error.constraints ?? {})) out.push({ field, message });
    if (error.children?.length) out.push(...flatten(error.children, field));
  }
  return out;
}
