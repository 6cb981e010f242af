import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError, ErrorCode } from './app-error';

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => m.replace(e.property, field));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

function invalid(problems: string[]): AppError {
  return new AppError(ErrorCode.VALIDATION_FAILED, problems.join('; '), { problems });
}

const PRIMITIVES: unknown[] = [String, Number, Boolean];

/**
 * The app's ValidationPipe with the rules every route shares:
 * - a single path or query parameter (`@Query('q') q: string`) given several times (`?q=a&q=b`) is refused,
 *   never joined or passed on as an array;
 * - numbers read from the query or the path must be finite and within ±2^53 (`page=1e300` is refused
 *   instead of reaching SQL as an OFFSET), whatever the DTO's own decorators say.
 */
class AppValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const fromUrl = metadata.type === 'query' || metadata.type === 'param';
    if (fromUrl && metadata.data && PRIMITIVES.includes(metadata.metatype) && typeof value === 'object' && value) {
      throw invalid([`${metadata.data} must be given once, as a single value`]);
    }
    const result: unknown = await super.transform(value, metadata);
    if (fromUrl) {
      const entries: [string, unknown][] =
        metadata.data !== undefined
          ? [[metadata.data, result]]
          : result && typeof result === 'object'
            ? Object.entries(result)
            : [];
      const problems = entries
        .filter(([, v]) => typeof v === 'number' && !(Number.isFinite(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER))
        .map(([k]) => `${k} must be a number between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`);
      if (problems.length) throw invalid(problems);
    }
    return result;
  }
}

/**
 * DTO validation: unknown properties are refused (dropped instead with allowUnknown, for protocol bodies
 * from Jami clients), messages name each bad field.
 */
export function createValidationPipe(opts: { allowUnknown?: boolean } = {}): ValidationPipe {
  return new AppValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: !opts.allowUnknown,
    transform: true,
    exceptionFactory: (errors) => invalid(flatten(errors)),
  });
}
