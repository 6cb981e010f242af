import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsEnum,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { AdminRole } from './roles';

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

  @ApiPropertyOptional({ description: 'Current 6-digit TOTP code, when the admin enrolled TOTP', example: '123456' })
  @IsOptional()
  @IsString()
  @MaxLength(16)
  totp?: string;

  @ApiPropertyOptional({ description: 'A one-time recovery code, instead of a TOTP code' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  recoveryCode?: string;
}

export class TokenResponseDto {
  @ApiProperty({ description: 'Bearer token for the admin API (send as "Authorization: Bearer …")' })
  access_token: string;

  @ApiProperty({
    description: 'Seconds until the session ends at the latest (absolute lifetime); it ends earlier when idle',
    example: 43200,
  })
  expires_in: number;

  @ApiProperty({ enum: ['ADMIN'] })
  scope: 'ADMIN';

  @ApiProperty({ description: 'The session id (GET/DELETE /api/admin/sessions)', format: 'uuid' })
  session_id: string;

  @ApiPropertyOptional({
    description: 'MFA is required and not enrolled: this session may only call /me, /me/mfa/* and logout',
  })
  mfa_setup_required?: boolean;
}

export class MeResponseDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  username: string;

  @ApiProperty({ enum: AdminRole, enumName: 'AdminRole', description: 'The role this credential acts with' })
  role: AdminRole;

  @ApiProperty()
  mfaEnabled: boolean;

  @ApiProperty({ description: 'True while this session may only enrol TOTP' })
  mfaSetupRequired: boolean;

  @ApiProperty({ format: 'uuid' })
  sessionId: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Set when authenticated with a personal API token' })
  tokenId?: string;
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  currentPassword: string;

  @ApiProperty({ description: 'At least 8 characters' })
  @IsString()
  @MaxLength(1024)
  newPassword: string;
}

export class ReauthDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password: string;

  @ApiPropertyOptional({ description: 'Required when the admin enrolled TOTP' })
  @IsOptional()
  @IsString()
  @MaxLength(16)
  totp?: string;
}

export class ReauthResponseDto {
  @ApiProperty({ description: 'Routes that need a recent re-authentication accept this session until then' })
  validUntil: string;
}

export class TotpEnrollmentDto {
  @ApiProperty({ description: 'Base32 secret for the authenticator app (shown once)' })
  secret: string;

  @ApiProperty({ example: 'otpauth://totp/Example%20Corp%3Aadmin?secret=…&issuer=Example%20Corp' })
  otpauthUri: string;
}

export class TotpCodeDto {
  @ApiProperty({ description: 'A current 6-digit TOTP code', example: '123456' })
  @IsString()
  @MaxLength(16)
  code: string;
}

export class DisableTotpDto {
  @ApiProperty({ description: 'A current TOTP code or an unused recovery code' })
  @IsString()
  @MaxLength(64)
  code: string;
}

export class RecoveryCodesDto {
  @ApiProperty({ type: [String], description: 'Ten one-time recovery codes, shown once' })
  recoveryCodes: string[];
}

export class AdminSecuritySettingsDto {
  @ApiProperty({ description: 'Every admin must use TOTP; one without it can only sign in to enrol' })
  @IsBoolean()
  requireMfa: boolean;

  @ApiProperty({ minimum: 5, maximum: 1440, example: 30 })
  @IsInt()
  @Min(5)
  @Max(1440)
  sessionIdleMinutes: number;

  @ApiProperty({ minimum: 1, maximum: 720, example: 12, description: 'Absolute session lifetime' })
  @IsInt()
  @Min(1)
  @Max(720)
  sessionMaxHours: number;
}

export class AdminSecuritySettingsResponseDto {
  @ApiProperty()
  requireMfa: boolean;

  @ApiProperty()
  sessionIdleMinutes: number;

  @ApiProperty({ description: 'Hours (fractional when derived from ENCLAVE_ADMIN_TOKEN_TTL)' })
  sessionMaxHours: number;
}

export const ADMIN_USERNAME = /^[a-z0-9._-]{3,64}$/;

export class CreateAdminDto {
  @ApiProperty({ example: 'alice', description: '3 to 64 characters among a-z, 0-9, ".", "_", "-"' })
  @IsString()
  @Matches(ADMIN_USERNAME, { message: 'username must be 3 to 64 characters among a-z, 0-9, ".", "_" and "-"' })
  username: string;

  @ApiProperty({ description: 'At least 8 characters' })
  @IsString()
  @MaxLength(1024)
  password: string;

  @ApiProperty({ enum: AdminRole, enumName: 'AdminRole' })
  @IsEnum(AdminRole, { message: `role must be one of ${Object.values(AdminRole).join(', ')}` })
  role: AdminRole;
}

export class UpdateAdminDto {
  @ApiPropertyOptional({ enum: AdminRole, enumName: 'AdminRole' })
  @IsOptional()
  @IsEnum(AdminRole, { message: `role must be one of ${Object.values(AdminRole).join(', ')}` })
  role?: AdminRole;

  @ApiPropertyOptional({ description: 'A disabled admin cannot sign in; disabling ends its sessions and tokens' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

export class AdminResponseDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  username: string;

  @ApiProperty({ enum: AdminRole, enumName: 'AdminRole' })
  role: AdminRole;

  @ApiProperty()
  disabled: boolean;

  @ApiProperty()
  mfaEnabled: boolean;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastLoginAt: string | null;
}

export class ListSessionsQueryDto {
  @ApiPropertyOptional({ description: 'Owners only: every admin’s sessions', enum: ['true', 'false'] })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'all must be true or false' })
  all?: 'true' | 'false';
}

export class SessionResponseDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  username: string;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'Refreshed at most once a minute' })
  lastUsedAt: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'When it ends at the latest' })
  expiresAt: string;

  @ApiProperty({ type: String, nullable: true })
  ip: string | null;

  @ApiProperty({ type: String, nullable: true })
  userAgent: string | null;

  @ApiProperty({ description: 'The session making this request' })
  current: boolean;
}

export class CreateApiTokenDto {
  @ApiProperty({ example: 'nightly export' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name: string;

  @ApiProperty({ enum: AdminRole, enumName: 'AdminRole', description: 'No higher than the creator’s role' })
  @IsEnum(AdminRole, { message: `role must be one of ${Object.values(AdminRole).join(', ')}` })
  role: AdminRole;

  @ApiProperty({ minimum: 1, maximum: 365, example: 90 })
  @IsInt()
  @Min(1)
  @Max(365)
  expiresInDays: number;
}

export class ApiTokenResponseDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty()
  username: string;

  @ApiProperty({ enum: AdminRole, enumName: 'AdminRole' })
  role: AdminRole;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: string;

  @ApiProperty({ type: String, format: 'date-time' })
  lastUsedAt: string;

  @ApiProperty({ type: String, format: 'date-time' })
  expiresAt: string;
}

export class CreatedApiTokenResponseDto extends ApiTokenResponseDto {
  @ApiProperty({ description: 'The bearer token, shown only in this answer' })
  token: string;
}
