import { createHash, KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { KEY_USAGE, parseCertificate, ParsedCertificate, SignerPem } from './certificate';
import { keyLabel, readPrivateKey, samePublicKey, subjectPublicKeyBits } from './keys';
import { PkiError, PkiErrorCode } from './pki.errors';
import { SignatureAlgorithm, signatureAlgorithmFor } from './signing';

/** A certificate and key ready to sign: certificates, CRLs or OCSP responses. */
export interface LoadedSigner {
  certificate: ParsedCertificate;
  privateKey: KeyObject;
  algorithm: SignatureAlgorithm;
  /** Authority key identifier for what it signs: its own SKI, else SHA-1 of its subjectPublicKey. */
  keyIdentifier: Buffer;
}

interface LoadSignerOptions {
  /** Names the signer in messages: "CA", "account", "CRL issuer", "OCSP responder". */
  role: string;
  /** The certificate must be a CA (basicConstraints CA:TRUE) and, if keyUsage is present, allow this usage. */
  mustAllow?: 'keyCertSign' | 'cRLSign';
}

export function loadSigner(signer: SignerPem, options: LoadSignerOptions): LoadedSigner {
  const { role, mustAllow } = options;
  const code = PkiErrorCode.SIGNER_INVALID;
  const certificate = parseCertificate(signer.certificatePem, code, `${role} certificate`);
  const privateKey = readPrivateKey(signer.privateKeyPem, code, `${role} private key`);
  if (!samePublicKey(privateKey, certificate.publicKey)) {
    throw new PkiError(code, `${role} private key does not match the ${role} certificate`);
  }
  const algorithm = signatureAlgorithmFor(privateKey);
  if (!algorithm) {
    throw new PkiError(
      code,
      `${role} key is ${keyLabel(privateKey)}; signing needs RSA or ECDSA on P-256, P-384 or P-521`,
    );
  }
  if (mustAllow) {
    if (!certificate.basicConstraints?.ca) {
      throw new PkiError(code, `${role} certificate is not a CA (basicConstraints CA:TRUE is missing)`);
    }
    if (certificate.keyUsage !== null && (certificate.keyUsage & KEY_USAGE[mustAllow]) === 0) {
      throw new PkiError(code, `${role} certificate keyUsage does not include ${mustAllow}`);
    }
  }
  // What this signer issues names it by re-encoding its parsed subject; chains only build if that is byte-exact.
  if (!Buffer.from(AsnConvert.serialize(certificate.subjectName)).equals(certificate.subjectDer)) {
    throw new PkiError(code, `${role} certificate subject is not in DER canonical form and cannot be copied exactly`);
  }
  return {
    certificate,
    privateKey,
    algorithm,
    keyIdentifier: certificate.subjectKeyIdentifier ?? keyIdentifierOf(certificate.spkiDer),
  };
}

/** Refuses to issue with a signer that is not valid at `at`. */
export function assertSignerValidAt(signer: LoadedSigner, at: Date, role: string): void {
  const { notBefore, notAfter } = signer.certificate;
  if (at.getTime() > notAfter.getTime()) {
    throw new PkiError(
      PkiErrorCode.SIGNER_EXPIRED,
      `${role} certificate expired at ${notAfter.toISOString()}; it cannot issue at ${at.toISOString()}`,
      { notAfter },
    );
  }
  if (at.getTime() < notBefore.getTime()) {
    throw new PkiError(
      PkiErrorCode.SIGNER_NOT_YET_VALID,
      `${role} certificate is not valid before ${notBefore.toISOString()}; it cannot issue at ${at.toISOString()}`,
      { notBefore },
    );
  }
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING contents. */
export function keyIdentifierOf(spkiDer: Uint8Array): Buffer {
  return createHash('sha1').update(subjectPublicKeyBits(spkiDer)).digest();
}
