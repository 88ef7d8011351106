import { buildMessage, ValidateBy, type ValidationOptions } from 'class-validator';
import { ID_RULE_DESCRIPTION, isValidId } from '../protocol/ids';

/** The property follows the id rule (see ids.ts), checked on its NFC form. */
export function IsId(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isId',
      validator: {
        validate: (value: unknown) => isValidId(value),
        defaultMessage: buildMessage(
          (prefix) => `${prefix}$property must be ${ID_RULE_DESCRIPTION}`,
          options,
        ),
      },
    },
    options,
  );
}
