import { type ArgumentMetadata, Injectable, Optional, type PipeTransform } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import {
  getMetadataStorage,
  validate,
  type ValidationError,
  type ValidatorOptions,
  validateSync,
} from 'class-validator';
import type { JsonValue } from '../../bus/bus';
import { PayloadBounds, payloadBoundViolation } from '../../limits/payload-limits';
import { JsonErrorMessage } from '../../protocol/json-messages';
import type { FieldError } from './json-envelope';
import type { ClientErrorBody } from './ws-error.filter';

/**
 * class-validator for WebSocket payloads. A failure becomes a WsException carrying
 * `{message: "Validation failed", errors: [{field, message}]}`, which WsErrorFilter sends to the
 * client as an error reply; the connection stays open. Fields are reported under `payload.`, the
 * envelope key they arrived in.
 *
 * Its cost follows what is checked, not what is sent:
 * 1. the payload is refused at once past PayloadBounds (MAX_PAYLOAD_DEPTH, and MAX_PAYLOAD_ENTRIES
 *    keys and array elements in total), a walk that stops at the first entry over them;
 * 2. class-validator then sees an instance holding only the DTO's declared fields, copied by
 *    reference: unknown keys are never read, and a free-form field (a published `message`) is
 *    only looked at by its own validators. class-transformer does not run, so DTOs declare plain
 *    fields (no `@Type` conversions).
 *
 * The handler receives the payload exactly as the client sent it: nothing is copied into it or
 * deleted from it (`__proto__` and `constructor` keys of a published message stay as sent).
 */
@Injectable()
export class WsValidationPipe implements PipeTransform {
  /** Nest injects LimitsModule's bounds; constructed by hand, the defaults apply. */
  constructor(@Optional() private readonly bounds: PayloadBounds = new PayloadBounds()) {}

  private readonly options: ValidatorOptions = {
    forbidUnknownValues: true,
    // The errors are flattened to {field, message}; the objects they were found in are not kept.
    validationError: { target: false, value: false },
  };

  /**
   * Synchronous unless the DTO declares an asynchronous validator: a payload then costs no
   * promise (Nest's ValidationPipe always awaits class-validator's `validate`).
   */
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const violation = payloadBoundViolation(value, this.bounds);
    if (violation !== undefined) throw validationFailed([{ field: 'payload', message: violation }]);
    const { metatype } = metadata;
    if (!metatype || !toValidate(metadata)) return value;
    const dto = dtoOf(metatype);
    const entity = declaredFields(dto, value);
    if (dto.async) {
      return validate(entity, this.options).then((errors) => checked(value, errors));
    }
    return checked(value, validateSync(entity, this.options));
  }
}

/** ValidationPipe's rule: primitives and built-in classes are not DTOs. */
const NOT_DTOS: readonly unknown[] = [String, Boolean, Number, Array, Object, Buffer, Date];

function toValidate({ metatype, type }: ArgumentMetadata): boolean {
  return type !== 'custom' && !NOT_DTOS.includes(metatype);
}

function checked(value: unknown, errors: ValidationError[]): unknown {
  if (errors.length > 0) throw validationFailed(flatten(errors, 'payload'));
  return value;
}

type DtoClass = abstract new () => unknown;

/** What the pipe reads once per DTO class: its validated property names and whether any of its
 * validators is asynchronous (validateSync would skip those). */
interface Dto {
  readonly metatype: DtoClass;
  readonly names: readonly string[];
  readonly async: boolean;
}

const dtos = new WeakMap<DtoClass, Dto>();

function dtoOf(metatype: DtoClass): Dto {
  let dto = dtos.get(metatype);
  if (dto === undefined) {
    const storage = getMetadataStorage();
    const metadata = storage.getTargetValidationMetadatas(metatype, '', false, false);
    dto = {
      metatype,
      names: [...new Set(metadata.map((entry) => entry.propertyName))],
      async: metadata.some(
        (entry) =>
          entry.constraintCls !== undefined &&
          storage
            .getTargetValidatorConstraints(entry.constraintCls)
            .some((constraint) => constraint.async),
      ),
    };
    dtos.set(metatype, dto);
  }
  return dto;
}

/**
 * An instance of the DTO with the declared fields `value` has as own properties. Anything but a
 * plain object (an array, a primitive, no payload) has none of them.
 */
function declaredFields({ metatype, names }: Dto, value: unknown): object {
  const entity = Object.create(metatype.prototype as object) as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return entity;
  for (const name of names) {
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
