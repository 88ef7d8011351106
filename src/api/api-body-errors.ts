import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpStatus } from '@nestjs/common';
import { JsonErrorMessage } from '../protocol/json-messages';
import type { ApiErrorBody } from './api-errors';

/** What body-parser attaches to the errors it passes on. */
interface BodyParserError {
  readonly status?: number;
  readonly type?: string;
}

/**
 * Express error middleware for JSON bodies that never reach a controller: under /api, a body
 * over MAX_MESSAGE_BYTES answers 413 `{"error":"Payload too large"}` and a body that is not
 * JSON 400 `{"error":"Validation failed","errors":[{"field":"body",…}]}`, the API's shapes.
 * Other routes keep Express's handling.
 */
export function apiBodyErrors(
  error: unknown,
  request: IncomingMessage,
  response: ServerResponse,
  next: (error?: unknown) => void,
): void {
  const { status, type } = (error ?? {}) as BodyParserError;
  if (!request.url?.startsWith('/api/') || status === undefined) return next(error);
  const tooLarge = type === 'entity.too.large';
  const body: ApiErrorBody = tooLarge
    ? { error: 'Payload too large' }
    : {
        error: JsonErrorMessage.validationFailed,
        errors: [{ field: 'body', message: 'body must be valid JSON' }],
      };
  response.statusCode = tooLarge ? HttpStatus.PAYLOAD_TOO_LARGE : HttpStatus.BAD_REQUEST;
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.end(JSON.stringify(body));
}
