import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';

export class AttributeMapDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) firstName?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) lastName?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) email?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) phone?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) photo?: string;
}

/** Directory settings as an admin edits them; omitted fields take the type's defaults. */
export class DirectorySettingsDto {
  @ApiProperty({ enum: ['local', 'ldap', 'ad'] })
  @IsIn(['local', 'ldap', 'ad'])
  type: 'local' | 'ldap' | 'ad';

  @ApiPropertyOptional({ example: 'ldaps://ldap.example.org' }) @IsOptional() @IsString() @MaxLength(512) url?: string;
  @ApiPropertyOptional({ description: 'StartTLS on an ldap:// URL' }) @IsOptional() @IsBoolean() startTls?: boolean;
  @ApiPropertyOptional({ description: 'PEM CA certificate(s) trusted for the directory' })
  @IsOptional()
  @IsString()
  @MaxLength(65536)
  caCertPem?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(512) bindDn?: string;
  @ApiPropertyOptional({ description: 'Write-only; omit to keep the stored one' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  bindPassword?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(512) baseDn?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1024) userFilter?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) usernameAttribute?: string;
  @ApiPropertyOptional({ type: AttributeMapDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AttributeMapDto)
  attributeMap?: AttributeMapDto;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(512) groupBaseDn?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1024) groupFilter?: string;
  @ApiPropertyOptional({ minimum: 0, maximum: 10080 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10080)
  syncIntervalMinutes?: number;
  @ApiPropertyOptional({ minimum: 1, maximum: 720 }) @IsOptional() @IsInt() @Min(1) @Max(720) fullSyncHours?: number;
  @ApiPropertyOptional({ minimum: 0, maximum: 100 }) @IsOptional() @IsInt() @Min(0) @Max(100) brakePercent?: number;
}

export class DirectorySettingsResponseDto {
  @ApiProperty({ enum: ['local', 'ldap', 'ad'] }) type: string;
  @ApiProperty() url: string;
  @ApiProperty() startTls: boolean;
  @ApiProperty({ nullable: true, type: String }) caCertPem: string | null;
  @ApiProperty() bindDn: string;
  @ApiProperty({ description: 'Whether a bind password is stored (it is never returned)' }) bindPasswordSet: boolean;
  @ApiProperty() baseDn: string;
  @ApiProperty() userFilter: string;
  @ApiProperty() usernameAttribute: string;
  @ApiProperty({ type: AttributeMapDto }) attributeMap: AttributeMapDto;
  @ApiProperty({ nullable: true, type: String }) groupBaseDn: string | null;
  @ApiProperty({ nullable: true, type: String }) groupFilter: string | null;
  @ApiProperty() syncIntervalMinutes: number;
  @ApiProperty() fullSyncHours: number;
  @ApiProperty() brakePercent: number;
}

export class ConnectionStageDto {
  @ApiProperty({ enum: ['url', 'dns', 'tcp', 'tls', 'bind', 'search'] }) stage: string;
  @ApiProperty() ok: boolean;
  @ApiPropertyOptional() message?: string;
}

export class ConnectionTestDto {
  @ApiProperty() ok: boolean;
  @ApiProperty({ type: [ConnectionStageDto] }) stages: ConnectionStageDto[];
  @ApiProperty({ nullable: true, type: Number, description: 'Users the filter matches' }) matchedUsers: number | null;
}

export class StartSyncDto {
  @ApiPropertyOptional({ enum: ['full', 'incremental'], default: 'full' })
  @IsOptional()
  @IsIn(['full', 'incremental'])
  mode?: 'full' | 'incremental';
}

export class SyncRunDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['full', 'incremental'] }) mode: string;
  @ApiProperty({ enum: ['queued', 'running', 'succeeded', 'failed', 'awaiting_confirmation', 'confirmed'] })
  status: string;
  @ApiProperty() trigger: string;
  @ApiProperty({ nullable: true, type: String }) startedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) finishedAt: string | null;
  @ApiProperty() seen: number;
  @ApiProperty() added: number;
  @ApiProperty() updated: number;
  @ApiProperty() suspended: number;
  @ApiProperty() reactivated: number;
  @ApiProperty({ type: [String] }) errors: string[];
  @ApiProperty({ description: 'Suspensions waiting for confirmation (mass-deletion brake)' })
  pendingSuspensions: number;
}

export class ProvisioningRunDto {
  @ApiProperty() id: string;
  @ApiProperty() status: string;
  @ApiProperty() total: number;
  @ApiProperty() done: number;
  @ApiProperty() failed: number;
  @ApiProperty({ description: 'Accounts per second so far' }) rate: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Seconds left at the current rate' }) etaSeconds:
    number | null;
  @ApiProperty({ type: [String] }) errors: string[];
}
