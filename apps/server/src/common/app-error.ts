/**
 * Domain errors. Services throw AppError with a code; the global filter maps the code to an HTTP
 * status through the exhaustive table below and answers `{ statusCode, code, message, details?, requestId }`.
 */
export enum ErrorCode {
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  BODY_INVALID = 'BODY_INVALID',
  BODY_TOO_LARGE = 'BODY_TOO_LARGE',
  NOT_FOUND = 'NOT_FOUND',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  INVALID_CREDENTIALS = 'INVALID_CREDENTIALS',
  /** Bad Basic credentials on /api/login: 403, because a 401 there makes Jami clients wipe their identity. */
  CREDENTIALS_REJECTED = 'CREDENTIALS_REJECTED',
  USER_SUSPENDED = 'USER_SUSPENDED',
  SCOPE_INSUFFICIENT = 'SCOPE_INSUFFICIENT',
  DEVICE_REVOKED = 'DEVICE_REVOKED',
  DEVICE_UNKNOWN = 'DEVICE_UNKNOWN',
  DEVICE_NOT_FOUND = 'DEVICE_NOT_FOUND',
  DEVICE_KEY_IN_USE = 'DEVICE_KEY_IN_USE',
  ACCOUNT_REVOKED = 'ACCOUNT_REVOKED',
  NAME_NOT_FOUND = 'NAME_NOT_FOUND',
  DIRECTORY_UNAVAILABLE = 'DIRECTORY_UNAVAILABLE',
  SYNC_RUN_NOT_FOUND = 'SYNC_RUN_NOT_FOUND',
  SYNC_NOT_CONFIRMABLE = 'SYNC_NOT_CONFIRMABLE',
  ADDRESS_NOT_FOUND = 'ADDRESS_NOT_FOUND',
  TOO_MANY_ATTEMPTS = 'TOO_MANY_ATTEMPTS',
  SETUP_REQUIRED = 'SETUP_REQUIRED',
  ALREADY_SET_UP = 'ALREADY_SET_UP',
  USER_EXISTS = 'USER_EXISTS',
  USER_NOT_FOUND = 'USER_NOT_FOUND',
  USERNAME_INVALID = 'USERNAME_INVALID',
  PASSWORD_TOO_SHORT = 'PASSWORD_TOO_SHORT',
  CA_INVALID = 'CA_INVALID',
  ISSUER_NOT_FOUND = 'ISSUER_NOT_FOUND',
  CERTIFICATE_NOT_FOUND = 'CERTIFICATE_NOT_FOUND',
  OCSP_REQUEST_INVALID = 'OCSP_REQUEST_INVALID',
  DATABASE_UNAVAILABLE = 'DATABASE_UNAVAILABLE',
  NOT_READY = 'NOT_READY',
  INTERNAL = 'INTERNAL',
  // --- Bad input (request parsing) ---
  /** A body in a media type or content encoding the route does not accept. */
  MEDIA_TYPE_UNSUPPORTED = 'MEDIA_TYPE_UNSUPPORTED',
}

export const ERROR_STATUS: Record<ErrorCode, number> = {
  [ErrorCode.VALIDATION_FAILED]: 400,
  [ErrorCode.BODY_INVALID]: 400,
  [ErrorCode.BODY_TOO_LARGE]: 413,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.INVALID_CREDENTIALS]: 401,
  [ErrorCode.CREDENTIALS_REJECTED]: 403,
  [ErrorCode.USER_SUSPENDED]: 403,
  [ErrorCode.SCOPE_INSUFFICIENT]: 403,
  [ErrorCode.DEVICE_REVOKED]: 401,
  [ErrorCode.DEVICE_UNKNOWN]: 401,
  [ErrorCode.DEVICE_NOT_FOUND]: 404,
  [ErrorCode.DEVICE_KEY_IN_USE]: 409,
  [ErrorCode.ACCOUNT_REVOKED]: 403,
  [ErrorCode.NAME_NOT_FOUND]: 404,
  [ErrorCode.DIRECTORY_UNAVAILABLE]: 503,
  [ErrorCode.SYNC_RUN_NOT_FOUND]: 404,
  [ErrorCode.SYNC_NOT_CONFIRMABLE]: 409,
  [ErrorCode.ADDRESS_NOT_FOUND]: 404,
  [ErrorCode.TOO_MANY_ATTEMPTS]: 429,
  [ErrorCode.SETUP_REQUIRED]: 409,
  [ErrorCode.ALREADY_SET_UP]: 404,
  [ErrorCode.USER_EXISTS]: 409,
  [ErrorCode.USER_NOT_FOUND]: 404,
  [ErrorCode.USERNAME_INVALID]: 400,
  [ErrorCode.PASSWORD_TOO_SHORT]: 400,
  [ErrorCode.CA_INVALID]: 400,
  [ErrorCode.ISSUER_NOT_FOUND]: 404,
  [ErrorCode.CERTIFICATE_NOT_FOUND]: 404,
  [ErrorCode.OCSP_REQUEST_INVALID]: 400,
  [ErrorCode.DATABASE_UNAVAILABLE]: 503,
  [ErrorCode.NOT_READY]: 503,
  [ErrorCode.INTERNAL]: 500,
  // --- Bad input (request parsing) ---
  [ErrorCode.MEDIA_TYPE_UNSUPPORTED]: 415,
};

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.headers = options?.headers;
  }

  readonly headers?: Record<string, string>;

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
  requestId?: string;
}
