import { applyDecorators } from '@nestjs/common';
import { ApiDefaultResponse, ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { ErrorCode } from './app-error';

/** The body of every error answer (the global filter's shape). */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode' })
  code: ErrorCode;

  @ApiProperty({ example: 'accountCertDays: must be an integer between 1 and 36500' })
  message: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  details?: Record<string, unknown>;

  @ApiPropertyOptional()
  requestId?: string;
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Bad input: the message and details name the field',
  401: 'Missing or invalid bearer token',
  403: 'The role or a recent re-authentication is missing',
  404: 'Not found',
  409: 'Conflicts with the current state',
};

/** Documents the error answers of an operation: the listed statuses and the default, all ErrorResponseDto. */
export const ApiErrorResponses = (...statuses: number[]) =>
  applyDecorators(
    ApiDefaultResponse({ type: ErrorResponseDto, description: 'Any other error' }),
    ...statuses.map((status) =>
      ApiResponse({ status, type: ErrorResponseDto, description: DESCRIPTIONS[status] ?? 'Error' }),
    ),
  );
