import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import type { JsonValue } from '../bus/bus';
import { JsonErrorMessage, MAX_PAYLOAD_DEPTH } from '../protocol/json-messages';
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
    // Refused before anything recursive (class-transformer, the clone) can overflow the stack.
    if (nestingExceeds(value, MAX_PAYLOAD_DEPTH)) {
      const clientError: ClientErrorBody = {
        message: JsonErrorMessage.validationFailed,
        errors: [
          {
            field: 'payload',
            message: `payload must not be nested more than ${MAX_PAYLOAD_DEPTH} levels deep`,
          },
        ],
      };
      throw new WsException(clientError);
    }
    await super.transform(structuredClone(value), metadata);
    return value;
  }
}

/** Whether `value` nests objects or arrays deeper than `max` levels; iterative, never recursive. */
export function nestingExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
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
