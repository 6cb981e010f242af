export { PkiError, PkiErrorCode, isPkiError } from './pki.errors';
export { generateKeyPair, KEY_ALGORITHMS, MIN_RSA_BITS, RSA_PUBLIC_EXPONENT } from './keys';
export type { KeyAlgorithm, KeyPairPem } from './keys';
export { keyId, longKeyId, ocspKeyHashes, ocspNameHashes } from './ids';
export type { CertificateInfo, SignerPem } from './certificate';
export { CLOCK_SKEW_ALLOWANCE_MS } from './issuance';
export { createCertificateAuthority, importCertificateAuthority, DEFAULT_CA_VALIDITY_DAYS } from './ca';
export type { CertificateAuthority, CreateCertificateAuthorityOptions, ImportCertificateAuthorityOptions } from './ca';
export { issueServerCertificate, DEFAULT_SERVER_VALIDITY_DAYS } from './server-certificate';
export type { IssueServerCertificateOptions } from './server-certificate';
export { issueAccountCertificate, DEFAULT_ACCOUNT_VALIDITY_DAYS } from './account-certificate';
export type { IssueAccountCertificateOptions } from './account-certificate';
export { parseCsr, MAX_CSR_PEM_LENGTH } from './csr';
export type { ParsedCsr } from './csr';
export { issueDeviceCertificate, DEFAULT_DEVICE_VALIDITY_DAYS } from './device-certificate';
export type { DeviceCertificate, IssueDeviceCertificateOptions } from './device-certificate';
export { reissueCertificate } from './reissue';
export type { ReissueCertificateOptions } from './reissue';
export { createCrl } from './crl';
export type { CreateCrlOptions, CrlEntry, RevocationReason } from './crl';
export { parseOcspRequest, respondOcsp, DEFAULT_OCSP_NEXT_UPDATE_SECONDS } from './ocsp';
export type { OcspCertId, OcspCertStatus, OcspLookupResult, OcspRequestInfo, RespondOcspOptions } from './ocsp';
export { signData, verifyData } from './data-signature';
export {
  validateAccountCertificateOptions,
  validateCaImportOptions,
  validateCaOptions,
  validateCrlOptions,
  validateDeviceCertificateOptions,
  validateOcspResponderOptions,
  validateServerCertificateOptions,
  validateReissueOptions,
  REVOCATION_REASONS,
  MAX_VALIDITY_DAYS,
} from './validate';
