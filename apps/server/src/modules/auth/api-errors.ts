import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../../common/error-response.dto';

/** Documents error answers: each entry is [status, the ErrorCodes it can carry]. */
export const ApiErrors = (...entries: [number, string][]) =>
  applyDecorators(
    ...entries.map(([status, description]) => ApiResponse({ status, description, type: ErrorResponseDto })),
  );

/** The errors every guarded admin route can answer, plus the route's own. */
export const AdminRouteErrors = (...entries: [number, string][]) => {
  const merged = new Map<number, string>([
    [400, 'VALIDATION_FAILED, TOKEN_IN_QUERY'],
    [401, 'UNAUTHENTICATED'],
    [403, 'FORBIDDEN (role not allowed), MFA_SETUP_REQUIRED'],
  ]);
  for (const [status, codes] of entries)
    merged.set(status, merged.has(status) ? `${merged.get(status)}, ${codes}` : codes);
  return ApiErrors(...merged.entries());
};
