import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { getMetadataStorage } from 'class-validator';
import type { JsonValue } from '../bus/bus';
import { payloadBoundViolation } from '../limits/payload-limits';
import { JsonErrorMessage } from '../protocol/json-messages';
import type { FieldError } from './json-envelope';
import type { ClientErrorBody } from './ws-error.filter';

/**
 * class-validator for WebSocket payloads. A failure becomes a WsException carrying
 * `{message: "Validation failed", errors: [{field, message}]}`, which WsErrorFilter sends to the
 * client as an error reply; the connection stays open. Fields are reported under `payload.`, the
 * envelope key they arrived in.
 *
 * Its cost follows what is checked, not what is sent:
 * 1. the payload is refused at once past the bounds of limits/payload-limits.ts (depth, keys and
 *    array elements in total), a walk that stops at the first entry over them;
 * 2. class-validator then sees an instance holding only the DTO's declared fields, copied by
 *    reference: unknown keys are never read, and a free-form field (a published `message`) is
 *    only looked at by its own validators. class-transformer does not run, so DTOs declare plain
 *    fields (no `@Type` conversions).
 *
 * The handler receives the payload exactly as the client sent it: nothing is copied into it or
 * deleted from it (`__proto__` and `constructor` keys of a published message stay as sent).
 */
export class WsValidationPipe extends ValidationPipe {
  constructor() {
    super({
      forbidUnknownValues: true,
      // The errors are flattened to {field, message}; the objects they were found in are not kept.
      validationError: { target: false, value: false },
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const violation = payloadBoundViolation(value);
    if (violation !== undefined) throw validationFailed([{ field: 'payload', message: violation }]);
    const { metatype } = metadata;
    if (!metatype || !this.toValidate(metadata)) return value;
    const errors = await this.validate(declaredFields(metatype, value), this.validatorOptions);
    if (errors.length > 0) throw validationFailed(flatten(errors, 'payload'));
    return value;
  }
}

/** The DTO's validated property names, inherited ones included; read once per class. */
const declaredNames = new WeakMap<abstract new () => unknown, readonly string[]>();

function namesOf(metatype: abstract new () => unknown): readonly string[] {
  let names = declaredNames.get(metatype);
  if (names === undefined) {
    const metadata = getMetadataStorage().getTargetValidationMetadatas(metatype, '', false, false);
    names = [...new Set(metadata.map((entry) => entry.propertyName))];
    declaredNames.set(metatype, names);
  }
  return names;
}

/**
 * An instance of `metatype` with the declared fields `value` has as own properties. Anything
 * but a plain object (an array, a primitive, no payload) has none of them.
 */
function declaredFields(metatype: abstract new () => unknown, value: unknown): object {
  const entity = Object.create(metatype.prototype as object) as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return entity;
  for (const name of namesOf(metatype)) {
    if (Object.hasOwn(value, name)) entity[name] = (value as Record<string, unknown>)[name];
  }
  return entity;
}

function validationFailed(errors: FieldError[]): WsException {
  const clientError: ClientErrorBody = {
    message: JsonErrorMessage.validationFailed,
    errors: errors as unknown as JsonValue[],
  };
  return new WsException(clientError);
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
