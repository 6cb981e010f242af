import { createPublicKey, KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  Certificate,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
  KeyUsage,
  Name,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import {
  DER_TAG_CONTEXT_0_CONSTRUCTED,
  DER_TAG_SEQUENCE,
  isSingleDerElement,
  readDerChildren,
  readDerElement,
} from './der';
import { formatName } from './names';
import { decodeSinglePem, encodePem } from './pem';
import { errorText, PkiError, PkiErrorCode } from './pki.errors';
import { serialHex } from './serial-number';

/** A certificate and its unencrypted PKCS#8 private key. */
export interface SignerPem {
  certificatePem: string;
  privateKeyPem: string;
}

export interface CertificateInfo {
  certificatePem: string;
  /** Lowercase hex, positive, without sign-padding 00 octets. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** e.g. "CN=alice, UID=0123..., O=Acme" (encoding order). */
  subject: string;
  issuer: string;
}

export interface ParsedCertificate extends CertificateInfo {
  der: Buffer;
  asn: Certificate;
  /** Raw DER of the subject Name, SubjectPublicKeyInfo and issuer Name exactly as encoded in the certificate. */
  subjectDer: Buffer;
  issuerDer: Buffer;
  spkiDer: Buffer;
  subjectName: Name;
  publicKey: KeyObject;
  /** Absent extension → null. */
  basicConstraints: { ca: boolean; pathLength?: number } | null;
  /** KeyUsage flag bits (digitalSignature = 1, keyEncipherment = 4, keyCertSign = 32, cRLSign = 64...), null when absent. */
  keyUsage: number | null;
  subjectKeyIdentifier: Buffer | null;
}

export const KEY_USAGE = {
  digitalSignature: 1,
  keyEncipherment: 4,
  keyCertSign: 32,
  cRLSign: 64,
} as const;

/** Parses a single PEM certificate; any problem is thrown as PkiError(code, "<what> ..."). */
export function parseCertificate(pem: unknown, code: PkiErrorCode, what: string): ParsedCertificate {
  const { der } = decodeSinglePem(pem, { what, code, labels: ['CERTIFICATE'] });
  return parseCertificateDer(der, code, what);
}

export function parseCertificateDer(der: Buffer, code: PkiErrorCode, what: string): ParsedCertificate {
  const fail = (problem: string, cause?: unknown): never => {
    throw new PkiError(code, `${what} ${problem}`, undefined, cause === undefined ? undefined : { cause });
  };
  if (!isSingleDerElement(der, DER_TAG_SEQUENCE)) return fail('is not a single DER-encoded X.509 certificate');
  const parts = rawTbsParts(der);
  if (!parts) return fail('is not a DER-encoded X.509 certificate (malformed TBSCertificate)');

  let asn: Certificate;
  try {
    asn = AsnConvert.parse(der, Certificate);
  } catch (cause) {
    return fail(`could not be parsed as an X.509 certificate: ${errorText(cause)}`, cause);
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: parts.spkiDer, format: 'der', type: 'spki' });
  } catch (cause) {
    return fail(`has a public key Node.js cannot load: ${errorText(cause)}`, cause);
  }

  const tbs = asn.tbsCertificate;
  let basicConstraints: ParsedCertificate['basicConstraints'] = null;
  let keyUsage: number | null = null;
  let subjectKeyIdentifier: Buffer | null = null;
  try {
    for (const extension of tbs.extensions ?? []) {
      const value = extension.extnValue.buffer;
      switch (extension.extnID) {
        case id_ce_basicConstraints: {
          const bc = AsnConvert.parse(value, BasicConstraints);
          basicConstraints = { ca: bc.cA, pathLength: bc.pathLenConstraint };
          break;
        }
        case id_ce_keyUsage:
          keyUsage = AsnConvert.parse(value, KeyUsage).toNumber();
          break;
        case id_ce_subjectKeyIdentifier:
          subjectKeyIdentifier = Buffer.from(AsnConvert.parse(value, SubjectKeyIdentifier).buffer);
          break;
      }
    }
  } catch (cause) {
    return fail(`has a malformed extension: ${errorText(cause)}`, cause);
  }

  return {
    certificatePem: encodePem(der, 'CERTIFICATE'),
    serialNumber: serialHex(new Uint8Array(tbs.serialNumber)),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    subject: formatName(parts.subjectDer),
    issuer: formatName(parts.issuerDer),
    der,
    asn,
    ...parts,
    subjectName: tbs.subject,
    publicKey,
    basicConstraints,
    keyUsage,
    subjectKeyIdentifier,
  };
}

export function certificateInfo(certificate: ParsedCertificate): CertificateInfo {
  const { certificatePem, serialNumber, notBefore, notAfter, subject, issuer } = certificate;
  return { certificatePem, serialNumber, notBefore, notAfter, subject, issuer };
}

/**
 * Raw bytes of issuer, subject and SubjectPublicKeyInfo, read by DER boundaries rather than re-encoded,
 * so hashes (OCSP issuerNameHash) and name comparisons use exactly what the certificate holds.
 */
function rawTbsParts(der: Buffer): { issuerDer: Buffer; subjectDer: Buffer; spkiDer: Buffer } | null {
  const certificate = readDerElement(der);
  if (!certificate) return null;
  const [tbs] = readDerChildren(der, certificate) ?? [];
  if (!tbs || tbs.tag !== DER_TAG_SEQUENCE) return null;
  const fields = readDerChildren(der, tbs);
  if (!fields) return null;
  const base = fields[0]?.tag === DER_TAG_CONTEXT_0_CONSTRUCTED ? 1 : 0;
  // [version] serialNumber signature issuer validity subject subjectPublicKeyInfo ...
  const issuer = fields[base + 2];
  const subject = fields[base + 4];
  const spki = fields[base + 5];
  if (!issuer || !subject || !spki) return null;
  const slice = (element: { start: number; end: number }) => Buffer.from(der.subarray(element.start, element.end));
  return { issuerDer: slice(issuer), subjectDer: slice(subject), spkiDer: slice(spki) };
}
