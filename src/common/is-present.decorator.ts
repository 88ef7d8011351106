import { buildMessage, ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * The property must be present with any JSON value, null included. (`IsDefined` would refuse
 * null, which is a legitimate message to publish.)
 */
export function IsPresent(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPresent',
      validator: {
        validate: (value: unknown) => value !== undefined,
        defaultMessage: buildMessage((prefix) => `${prefix}$property is required`, options),
      },
    },
    options,
  );
}
