import { createHash, createPublicKey, KeyObject, verify as verifyCallback } from 'node:crypto';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Name } from '@peculiar/asn1-x509';
import { DER_TAG_SEQUENCE, readDerChildren, readDerElement } from './der';
import { describeKey, keyLabel, MIN_RSA_BITS, publicKeyPem, RSA_PUBLIC_EXPONENT, spkiDer } from './keys';
import { formatName } from './names';
import { decodeSinglePem } from './pem';
import { errorText, PkiError, PkiErrorCode } from './pki.errors';

export interface ParsedCsr {
  /** SPKI PEM of the requested key. */
  publicKeyPem: string;
  /** SHA-256 of the DER SPKI, 64 hex: the Jami device ID. */
  deviceId: string;
  /** SHA-1 of the DER SPKI, 40 hex: the legacy short device ID (what Jami puts in the CSR UID). */
  shortDeviceId: string;
  /** e.g. "CN=Jami device, UID=0123...". */
  subject: string;
  modulusBits: number;
  publicExponent: number;
}

/** What issuing needs beyond the public view. */
export interface CheckedCsr extends ParsedCsr {
  publicKey: KeyObject;
  subjectName: Name;
}

export const MAX_CSR_PEM_LENGTH = 16 * 1024;
const CSR_LABELS = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];

// Signature algorithms accepted as proof of possession. SHA-1 and MD5 are refused; RSASSA-PSS is not used by Jami.
const CSR_SIGNATURE_HASHES: Record<string, string | null> = {
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null, // Ed25519
  '1.3.101.113': null, // Ed448
};
const WEAK_SIGNATURES: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
};

/**
 * Parses and checks a PKCS#10 request the way enrollment needs it: PEM ("CERTIFICATE REQUEST" or
 * gnutls' "NEW CERTIFICATE REQUEST"), DER without trailing data, at most 16 KiB (CSR_INVALID); a
 * signature that verifies with the request's own key (CSR_SIGNATURE_INVALID); an RSA key
 * (CSR_KEY_NOT_RSA) of at least 2048 bits (CSR_KEY_TOO_WEAK) with exponent 65537 (CSR_KEY_EXPONENT).
 */
export async function parseCsr(csrPem: string): Promise<ParsedCsr> {
  const csr = await checkCsr(csrPem);
  return {
    publicKeyPem: csr.publicKeyPem,
    deviceId: csr.deviceId,
    shortDeviceId: csr.shortDeviceId,
    subject: csr.subject,
    modulusBits: csr.modulusBits,
    publicExponent: csr.publicExponent,
  };
}

export async function checkCsr(csrPem: unknown): Promise<CheckedCsr> {
  const invalid = (problem: string, cause?: unknown): never => {
    throw new PkiError(PkiErrorCode.CSR_INVALID, problem, undefined, cause === undefined ? undefined : { cause });
  };
  if (typeof csrPem === 'string' && csrPem.length > MAX_CSR_PEM_LENGTH) {
    return invalid(`CSR is ${csrPem.length} bytes; at most ${MAX_CSR_PEM_LENGTH} are accepted`);
  }
  const { der } = decodeSinglePem(csrPem, {
    what: 'CSR',
    labels: CSR_LABELS,
    code: PkiErrorCode.CSR_INVALID,
    strict: true,
  });

  // Structure by DER boundaries: CertificationRequest ::= SEQUENCE { info, signatureAlgorithm, signature }
  // and CertificationRequestInfo ::= SEQUENCE { version, subject, subjectPKInfo, [0] attributes }.
  const outer = readDerElement(der);
  if (!outer || outer.tag !== DER_TAG_SEQUENCE) return invalid('CSR is not a DER-encoded PKCS#10 request');
  if (outer.end !== der.length) {
    return invalid(`CSR has ${der.length - outer.end} bytes of trailing data after the PKCS#10 request`);
  }
  const [info] = readDerChildren(der, outer) ?? [];
  const infoFields = info && info.tag === DER_TAG_SEQUENCE ? readDerChildren(der, info) : null;
  if (!info || !infoFields || infoFields.length < 3) return invalid('CSR is not a DER-encoded PKCS#10 request');

  let request: CertificationRequest;
  try {
    request = AsnConvert.parse(der, CertificationRequest);
  } catch (cause) {
    return invalid(`CSR is not a valid PKCS#10 request: ${errorText(cause)}`, cause);
  }
  if (request.certificationRequestInfo.version !== 0) {
    return invalid(`CSR has version ${request.certificationRequestInfo.version}; PKCS#10 requests are version 0 (v1)`);
  }
  const slice = (element: { start: number; end: number }) => der.subarray(element.start, element.end);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: slice(infoFields[2]), format: 'der', type: 'spki' });
  } catch (cause) {
    return invalid(`CSR public key cannot be loaded: ${errorText(cause)}`, cause);
  }
  let subject: string;
  try {
    subject = formatName(slice(infoFields[1]));
  } catch (cause) {
    return invalid(`CSR subject is not a valid Name: ${errorText(cause)}`, cause);
  }

  await verifyCsrSignature(request, slice(info), publicKey);

  const key = describeKey(publicKey);
  if (key.kind !== 'rsa') {
    throw new PkiError(PkiErrorCode.CSR_KEY_NOT_RSA, `CSR key is ${keyLabel(publicKey)}; only RSA keys are accepted`);
  }
  if (key.bits < MIN_RSA_BITS) {
    throw new PkiError(
      PkiErrorCode.CSR_KEY_TOO_WEAK,
      `CSR key is ${key.bits}-bit RSA; at least ${MIN_RSA_BITS} bits are required`,
      { bits: key.bits },
    );
  }
  if (key.publicExponent !== BigInt(RSA_PUBLIC_EXPONENT)) {
    throw new PkiError(
      PkiErrorCode.CSR_KEY_EXPONENT,
      `CSR key has public exponent ${key.publicExponent}; ${RSA_PUBLIC_EXPONENT} is required`,
      { publicExponent: key.publicExponent.toString() },
    );
  }

  const spki = spkiDer(publicKey);
  return {
    publicKeyPem: publicKeyPem(publicKey),
    deviceId: createHash('sha256').update(spki).digest('hex'),
    shortDeviceId: createHash('sha1').update(spki).digest('hex'),
    subject,
    modulusBits: key.bits,
    publicExponent: Number(key.publicExponent),
    publicKey,
    subjectName: request.certificationRequestInfo.subject,
  };
}

async function verifyCsrSignature(
  request: CertificationRequest,
  signedBytes: Uint8Array,
  publicKey: KeyObject,
): Promise<void> {
  const fail = (problem: string): never => {
    throw new PkiError(PkiErrorCode.CSR_SIGNATURE_INVALID, problem);
  };
  const oid = request.signatureAlgorithm.algorithm;
  if (oid in WEAK_SIGNATURES) {
    return fail(`CSR is signed with ${WEAK_SIGNATURES[oid]}; SHA-256 or stronger is required`);
  }
  if (!(oid in CSR_SIGNATURE_HASHES)) return fail(`CSR signature algorithm ${oid} is not supported`);
  const hash = CSR_SIGNATURE_HASHES[oid];
  const signature = new Uint8Array(request.signature);
  const valid = await new Promise<boolean>((resolve) => {
    try {
      verifyCallback(hash, signedBytes, publicKey, signature, (error, result) => resolve(!error && result));
    } catch {
      resolve(false);
    }
  });
  if (!valid) fail('CSR signature does not verify with the CSR public key');
}
