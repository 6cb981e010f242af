import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class AdminLoginDto {
  @ApiProperty({ example: 'admin' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  username: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password: string;
}

export class TokenResponseDto {
  @ApiProperty({ description: 'Bearer token for the admin API' })
  access_token: string;

  @ApiProperty({ description: 'Lifetime in seconds', example: 3600 })
  expires_in: number;

  @ApiProperty({ enum: ['ADMIN'] })
  scope: 'ADMIN';
}
