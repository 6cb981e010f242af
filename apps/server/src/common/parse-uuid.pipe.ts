import { ParseUUIDPipe } from '@nestjs/common';
import { AppError, ErrorCode } from './app-error';

/** A route parameter that must be a UUID: anything else is a 400 naming the parameter. */
export function uuidParam(name = 'id'): ParseUUIDPipe {
  return new ParseUUIDPipe({
    exceptionFactory: () => new AppError(ErrorCode.VALIDATION_FAILED, `${name} must be a UUID`, { field: name }),
  });
}
