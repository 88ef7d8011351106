import { IsString, Matches } from 'class-validator';
import { ID_PATTERN, ID_RULE_DESCRIPTION } from '../../../protocol/ids';

/** Payload of `subscribe` and `unsubscribe`. */
export class ChannelDto {
  @IsString()
  @Matches(ID_PATTERN, { message: `channel must be ${ID_RULE_DESCRIPTION}` })
  channel!: string;
}
