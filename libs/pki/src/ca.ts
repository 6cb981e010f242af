import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { certificateInfo, CertificateInfo, KEY_USAGE, parseCertificate, SignerPem } from './certificate';
import { basicConstraintsExtension, keyUsageExtension } from './extensions';
import { issueCertificate } from './issuance';
import {
  describeKey,
  generateKeyPair,
  KeyAlgorithm,
  keyAlgorithmName,
  keyLabel,
  MIN_RSA_BITS,
  privateKeyPkcs8Pem,
  readPrivateKey,
  samePublicKey,
} from './keys';
import { buildName, OID_COMMON_NAME, OID_ORGANIZATION } from './names';
import { PkiError, PkiErrorCode } from './pki.errors';
import { validateCaImportOptions, validateCaOptions } from './validate';

export const DEFAULT_CA_VALIDITY_DAYS = 3650;

export interface CreateCertificateAuthorityOptions {
  commonName: string;
  organization?: string;
  /** Default RSA-4096. */
  algorithm?: KeyAlgorithm;
  /** Default 3650. */
  validityDays?: number;
  now?: Date;
}

export interface ImportCertificateAuthorityOptions {
  certificatePem: string;
  /** PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY"), unencrypted. */
  privateKeyPem: string;
  now?: Date;
}

export type CertificateAuthority = SignerPem & CertificateInfo;

/**
 * Creates a self-signed root: CN (and O) as given, basicConstraints CA:TRUE and keyUsage
 * keyCertSign|cRLSign (both critical), SKI/AKI, SHA-256 with RSA or ECDSA P-256, random 16-byte serial.
 */
export async function createCertificateAuthority(
  options: CreateCertificateAuthorityOptions,
): Promise<CertificateAuthority> {
  validateCaOptions(options);
  const keys = await generateKeyPair(options.algorithm ?? 'RSA-4096');
  const privateKey = readPrivateKey(keys.privateKeyPem, PkiErrorCode.INTERNAL_ERROR, 'generated CA key');
  const certificate = await issueCertificate(
    {
      subject: buildName([
        [OID_COMMON_NAME, options.commonName],
        [OID_ORGANIZATION, options.organization],
      ]),
      publicKey: privateKey,
      now: options.now ?? new Date(),
      validityDays: options.validityDays ?? DEFAULT_CA_VALIDITY_DAYS,
      extensions: [basicConstraintsExtension(true), keyUsageExtension(KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign)],
    },
    { selfSignedWith: privateKey },
  );
  return { ...certificateInfo(certificate), privateKeyPem: keys.privateKeyPem };
}

/**
 * Checks an existing CA certificate and key, in this order, each failure with its own code:
 * certificate PEM (CA_CERT_INVALID), key PEM (CA_KEY_INVALID), key matches certificate (CA_KEY_MISMATCH),
 * basicConstraints CA:TRUE (CA_NOT_A_CA), keyUsage has keyCertSign when present (CA_KEY_USAGE),
 * not expired (CA_EXPIRED), already valid (CA_NOT_YET_VALID), key strength (CA_KEY_TOO_WEAK,
 * CA_KEY_UNSUPPORTED). Returns the certificate re-encoded and the key as PKCS#8.
 */
export async function importCertificateAuthority(
  options: ImportCertificateAuthorityOptions,
): Promise<CertificateAuthority & { algorithm: KeyAlgorithm | string }> {
  validateCaImportOptions(options);
  const now = options.now ?? new Date();
  const certificate = parseCertificate(options.certificatePem, PkiErrorCode.CA_CERT_INVALID, 'CA certificate');
  if (certificate.subjectDer.equals(certificate.issuerDer)) {
    let verified = false;
    try {
      verified = new NodeX509Certificate(certificate.der).verify(certificate.publicKey);
    } catch {
      verified = false;
    }
    if (!verified) {
      throw new PkiError(
        PkiErrorCode.CA_CERT_INVALID,
        'CA certificate is self-issued but its signature does not verify',
      );
    }
  }
  const privateKey = readPrivateKey(options.privateKeyPem, PkiErrorCode.CA_KEY_INVALID, 'CA private key');
  if (!samePublicKey(privateKey, certificate.publicKey)) {
    throw new PkiError(
      PkiErrorCode.CA_KEY_MISMATCH,
      `CA private key (${keyLabel(privateKey)}) does not match the public key of the CA certificate (${keyLabel(certificate.publicKey)})`,
    );
  }
  if (!certificate.basicConstraints?.ca) {
    throw new PkiError(
      PkiErrorCode.CA_NOT_A_CA,
      certificate.basicConstraints
        ? 'CA certificate has basicConstraints CA:FALSE; a CA certificate needs CA:TRUE'
        : 'CA certificate has no basicConstraints extension; a CA certificate needs CA:TRUE',
    );
  }
  if (certificate.keyUsage !== null && (certificate.keyUsage & KEY_USAGE.keyCertSign) === 0) {
    throw new PkiError(
      PkiErrorCode.CA_KEY_USAGE,
      'CA certificate keyUsage does not include keyCertSign, so it cannot sign certificates',
    );
  }
  if (now.getTime() > certificate.notAfter.getTime()) {
    throw new PkiError(PkiErrorCode.CA_EXPIRED, `CA certificate expired at ${certificate.notAfter.toISOString()}`, {
      notAfter: certificate.notAfter,
    });
  }
  if (now.getTime() < certificate.notBefore.getTime()) {
    throw new PkiError(
      PkiErrorCode.CA_NOT_YET_VALID,
      `CA certificate is not valid before ${certificate.notBefore.toISOString()}`,
      { notBefore: certificate.notBefore },
    );
  }
  const key = describeKey(privateKey);
  if (key.kind === 'rsa' && key.bits < MIN_RSA_BITS) {
    throw new PkiError(
      PkiErrorCode.CA_KEY_TOO_WEAK,
      `CA key is ${key.bits}-bit RSA; at least ${MIN_RSA_BITS} bits are required`,
      { bits: key.bits },
    );
  }
  if (key.kind === 'other' || (key.kind === 'ec' && !['P-256', 'P-384', 'P-521'].includes(key.curve))) {
    throw new PkiError(
      PkiErrorCode.CA_KEY_UNSUPPORTED,
      `CA key is ${keyLabel(privateKey)}; supported CA keys are RSA (at least ${MIN_RSA_BITS} bits) and ECDSA on P-256, P-384 or P-521`,
    );
  }
  return {
    ...certificateInfo(certificate),
    privateKeyPem: privateKeyPkcs8Pem(privateKey),
    algorithm: keyAlgorithmName(privateKey),
  };
}
