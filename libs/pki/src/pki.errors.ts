/**
 * Every error thrown by libs/pki is a PkiError carrying one of these codes.
 * The server maps codes to HTTP statuses; messages are meant for operators and name the exact problem.
 */
export enum PkiErrorCode {
  /** Options failed validation; `details.problems` lists every problem. */
  CONFIG_INVALID = 'CONFIG_INVALID',
  /** A PEM key or certificate given to keyId/longKeyId/ocspKeyHashes/signData/verifyData is unusable. */
  KEY_INVALID = 'KEY_INVALID',

  CA_CERT_INVALID = 'CA_CERT_INVALID',
  CA_KEY_INVALID = 'CA_KEY_INVALID',
  CA_KEY_MISMATCH = 'CA_KEY_MISMATCH',
  CA_NOT_A_CA = 'CA_NOT_A_CA',
  CA_KEY_USAGE = 'CA_KEY_USAGE',
  CA_EXPIRED = 'CA_EXPIRED',
  CA_NOT_YET_VALID = 'CA_NOT_YET_VALID',
  CA_KEY_TOO_WEAK = 'CA_KEY_TOO_WEAK',
  /** The CA key is neither RSA nor ECDSA on P-256/P-384/P-521. */
  CA_KEY_UNSUPPORTED = 'CA_KEY_UNSUPPORTED',

  /** The issuing certificate/key pair passed to an issue/CRL/OCSP function is unusable (unparseable, mismatched, not a CA...). */
  SIGNER_INVALID = 'SIGNER_INVALID',
  /** The issuing certificate is expired at the issuance time. */
  SIGNER_EXPIRED = 'SIGNER_EXPIRED',
  /** The issuing certificate is not yet valid at the issuance time. */
  SIGNER_NOT_YET_VALID = 'SIGNER_NOT_YET_VALID',

  ACCOUNT_KEY_INVALID = 'ACCOUNT_KEY_INVALID',
  /** A key that must stay unique (CA, account) is presented for certification again. */
  KEY_REUSED = 'KEY_REUSED',

  CSR_INVALID = 'CSR_INVALID',
  CSR_SIGNATURE_INVALID = 'CSR_SIGNATURE_INVALID',
  CSR_KEY_NOT_RSA = 'CSR_KEY_NOT_RSA',
  CSR_KEY_TOO_WEAK = 'CSR_KEY_TOO_WEAK',
  CSR_KEY_EXPONENT = 'CSR_KEY_EXPONENT',

  OCSP_REQUEST_INVALID = 'OCSP_REQUEST_INVALID',
  /** A lookup result handed to respondOcsp is inconsistent (reported through onError; the client gets internalError). */
  OCSP_LOOKUP_INVALID = 'OCSP_LOOKUP_INVALID',

  /** A self-check failed (e.g. a freshly signed certificate does not verify). A bug, not bad input. */
  INTERNAL_ERROR = 'INTERNAL_ERROR',
}

export class PkiError extends Error {
  override readonly name = 'PkiError';

  constructor(
    readonly code: PkiErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isPkiError(error: unknown, code?: PkiErrorCode): error is PkiError {
  return error instanceof PkiError && (code === undefined || error.code === code);
}

/** The message of a caught library error, for wrapping it into a PkiError message. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
