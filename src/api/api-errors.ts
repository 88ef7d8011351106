import { HttpException, HttpStatus } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { JsonErrorMessage } from '../protocol/json-messages';
import { ErrorMessages } from '../protocol/text-messages';
import type { FieldError } from '../transport/dispatch/json-envelope';

/**
 * The HTTP API's error bodies: `{"error": text}`, plus `errors` (the `{field, message}` entries
 * of /ws/json) when validation failed. Nothing else is ever sent, so clients match on `error`.
 */
export interface ApiErrorBody {
  readonly error: string;
  readonly errors?: readonly FieldError[];
}

export const ApiErrors = {
  unauthorized: () => apiError(HttpStatus.UNAUTHORIZED, 'Unauthorized'),
  forbidden: () => apiError(HttpStatus.FORBIDDEN, 'Forbidden'),
  busUnavailable: () => apiError(HttpStatus.SERVICE_UNAVAILABLE, ErrorMessages.busUnavailable),
  historyOff: () => apiError(HttpStatus.NOT_FOUND, 'History is off (HISTORY_SIZE=0)'),
  idempotencyConflict: () =>
    apiError(HttpStatus.CONFLICT, 'A request with this Idempotency-Key is in progress'),
  validation: (errors: readonly FieldError[]) =>
    new HttpException(
      { error: JsonErrorMessage.validationFailed, errors } satisfies ApiErrorBody,
      HttpStatus.BAD_REQUEST,
    ),
} as const;

function apiError(status: HttpStatus, error: string): HttpException {
  return new HttpException({ error } satisfies ApiErrorBody, status);
}

/** class-validator's errors as `{field, message}` entries, fields named by their path. */
export function fieldErrors(errors: readonly ValidationError[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const field = prefix === '' ? error.property : `${prefix}.${error.property}`;
    for (const message of Object.values(error.constraints ?? {})) out.push({ field, message });
    if (error.children?.length) out.push(...fieldErrors(error.children, field));
  }
  return out;
}
