import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** A decimal integer query value as a number; anything else stays a string and fails @IsInt. */
const ToInteger = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value,
  );

/** Query of GET /api/channels/{channel}/history. */
export class HistoryQueryDto {
  /** Publications with an offset above this one (default 0: all that is retained). */
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(0)
  since?: number;

  /** At most this many, the oldest first (default: all). */
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(100_000)
  limit?: number;
}
