import { applyDecorators } from '@nestjs/common';
import { ApiDefaultResponse, ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { ErrorCode } from './app-error';

/** The body of every error answer (see AppErrorFilter). */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode', example: ErrorCode.VALIDATION_FAILED })
  code: ErrorCode;

  @ApiProperty({ example: 'limit must not be greater than 500' })
  message: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Machine-readable detail, e.g. `problems`: one message per bad field',
  })
  details?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'The x-request-id of the failed request' })
  requestId?: string;
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
