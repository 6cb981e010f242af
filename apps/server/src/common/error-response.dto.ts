import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { ERROR_STATUS, ErrorCode } from './app-error';

/** Every error answer: `{statusCode, code, message, details?, requestId?}`. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode' })
  code: ErrorCode;

  @ApiProperty({ description: 'Names the field or the problem' })
  message: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  details?: Record<string, unknown>;

  @ApiPropertyOptional()
  requestId?: string;
}

/**
 * Documents an operation's error responses: one entry per HTTP status of the given codes (listed in the
 * description), each with ErrorResponseDto, plus the ErrorResponseDto default.
 */
export function ApiErrors(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const c of codes) byStatus.set(ERROR_STATUS[c], [...(byStatus.get(ERROR_STATUS[c]) ?? []), c]);
  return applyDecorators(
    ...[...byStatus].map(([status, list]) =>
      ApiResponse({ status, description: list.join(', '), type: ErrorResponseDto }),
    ),
    ApiResponse({ status: 'default', description: 'Any other error', type: ErrorResponseDto }),
  );
}
