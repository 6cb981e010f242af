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
  // Users and devices (issue 9 §3)
  /** A directory user's field that the directory owns (names, email, phone) cannot be edited here. */
  USER_FIELD_MANAGED_BY_DIRECTORY = 'USER_FIELD_MANAGED_BY_DIRECTORY',
  /** Password changes apply to local users only; directory users change theirs in the directory. */
  USER_NOT_LOCAL = 'USER_NOT_LOCAL',
  /** The user is not in the state the operation needs (suspend a suspended user, resume an active one). */
  USER_STATUS_CONFLICT = 'USER_STATUS_CONFLICT',
  /** The username belongs to a deleted user (tombstone) until an owner releases it. */
  USERNAME_RESERVED = 'USERNAME_RESERVED',
  TOMBSTONE_NOT_FOUND = 'TOMBSTONE_NOT_FOUND',
  /** A revoked device key is never certified again. */
  DEVICE_KEY_REVOKED = 'DEVICE_KEY_REVOKED',
  /** The CSR's key is an account key, a pooled account key, a server key or a CA key. */
  DEVICE_KEY_FORBIDDEN = 'DEVICE_KEY_FORBIDDEN',
  /** Another enrollment of the same key is in progress or has just completed. */
  DEVICE_ENROLLMENT_CONFLICT = 'DEVICE_ENROLLMENT_CONFLICT',
  /** mTLS login with a device certificate outside its validity period: the device must enroll again. */
  DEVICE_CERTIFICATE_EXPIRED = 'DEVICE_CERTIFICATE_EXPIRED',
  // Admin auth: roles, sessions, MFA, tokens, setup code (issue 9 §1)
  TOKEN_IN_QUERY = 'TOKEN_IN_QUERY',
  MFA_REQUIRED = 'MFA_REQUIRED',
  MFA_SETUP_REQUIRED = 'MFA_SETUP_REQUIRED',
  MFA_ALREADY_ENABLED = 'MFA_ALREADY_ENABLED',
  MFA_NOT_ENABLED = 'MFA_NOT_ENABLED',
  MFA_REQUIRED_BY_POLICY = 'MFA_REQUIRED_BY_POLICY',
  REAUTH_REQUIRED = 'REAUTH_REQUIRED',
  ADMIN_EXISTS = 'ADMIN_EXISTS',
  ADMIN_NOT_FOUND = 'ADMIN_NOT_FOUND',
  LAST_OWNER = 'LAST_OWNER',
  ROLE_TOO_HIGH = 'ROLE_TOO_HIGH',
  SESSION_NOT_FOUND = 'SESSION_NOT_FOUND',
  API_TOKEN_NOT_FOUND = 'API_TOKEN_NOT_FOUND',
  SETUP_CODE_INVALID = 'SETUP_CODE_INVALID',
  MFA_CODE_INVALID = 'MFA_CODE_INVALID',
  PASSWORD_INCORRECT = 'PASSWORD_INCORRECT',
  // Groups and policies
  GROUP_NOT_FOUND = 'GROUP_NOT_FOUND',
  GROUP_EXISTS = 'GROUP_EXISTS',
  GROUP_READ_ONLY = 'GROUP_READ_ONLY',
  GROUP_IN_USE = 'GROUP_IN_USE',
  POLICY_NOT_FOUND = 'POLICY_NOT_FOUND',
  POLICY_EXISTS = 'POLICY_EXISTS',
  POLICY_IN_USE = 'POLICY_IN_USE',
  LOGO_NOT_FOUND = 'LOGO_NOT_FOUND',
  LOGO_INVALID = 'LOGO_INVALID',
  // CA operations (issue 9 §5)
  CA_SETTINGS_INVALID = 'CA_SETTINGS_INVALID',
  CA_ROTATION_IN_PROGRESS = 'CA_ROTATION_IN_PROGRESS',
  CA_NO_PREVIOUS = 'CA_NO_PREVIOUS',
  CA_ROTATION_INVALID = 'CA_ROTATION_INVALID',
  // rooms (conference rooms, issue 10)
  ROOM_NOT_FOUND = 'ROOM_NOT_FOUND',
  /** Rooms and users share one namespace (the name server resolves both). */
  ROOM_NAME_TAKEN = 'ROOM_NAME_TAKEN',
  /** A room-host route called by something else than a room's own device. */
  ROOM_HOST_ONLY = 'ROOM_HOST_ONLY',
  // --- Bad input (request parsing) ---
  /** A body in a media type or content encoding the route does not accept. */
  MEDIA_TYPE_UNSUPPORTED = 'MEDIA_TYPE_UNSUPPORTED',
  // organization network (the server's DHT node, issue 12)
  /** ENCLAVE_DHT_PORT=0: the server runs no DHT node. */
  DHT_DISABLED = 'DHT_DISABLED',
  /** A value POSTed to the DHT proxy that does not parse, is too large, or whose signature fails. */
  DHT_VALUE_INVALID = 'DHT_VALUE_INVALID',
  /** The DHT proxy's per-address request budget, or its bound on kept-alive puts, is exhausted. */
  DHT_PROXY_LIMIT = 'DHT_PROXY_LIMIT',
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
  // Users and devices (issue 9 §3)
  [ErrorCode.USER_FIELD_MANAGED_BY_DIRECTORY]: 409,
  [ErrorCode.USER_NOT_LOCAL]: 409,
  [ErrorCode.USER_STATUS_CONFLICT]: 409,
  [ErrorCode.USERNAME_RESERVED]: 409,
  [ErrorCode.TOMBSTONE_NOT_FOUND]: 404,
  [ErrorCode.DEVICE_KEY_REVOKED]: 409,
  [ErrorCode.DEVICE_KEY_FORBIDDEN]: 409,
  [ErrorCode.DEVICE_ENROLLMENT_CONFLICT]: 409,
  [ErrorCode.DEVICE_CERTIFICATE_EXPIRED]: 401,
  // Admin auth: roles, sessions, MFA, tokens, setup code (issue 9 §1)
  [ErrorCode.TOKEN_IN_QUERY]: 400,
  [ErrorCode.MFA_REQUIRED]: 401,
  [ErrorCode.MFA_SETUP_REQUIRED]: 403,
  [ErrorCode.MFA_ALREADY_ENABLED]: 409,
  [ErrorCode.MFA_NOT_ENABLED]: 409,
  [ErrorCode.MFA_REQUIRED_BY_POLICY]: 409,
  [ErrorCode.REAUTH_REQUIRED]: 401,
  [ErrorCode.ADMIN_EXISTS]: 409,
  [ErrorCode.ADMIN_NOT_FOUND]: 404,
  [ErrorCode.LAST_OWNER]: 409,
  [ErrorCode.ROLE_TOO_HIGH]: 403,
  [ErrorCode.SESSION_NOT_FOUND]: 404,
  [ErrorCode.API_TOKEN_NOT_FOUND]: 404,
  [ErrorCode.SETUP_CODE_INVALID]: 403,
  [ErrorCode.MFA_CODE_INVALID]: 400,
  [ErrorCode.PASSWORD_INCORRECT]: 403,
  // Groups and policies
  [ErrorCode.GROUP_NOT_FOUND]: 404,
  [ErrorCode.GROUP_EXISTS]: 409,
  [ErrorCode.GROUP_READ_ONLY]: 409,
  [ErrorCode.GROUP_IN_USE]: 409,
  [ErrorCode.POLICY_NOT_FOUND]: 404,
  [ErrorCode.POLICY_EXISTS]: 409,
  [ErrorCode.POLICY_IN_USE]: 409,
  [ErrorCode.LOGO_NOT_FOUND]: 404,
  [ErrorCode.LOGO_INVALID]: 400,
  // CA operations (issue 9 §5)
  [ErrorCode.CA_SETTINGS_INVALID]: 400,
  [ErrorCode.CA_ROTATION_IN_PROGRESS]: 409,
  [ErrorCode.CA_NO_PREVIOUS]: 409,
  [ErrorCode.CA_ROTATION_INVALID]: 400,
  // rooms
  [ErrorCode.ROOM_NOT_FOUND]: 404,
  [ErrorCode.ROOM_NAME_TAKEN]: 409,
  [ErrorCode.ROOM_HOST_ONLY]: 403,
  // --- Bad input (request parsing) ---
  [ErrorCode.MEDIA_TYPE_UNSUPPORTED]: 415,
  // organization network
  [ErrorCode.DHT_DISABLED]: 409,
  [ErrorCode.DHT_VALUE_INVALID]: 400,
  [ErrorCode.DHT_PROXY_LIMIT]: 429,
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
