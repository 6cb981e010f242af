/** Why a peer's identity was refused. Every refusal in the trust layer is a TrustError with one of these. */
export enum TrustErrorCode {
  /** Not a PEM chain device → account [→ CA], or a certificate that does not parse. */
  CHAIN_MALFORMED = 'CHAIN_MALFORMED',
  /** A signature in the chain does not verify, or the chain does not end at the organization's CA. */
  CHAIN_UNTRUSTED = 'CHAIN_UNTRUSTED',
  /** The account certificate is not a CA, or the device certificate is one. */
  CHAIN_BAD_CONSTRAINTS = 'CHAIN_BAD_CONSTRAINTS',
  CERTIFICATE_EXPIRED = 'CERTIFICATE_EXPIRED',
  CERTIFICATE_NOT_YET_VALID = 'CERTIFICATE_NOT_YET_VALID',
  /** The device (or its account) is on a CRL of its issuer, or OCSP answered "revoked". */
  REVOKED = 'REVOKED',
  /** No usable revocation information while the policy requires it. */
  REVOCATION_UNKNOWN = 'REVOCATION_UNKNOWN',
  /** The key that signed a value or secured a DTLS session is not the certified device key. */
  KEY_MISMATCH = 'KEY_MISMATCH',
  /** A CRL or OCSP response that does not parse or whose signature does not verify. */
  REVOCATION_DATA_INVALID = 'REVOCATION_DATA_INVALID',
}

export class TrustError extends Error {
  constructor(
    readonly code: TrustErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'TrustError';
  }
}
