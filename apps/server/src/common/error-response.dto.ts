import { applyDecorators } from '@nestjs/common';
import { ApiDefaultResponse, ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ERROR_STATUS, ErrorCode } from './app-error';

/** The body of every error answer (see AppErrorFilter): `{statusCode, code, message, details?, requestId}`. */
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

  @ApiProperty({ description: 'The x-request-id of the failed request, also in every log line of the request' })
  requestId: string;
}

/**
 * The errors every admin route behind AdminGuard can answer besides its own: no valid token, a role that may
 * not call the route, an MFA enrolment still due, a token in the query string, bad input.
 */
export const ADMIN_ROUTE_ERRORS = [
  ErrorCode.UNAUTHENTICATED,
  ErrorCode.FORBIDDEN,
  ErrorCode.MFA_SETUP_REQUIRED,
  ErrorCode.TOKEN_IN_QUERY,
  ErrorCode.VALIDATION_FAILED,
] as const;

/**
 * The one way to document an operation's error responses: one entry per HTTP status of the given codes (listed in the
 * description), each with ErrorResponseDto, plus the ErrorResponseDto default. Errors are JSON even where the
 * operation produces another media type (PEM, DER, CSV, an image).
 */
export function ApiErrors(...codes: ErrorCode[]) {
  const content = { 'application/json': { schema: { $ref: getSchemaPath(ErrorResponseDto) } } };
  const byStatus = new Map<number, ErrorCode[]>();
  for (const c of new Set(codes)) byStatus.set(ERROR_STATUS[c], [...(byStatus.get(ERROR_STATUS[c]) ?? []), c]);
  return applyDecorators(
    ...[...byStatus].map(([status, list]) => ApiResponse({ status, description: list.join(', '), content })),
    ApiDefaultResponse({ description: 'Any other error', content }),
  );
}
