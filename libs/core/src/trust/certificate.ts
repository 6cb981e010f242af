import { createHash, X509Certificate } from 'node:crypto';
import { children, Der, expectTag, integerHex, pemBlocks, readSingleDer, Tag } from './der';
import { TrustError, TrustErrorCode } from './trust.errors';

/** The raw fields of a certificate that revocation checks compare byte for byte. */
export interface CertificateFields {
  serialHex: string;
  /** DER of the issuer and subject Names. */
  issuerName: Buffer;
  subjectName: Buffer;
  /** DER SubjectPublicKeyInfo, and the subjectPublicKey BIT STRING's bits (what OCSP's key hash covers). */
  spki: Buffer;
  subjectPublicKey: Buffer;
}

export function certificateFields(cert: X509Certificate): CertificateFields {
  const [tbs] = children(readSingleDer(cert.raw, Tag.SEQUENCE));
  const f = children(expectTag(tbs, Tag.SEQUENCE, 'certificate'));
  const offset = f[0]?.tag === 0xa0 ? 1 : 0; // [0] version
  const serial: Der = expectTag(f[offset], Tag.INTEGER, 'certificate serial');
  const spki = expectTag(f[offset + 5], Tag.SEQUENCE, 'certificate key');
  const bits = expectTag(children(spki)[1], Tag.BIT_STRING, 'certificate key');
  return {
    serialHex: integerHex(serial),
    issuerName: Buffer.from(expectTag(f[offset + 2], Tag.SEQUENCE, 'certificate issuer').bytes),
    subjectName: Buffer.from(expectTag(f[offset + 4], Tag.SEQUENCE, 'certificate subject').bytes),
    spki: Buffer.from(spki.bytes),
    subjectPublicKey: Buffer.from(bits.content.subarray(1)),
  };
}

/** Certificates of a PEM text, in order. Throws CHAIN_MALFORMED when one does not parse. */
export function parseCertificates(pem: string): X509Certificate[] {
  try {
    return pemBlocks(pem, 'CERTIFICATE').map((d) => new X509Certificate(d));
  } catch (err) {
    throw new TrustError(TrustErrorCode.CHAIN_MALFORMED, `a certificate does not parse: ${(err as Error).message}`);
  }
}

/** SHA-1 key id (40 hex) of a certificate's key: a Jami account id or device short id. */
export function certificateKeyId(cert: X509Certificate): string {
  return createHash('sha1')
    .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** SHA-256 (64 hex) of a certificate's key: a Jami device id. */
export function certificateLongKeyId(cert: X509Certificate): string {
  return createHash('sha256')
    .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** SHA-256 of the certificate DER as "AB:CD:…": what a DTLS peer's fingerprint is compared with. */
export function certificateFingerprint(cert: X509Certificate): string {
  return cert.fingerprint256.toUpperCase();
}

/** Hash of the signature algorithms CRLs and OCSP responses use; undefined for anything else. */
export function signatureHashOf(algorithmOid: string): string | undefined {
  return SIGNATURE_HASHES[algorithmOid];
}

const SIGNATURE_HASHES: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};
