import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ErrorCode } from './app-error';

/** The body of every error answer (the global filter writes it). */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode' }) code: ErrorCode;
  @ApiProperty({ description: 'What went wrong, naming the field at fault' }) message: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Fields, keys or names at fault' })
  details?: Record<string, unknown>;
  @ApiPropertyOptional() requestId?: string;
}
