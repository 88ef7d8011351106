import { IsOptional, registerDecorator, type ValidationOptions } from 'class-validator';
import type { ResumePoint } from '../../channels/channels.service';
import { ChannelDto } from './channel.dto';

/** Longest epoch a client may send back (the server's are far shorter). */
const MAX_EPOCH_LENGTH = 64;

/** `{"offset": N}` or `{"offset": N, "epoch": "E"}`: N a safe integer ≥ 0, E a non-empty string. */
export function isResumePoint(value: unknown): value is ResumePoint {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { offset, epoch, ...rest } = value as Record<string, unknown>;
  return (
    Object.keys(rest).length === 0 &&
    Number.isSafeInteger(offset) &&
    (offset as number) >= 0 &&
    (epoch === undefined ||
      (typeof epoch === 'string' && epoch.length > 0 && epoch.length <= MAX_EPOCH_LENGTH))
  );
}

function IsResumePoint(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isResumePoint',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: isResumePoint,
        defaultMessage: () => 'since must be {"offset": integer ≥ 0, "epoch"?: non-empty string}',
      },
    });
}

/** Payload of `subscribe`: a channel and, to resume, where the client left off. */
export class SubscribeDto extends ChannelDto {
  @IsOptional()
  @IsResumePoint()
  since?: ResumePoint;
}
