import type { JsonValue } from '../../../bus/bus';
import { IsPresent } from '../../../common/is-present.decorator';
import { ChannelDto } from './channel.dto';

/** Payload of `publish`: a channel and any JSON value, null included. */
export class PublishDto extends ChannelDto {
  @IsPresent()
  message!: JsonValue;
}
