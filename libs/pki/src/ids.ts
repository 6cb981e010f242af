import { createHash } from 'node:crypto';
import { parseCertificate } from './certificate';
import { readPublicKey, spkiDer, subjectPublicKeyBits } from './keys';
import { PkiErrorCode } from './pki.errors';

// Identifiers Jami derives from public keys (reference §5.1), and the OCSP CertID hashes of an issuer.
// Every function accepts an SPKI or PKCS#1 public key, a certificate, or a private key, as PEM.

const WHAT = 'key or certificate';

/** SHA-1 of the DER SubjectPublicKeyInfo, 40 lowercase hex: the Jami ID of an account key, the short device ID. */
export function keyId(pem: string): string {
  return createHash('sha1').update(canonicalSpki(pem)).digest('hex');
}

/** SHA-256 of the DER SubjectPublicKeyInfo, 64 lowercase hex: the Jami device ID. */
export function longKeyId(pem: string): string {
  return createHash('sha256').update(canonicalSpki(pem)).digest('hex');
}

/**
 * Hashes of the subjectPublicKey BIT STRING contents, as OCSP CertID.issuerKeyHash for certificates this
 * key issued. For a certificate the bits are taken as encoded in it (what OpenSSL and GnuTLS hash).
 */
export function ocspKeyHashes(certificatePem: string): { sha1: string; sha256: string } {
  const bits = subjectPublicKeyBits(rawSpki(certificatePem));
  return {
    sha1: createHash('sha1').update(bits).digest('hex'),
    sha256: createHash('sha256').update(bits).digest('hex'),
  };
}

/** Hashes of the DER subject Name of a certificate, as OCSP CertID.issuerNameHash for what it issued. */
export function ocspNameHashes(certificatePem: string): { sha1: string; sha256: string } {
  const { subjectDer } = parseCertificate(certificatePem, PkiErrorCode.KEY_INVALID, 'certificate');
  return {
    sha1: createHash('sha1').update(subjectDer).digest('hex'),
    sha256: createHash('sha256').update(subjectDer).digest('hex'),
  };
}

/**
 * The SPKI re-encoded from the key itself, like gnutls_x509_crt_get_key_id does, so a key has one ID
 * whether given as public key, private key or certificate.
 */
function canonicalSpki(pem: string): Buffer {
  return spkiDer(readPublicKey(pem, PkiErrorCode.KEY_INVALID, WHAT));
}

function rawSpki(pem: string): Buffer {
  if (typeof pem === 'string' && pem.includes('-----BEGIN CERTIFICATE-----')) {
    return parseCertificate(pem, PkiErrorCode.KEY_INVALID, 'certificate').spkiDer;
  }
  return canonicalSpki(pem);
}
