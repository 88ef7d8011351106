import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { ID_PATTERN, ID_RULE_DESCRIPTION } from '../protocol/ids';

/** Longest display name a development token may carry. */
export const DEV_TOKEN_NAME_MAX_LENGTH = 64;

/** Body of POST /auth/dev-token. */
export class DevTokenRequestDto {
  /** The subject, under the id rule, so it can also serve as a chat client id. */
  @IsString()
  @Matches(ID_PATTERN, { message: `sub must be ${ID_RULE_DESCRIPTION}` })
  sub!: string;

  /** Optional display name; a blank one is left out of the token, which then shows `sub`. */
  @IsOptional()
  @IsString()
  @MaxLength(DEV_TOKEN_NAME_MAX_LENGTH)
  name?: string;
}
