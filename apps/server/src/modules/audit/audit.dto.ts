import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

// eslint-disable-next-line no-control-regex
const NO_NUL = /^[^\u0000]*$/;
const NO_NUL_MESSAGE = '$property must not contain NUL characters';

export class AuditFilterQueryDto {
  @ApiPropertyOptional({ description: "Exact actor, e.g. 'admin:alice', 'system:directory-sync'" })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(NO_NUL, { message: NO_NUL_MESSAGE })
  actor?: string;

  @ApiPropertyOptional({ description: "Exact action, e.g. 'user.created'" })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(NO_NUL, { message: NO_NUL_MESSAGE })
  action?: string;

  @ApiPropertyOptional({ description: 'Exact target, e.g. a username' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(NO_NUL, { message: NO_NUL_MESSAGE })
  target?: string;

  @ApiPropertyOptional({ description: 'Events at or after this ISO 8601 date-time', example: '2026-01-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ description: 'Events before this ISO 8601 date-time', example: '2026-02-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date-time' })
  to?: string;
}

export class ListAuditQueryDto extends AuditFilterQueryDto {
  @ApiPropertyOptional({ description: 'The nextCursor of the previous page (opaque)' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export class ExportAuditQueryDto extends AuditFilterQueryDto {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'json' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format?: ExportFormat;
}

export class AuditEventResponseDto {
  @ApiProperty({ description: 'Increasing with time; the chain order', example: '42' })
  id: string;

  @ApiProperty({ format: 'date-time' })
  at: string;

  @ApiProperty({ example: 'admin:alice' })
  actor: string;

  @ApiProperty({ example: 'user.created' })
  action: string;

  @ApiProperty({ type: String, nullable: true, example: 'jdoe' })
  target: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  details: Record<string, unknown> | null;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'State before the change' })
  before: Record<string, unknown> | null;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'State after the change' })
  after: Record<string, unknown> | null;

  @ApiProperty({ type: String, nullable: true, description: 'x-request-id of the request; null for jobs' })
  requestId: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Source address of the request; null for jobs' })
  address: string | null;

  @ApiProperty({ description: "The previous row's hash (64 zeros for the first row)" })
  prevHash: string;

  @ApiProperty({ description: 'SHA-256 (hex) of this row and prevHash' })
  hash: string;
}

export class AuditPageResponseDto {
  @ApiProperty({ type: [AuditEventResponseDto] })
  items: AuditEventResponseDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null at the end' })
  nextCursor: string | null;
}

export class AuditVerificationResponseDto {
  @ApiProperty({ description: 'Whether the whole chain verifies' })
  ok: boolean;

  @ApiProperty({ description: 'Rows checked (up to and including the first broken one)' })
  checked: number;

  @ApiPropertyOptional({ description: 'The first row that does not verify (when ok is false)', example: '42' })
  firstBrokenId?: string;

  @ApiPropertyOptional({ description: 'The last row (when ok): record it elsewhere to detect a rewritten tail' })
  lastId?: string;

  @ApiPropertyOptional({ description: "The last row's hash (when ok)" })
  lastHash?: string;
}
