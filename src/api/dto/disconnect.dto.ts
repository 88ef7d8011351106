import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

/** Body of POST /api/disconnect: the token subject whose sockets are closed. */
export class DisconnectDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  user!: string;
}
