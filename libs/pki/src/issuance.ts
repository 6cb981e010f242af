import { createPublicKey, KeyObject, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  Certificate,
  Extension,
  Extensions,
  Name,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { parseCertificateDer, ParsedCertificate } from './certificate';
import { authorityKeyIdentifierExtension, subjectKeyIdentifierExtension } from './extensions';
import { spkiDer } from './keys';
import { PkiError, PkiErrorCode } from './pki.errors';
import { randomSerialNumber } from './serial-number';
import { keyIdentifierOf, LoadedSigner } from './signer';
import { algorithmIdentifier, signAsync, SignatureAlgorithm, signatureAlgorithmFor } from './signing';

const DAY_MS = 86_400_000;
/** notBefore is set this far before `now` so that clients with slightly slow clocks accept a fresh certificate. */
export const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60_000;

export interface CertificateDraft {
  subject: Name;
  publicKey: KeyObject;
  now: Date;
  validityDays: number;
  /** Profile extensions; subjectKeyIdentifier and authorityKeyIdentifier are added here. */
  extensions: Extension[];
  /** Overrides now + validityDays (still clamped into the issuer's validity). */
  notAfter?: Date;
  /** Kept as is instead of computed from the key (a reissued certificate keeps its original SKI). */
  subjectKeyIdentifier?: Buffer;
}

/** Who signs: a loaded signer certificate, or the subject's own key for a self-signed certificate. */
export type CertificateIssuer = { signer: LoadedSigner } | { selfSignedWith: KeyObject };

/**
 * Builds, signs and re-parses a certificate. Validity runs from now minus CLOCK_SKEW_ALLOWANCE_MS to
 * now plus validityDays, clamped into the issuer's own validity so nothing outlives its issuer.
 */
export async function issueCertificate(draft: CertificateDraft, issuer: CertificateIssuer): Promise<ParsedCertificate> {
  const subjectSpki = spkiDer(draft.publicKey);
  const subjectKeyIdentifier = draft.subjectKeyIdentifier ?? keyIdentifierOf(subjectSpki);

  let issuerName: Name;
  let signingKey: KeyObject;
  let algorithm: SignatureAlgorithm;
  let authorityKeyIdentifier: Buffer;
  let notBefore = wholeSeconds(draft.now.getTime() - CLOCK_SKEW_ALLOWANCE_MS);
  let notAfter = wholeSeconds(draft.notAfter?.getTime() ?? draft.now.getTime() + draft.validityDays * DAY_MS);
  if ('signer' in issuer) {
    const { certificate } = issuer.signer;
    issuerName = certificate.subjectName;
    signingKey = issuer.signer.privateKey;
    algorithm = issuer.signer.algorithm;
    authorityKeyIdentifier = issuer.signer.keyIdentifier;
    notBefore = new Date(Math.max(notBefore.getTime(), certificate.notBefore.getTime()));
    notAfter = new Date(Math.min(notAfter.getTime(), certificate.notAfter.getTime()));
    if (notAfter.getTime() <= notBefore.getTime()) {
      throw new PkiError(
        PkiErrorCode.SIGNER_EXPIRED,
        `the issuing certificate's validity (${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}) leaves no validity period for a certificate issued at ${draft.now.toISOString()}`,
      );
    }
  } else {
    issuerName = draft.subject;
    signingKey = issuer.selfSignedWith;
    const selfAlgorithm = signatureAlgorithmFor(signingKey);
    if (!selfAlgorithm) {
      throw new PkiError(PkiErrorCode.INTERNAL_ERROR, 'no signature algorithm for the self-signed certificate key');
    }
    algorithm = selfAlgorithm;
    authorityKeyIdentifier = subjectKeyIdentifier;
  }

  const signatureAlgorithm = algorithmIdentifier(algorithm);
  const tbsCertificate = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array(randomSerialNumber()).buffer,
    signature: signatureAlgorithm,
    issuer: issuerName,
    validity: new Validity({ notBefore, notAfter }),
    subject: draft.subject,
    subjectPublicKeyInfo: AsnConvert.parse(subjectSpki, SubjectPublicKeyInfo),
    extensions: new Extensions([
      ...draft.extensions,
      subjectKeyIdentifierExtension(subjectKeyIdentifier),
      authorityKeyIdentifierExtension(authorityKeyIdentifier),
    ]),
  });
  const signature = await signAsync(signingKey, algorithm, new Uint8Array(AsnConvert.serialize(tbsCertificate)));
  const certificate = new Certificate({
    tbsCertificate,
    signatureAlgorithm: algorithmIdentifier(algorithm),
    signatureValue: new Uint8Array(signature).buffer,
  });
  const der = Buffer.from(AsnConvert.serialize(certificate));

  // Never hand out a certificate that does not verify: a broken chain deletes a first-time Jami enrollment.
  if (!new NodeX509Certificate(der).verify(createPublicKey(signingKey))) {
    throw new PkiError(PkiErrorCode.INTERNAL_ERROR, 'the certificate just signed does not verify with its issuer key');
  }
  return parseCertificateDer(der, PkiErrorCode.INTERNAL_ERROR, 'issued certificate');
}

function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}
