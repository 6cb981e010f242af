import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class CreateUserDto {
  @ApiProperty({ description: 'Lower-cased; [a-z0-9_-]{3,32}', example: 'jdoe' })
  @IsString()
  @MaxLength(64)
  username: string;

  @ApiProperty({ description: 'At least 8 characters', example: 'correct horse battery staple' })
  @IsString()
  @MaxLength(1024)
  password: string;

  @ApiPropertyOptional({ example: 'John' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  firstName?: string;

  @ApiPropertyOptional({ example: 'Doe' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  lastName?: string;

  @ApiPropertyOptional({ example: 'jdoe@example.org' })
  @IsOptional()
  @IsEmail()
  @MaxLength(254)
  email?: string;
}

export class ListUsersQueryDto {
  @ApiPropertyOptional({ description: 'Matches username, first/last name or email (case-insensitive)' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  search?: string;

  @ApiPropertyOptional({ minimum: 1, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  page?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  pageSize?: number;
}

export class DeviceSummaryDto {
  @ApiProperty({ description: 'SHA-256 of the device public key, 64 hex' })
  deviceId: string;

  @ApiProperty()
  name: string;

  @ApiProperty()
  createdAt: string;

  @ApiProperty({ nullable: true, type: String })
  revokedAt: string | null;
}

export class UserSummaryDto {
  @ApiProperty()
  username: string;

  @ApiProperty({ nullable: true, type: String })
  firstName: string | null;

  @ApiProperty({ nullable: true, type: String })
  lastName: string | null;

  @ApiProperty({ nullable: true, type: String })
  email: string | null;

  @ApiProperty({ enum: ['local', 'ldap', 'ad'] })
  source: string;

  @ApiProperty({ enum: ['active', 'suspended'] })
  status: string;

  @ApiProperty({ nullable: true, type: String, description: 'Jami ID (40 hex) once the account certificate exists' })
  jamiId: string | null;

  @ApiProperty()
  createdAt: string;
}

export class UserResponseDto extends UserSummaryDto {
  @ApiProperty({ type: [DeviceSummaryDto] })
  devices: DeviceSummaryDto[];
}

export class UserListResponseDto {
  @ApiProperty({ type: [UserSummaryDto] })
  items: UserSummaryDto[];

  @ApiProperty()
  page: number;

  @ApiProperty()
  pageSize: number;

  @ApiProperty()
  total: number;
}
