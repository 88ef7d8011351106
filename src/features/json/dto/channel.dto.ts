import { IsString } from 'class-validator';
import { IsId } from '../../../common/is-id.decorator';

/**
 * Payload of `subscribe` and `unsubscribe`. The pipe hands the handler the channel as sent; the
 * handler uses its canonical form (`canonicalId`), which the reply echoes.
 */
export class ChannelDto {
  @IsString()
  @IsId()
  channel!: string;
}
