import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError, ErrorCode } from './app-error';

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => m.replace(e.property, field));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/**
 * DTO validation: unknown properties are refused (dropped instead with allowUnknown, for protocol bodies
 * from Jami clients), messages name each bad field.
 */
export function createValidationPipe(opts: { allowUnknown?: boolean } = {}): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: !opts.allowUnknown,
    transform: true,
    exceptionFactory: (errors) => {
      const problems = flatten(errors);
      return new AppError(ErrorCode.VALIDATION_FAILED, problems.join('; '), { problems });
    },
  });
}
