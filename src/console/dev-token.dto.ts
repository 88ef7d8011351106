import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsId } from '../common/is-id.decorator';

/** Longest display name a development token may carry. */
export const DEV_TOKEN_NAME_MAX_LENGTH = 64;

/** Body of POST /auth/dev-token. */
export class DevTokenRequestDto {
  /** The subject, under the id rule, so it can also serve as a chat client id. */
  @IsString()
  @IsId()
  sub!: string;

  /** Optional display name; a blank one is left out of the token, which then shows `sub`. */
  @IsOptional()
  @IsString()
  @MaxLength(DEV_TOKEN_NAME_MAX_LENGTH)
  name?: string;
}
