import { ValidationPipe, type ValidationError } from '@nestjs/common';
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
 */
export class WsValidationPipe extends ValidationPipe {
  constructor() {
    super({
      transform: true,
      whitelist: true,
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
