import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ErrorCode } from './app-error';

/** The body of every error answer (see AppErrorFilter); the `default` response of every operation. */
export class ErrorResponseDto {
  @ApiProperty({ description: 'HTTP status code', example: 400 })
  statusCode: number;

  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode' })
  code: ErrorCode;

  @ApiProperty({ description: 'What went wrong, naming the field when the input is at fault' })
  message: string;

  @ApiPropertyOptional({
    description: 'Structured context, e.g. `problems` (one message per bad field) and `fields`',
    type: 'object',
    additionalProperties: true,
  })
  details?: Record<string, unknown>;

  @ApiProperty({ description: 'Also in the `x-request-id` response header and in every log line of the request' })
  requestId: string;
}
