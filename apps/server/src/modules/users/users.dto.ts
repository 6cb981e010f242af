import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { PageQueryDto } from '../../common/page-query.dto';

/** Printable text: no NUL or other control characters (PostgreSQL text cannot hold NUL). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;
const printable = { message: '$property must not contain control characters' };

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
  @Matches(PRINTABLE, printable)
  firstName?: string;

  @ApiPropertyOptional({ example: 'Doe' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(PRINTABLE, printable)
  lastName?: string;

  @ApiPropertyOptional({ example: 'jdoe@example.org' })
  @IsOptional()
  @IsEmail()
  @MaxLength(254)
  email?: string;
}

/** Profile fields of a local user; null clears a field. Directory users' profile comes from the directory. */
export class UpdateUserDto {
  @ApiPropertyOptional({ nullable: true, type: String, example: 'John' })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsString()
  @MaxLength(128)
  @Matches(PRINTABLE, printable)
  firstName?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, example: 'Doe' })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsString()
  @MaxLength(128)
  @Matches(PRINTABLE, printable)
  lastName?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, example: 'jdoe@example.org' })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsEmail()
  @MaxLength(254)
  email?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, example: '+33 1 23 45 67 89' })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsString()
  @MaxLength(64)
  @Matches(/^[+0-9 ()./-]{1,64}$/, { message: 'phone may contain digits, spaces and + ( ) . / - only' })
  phone?: string | null;
}

export class SuspendUserDto {
  @ApiProperty({ description: 'Why (recorded on the user and in the audit log)', example: 'Left on leave' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  @Matches(PRINTABLE, printable)
  reason: string;
}

export class SetUserPasswordDto {
  @ApiProperty({ description: 'At least 8 characters' })
  @IsString()
  @MaxLength(1024)
  password: string;
}

export const USER_STATUSES = ['active', 'suspended'] as const;
export const USER_SOURCES = ['local', 'ldap', 'ad'] as const;

export class ListUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Matches part of the username, first/last name or email (case-insensitive)' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(PRINTABLE, printable)
  search?: string;

  @ApiPropertyOptional({ enum: USER_STATUSES })
  @IsOptional()
  @IsIn(USER_STATUSES)
  status?: (typeof USER_STATUSES)[number];

  @ApiPropertyOptional({ enum: USER_SOURCES })
  @IsOptional()
  @IsIn(USER_SOURCES)
  source?: (typeof USER_SOURCES)[number];

  @ApiPropertyOptional({ description: 'Group id: members only' })
  @IsOptional()
  @IsUUID()
  group?: string;
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

  @ApiProperty({ nullable: true, type: String, description: 'Last DEVICE token (mTLS login), minute precision' })
  lastLoginAt: string | null;
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

  @ApiProperty({ nullable: true, type: String })
  phone: string | null;

  @ApiProperty({ enum: USER_SOURCES })
  source: string;

  @ApiProperty({ enum: USER_STATUSES })
  status: string;

  @ApiProperty({ nullable: true, type: String, description: "'admin' or 'directory' while suspended" })
  suspendedReason: string | null;

  @ApiProperty({ nullable: true, type: String, description: "The admin's reason for the suspension" })
  suspensionNote: string | null;

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
  @ApiProperty({ type: [UserSummaryDto], description: 'Ordered by username' })
  items: UserSummaryDto[];

  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for the next page; null on the last' })
  nextCursor: string | null;

  @ApiProperty()
  limit: number;
}

export class TombstoneDto {
  @ApiProperty({ description: 'The reserved username' })
  username: string;

  @ApiProperty({ nullable: true, type: String, description: 'The Jami ID the name mapped to' })
  jamiId: string | null;

  @ApiProperty({ enum: USER_SOURCES })
  source: string;

  @ApiProperty()
  deletedAt: string;
}

export const DEVICE_STATUSES = ['active', 'revoked'] as const;

export class ListDevicesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: DEVICE_STATUSES })
  @IsOptional()
  @IsIn(DEVICE_STATUSES)
  status?: (typeof DEVICE_STATUSES)[number];

  @ApiPropertyOptional({ description: "Part of the device name or the owner's username, or a device ID prefix" })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(PRINTABLE, printable)
  search?: string;

  @ApiPropertyOptional({ description: 'Unrevoked devices whose certificate expires within this many days' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3650)
  expiringWithinDays?: number;
}

export class AdminDeviceDto extends DeviceSummaryDto {
  @ApiProperty({ description: "The owner's username" })
  owner: string;

  @ApiProperty({ enum: DEVICE_STATUSES })
  status: string;

  @ApiProperty({ nullable: true, type: String, description: "The current certificate's notAfter" })
  certificateExpiresAt: string | null;
}

export class DeviceListResponseDto {
  @ApiProperty({ type: [AdminDeviceDto], description: 'Newest enrollment first' })
  items: AdminDeviceDto[];

  @ApiProperty({ nullable: true, type: String })
  nextCursor: string | null;

  @ApiProperty()
  limit: number;
}

export class RenameDeviceDto {
  @ApiProperty({ example: 'Work laptop' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @Matches(PRINTABLE, printable)
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  name: string;
}

export class RevokeDevicesDto {
  @ApiProperty({ type: [String], description: 'Device IDs (64 hex), at most 100' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Matches(/^[0-9a-fA-F]{64}$/, { each: true, message: 'each value in deviceIds must be 64 hex characters' })
  deviceIds: string[];

  @ApiProperty({ example: 'Laptop stolen' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  @Matches(PRINTABLE, printable)
  reason: string;
}

export class DeviceRevocationResultDto {
  @ApiProperty()
  deviceId: string;

  @ApiProperty({ enum: ['revoked', 'already_revoked', 'not_found'] })
  result: 'revoked' | 'already_revoked' | 'not_found';
}

export class RevokeDevicesResponseDto {
  @ApiProperty({ type: [DeviceRevocationResultDto] })
  results: DeviceRevocationResultDto[];
}
