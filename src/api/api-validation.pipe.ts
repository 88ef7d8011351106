import { type ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { payloadBoundViolation } from '../limits/payload-limits';
import { ApiErrors, fieldErrors } from './api-errors';

/**
 * class-validator for /api bodies and queries, failing with 400
 * `{"error":"Validation failed","errors":[{field, message}]}` as /ws/json does (fields named
 * without the `payload.` prefix). Unknown fields are refused. A body must be a JSON object
 * within the payload bounds of /ws/json, and reaches the handler exactly as sent (validation
 * works on a copy); a query reaches it converted (integers).
 */
export class ApiValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => ApiErrors.validation(fieldErrors(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'body') return super.transform(value, { ...metadata });
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw ApiErrors.validation([{ field: 'body', message: 'body must be a JSON object' }]);
    }
    const violation = payloadBoundViolation(value);
    if (violation !== undefined)
      throw ApiErrors.validation([{ field: 'body', message: violation }]);
    await super.transform(value, metadata);
    return value;
  }
}
