import { IsNotEmpty, IsString } from 'class-validator';

/** Payload of `refresh`: a new token for the same subject. */
export class RefreshDto {
  @IsString()
  @IsNotEmpty()
  token!: string;
}
