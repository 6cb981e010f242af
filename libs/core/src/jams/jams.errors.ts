/** Failures talking to the Enclave (JAMS) server, each with a precise cause the agent can report. */
export enum JamsErrorCode {
  /** No TCP/TLS connection (refused, unknown host, timeout, reset). */
  UNREACHABLE = 'UNREACHABLE',
  /** The server's TLS certificate is not trusted (pass the organization CA). */
  TLS_UNTRUSTED = 'TLS_UNTRUSTED',
  /** Username or password refused. */
  CREDENTIALS_REJECTED = 'CREDENTIALS_REJECTED',
  /** The device certificate was refused at login: the device is revoked (or unknown to the server). */
  DEVICE_REVOKED = 'DEVICE_REVOKED',
  /** The local clock is too far from the server's. */
  CLOCK_SKEW = 'CLOCK_SKEW',
  NOT_FOUND = 'NOT_FOUND',
  TOO_MANY_ATTEMPTS = 'TOO_MANY_ATTEMPTS',
  /** Any other refusal (4xx) or failure (5xx), or an answer that is not what the protocol says. */
  SERVER_ERROR = 'SERVER_ERROR',
}

export class JamsError extends Error {
  constructor(
    readonly code: JamsErrorCode,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'JamsError';
  }
}
