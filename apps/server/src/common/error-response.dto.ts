import { applyDecorators } from '@nestjs/common';
import { ApiDefaultResponse, ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { ERROR_STATUS, ErrorCode } from './app-error';

/** The body of every error answer (see AppErrorFilter): `{statusCode, code, message, details?, requestId?}`. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode', example: ErrorCode.VALIDATION_FAILED })
  code: ErrorCode;

  @ApiProperty({ example: 'limit must not be greater than 500', description: 'Names the field or the problem' })
  message: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Machine-readable detail, e.g. `problems`: one message per bad field',
  })
  details?: Record<string, unknown>;

  @ApiProperty({ description: 'Also in the `x-request-id` response header and in every log line of the request' })
  requestId: string;
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
    ApiDefaultResponse({ type: ErrorResponseDto, description: 'Any other error' }),
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad input: the message and details.problems name each bad field (VALIDATION_FAILED)',
  401: 'No valid token (UNAUTHENTICATED)',
  403: "The token's role may not use this route (FORBIDDEN)",
  404: 'Not found',
  409: 'Conflict with the current state',
  429: 'Too many attempts (TOO_MANY_ATTEMPTS)',
  503: 'A dependency is unavailable',
};

/** Documents the given error statuses, and every other error as the default response, with ErrorResponseDto. */
export function ApiErrorResponses(...statuses: number[]) {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, type: ErrorResponseDto, description: STATUS_TEXT[status] ?? 'Error' }),
    ),
    ApiDefaultResponse({ type: ErrorResponseDto, description: 'Any other error' }),
  );
}
