import { ArrayMaxSize, ArrayMinSize, IsArray, IsString } from 'class-validator';
import type { JsonValue } from '../../bus/bus';
import { IsId } from '../../common/is-id.decorator';
import { IsPresent } from '../../common/is-present.decorator';

/** Most channels one POST /api/broadcast may name. */
export const MAX_BROADCAST_CHANNELS = 100;

/** Body of POST /api/broadcast: one message to up to MAX_BROADCAST_CHANNELS channels. */
export class BroadcastDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BROADCAST_CHANNELS)
  @IsString({ each: true })
  @IsId({ each: true })
  channels!: string[];

  @IsPresent()
  message!: JsonValue;
}
