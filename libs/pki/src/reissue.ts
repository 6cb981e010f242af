import { AsnConvert } from '@peculiar/asn1-schema';
import {
  id_ce_authorityKeyIdentifier,
  id_ce_cRLDistributionPoints,
  id_ce_subjectKeyIdentifier,
  id_pe_authorityInfoAccess,
  Name,
} from '@peculiar/asn1-x509';
import { certificateInfo, CertificateInfo, parseCertificate, SignerPem } from './certificate';
import { revocationPointerExtensions } from './extensions';
import { issueCertificate } from './issuance';
import { PkiError, PkiErrorCode } from './pki.errors';
import { assertSignerValidAt, loadSigner } from './signer';
import { validateReissueOptions } from './validate';

const DAY_MS = 86_400_000;

export interface ReissueCertificateOptions {
  /** The certificate to reissue: its subject, public key and extensions are kept. */
  certificatePem: string;
  /** Who signs the new certificate: the original issuer (renewal) or another CA (rotation, cross-signing). */
  issuer: SignerPem;
  /** Default: the original certificate's lifetime. Clamped into the issuer's validity. */
  validityDays?: number;
  /** Overrides validityDays (e.g. the end of a rotation's overlap for a cross certificate). */
  notAfter?: Date;
  now?: Date;
  /** When given, replace the CRL distribution point / AIA OCSP URL (a new issuer has its own CRL). */
  crlUrl?: string;
  ocspUrl?: string;
}

/**
 * A new certificate for the same key and subject: new serial and validity, the original extensions and
 * subjectKeyIdentifier kept byte for byte, the authorityKeyIdentifier and issuer name of the new issuer.
 * Used for renewals (same issuer), for moving account certificates to a new CA, and for cross-signing one
 * CA's certificate with another CA's key.
 */
export async function reissueCertificate(options: ReissueCertificateOptions): Promise<CertificateInfo> {
  validateReissueOptions(options);
  const now = options.now ?? new Date();
  const original = parseCertificate(options.certificatePem, PkiErrorCode.CONFIG_INVALID, 'certificate to reissue');
  const signer = loadSigner(options.issuer, { role: 'issuer', mustAllow: 'keyCertSign' });
  assertSignerValidAt(signer, now, 'issuer');

  const replaced = new Set([id_ce_subjectKeyIdentifier, id_ce_authorityKeyIdentifier]);
  if (options.crlUrl !== undefined) replaced.add(id_ce_cRLDistributionPoints);
  if (options.ocspUrl !== undefined) replaced.add(id_pe_authorityInfoAccess);
  const kept = (original.asn.tbsCertificate.extensions ?? []).filter((extension) => !replaced.has(extension.extnID));
  const subject = AsnConvert.parse(original.subjectDer, Name);
  const lifetimeDays = (original.notAfter.getTime() - original.notBefore.getTime()) / DAY_MS;

  const certificate = await issueCertificate(
    {
      subject,
      publicKey: original.publicKey,
      now,
      validityDays: options.validityDays ?? lifetimeDays,
      notAfter: options.notAfter,
      extensions: [...kept, ...revocationPointerExtensions(options)],
      subjectKeyIdentifier: original.subjectKeyIdentifier ?? undefined,
    },
    { signer },
  );
  if (!certificate.subjectDer.equals(original.subjectDer) || !certificate.spkiDer.equals(original.spkiDer)) {
    throw new PkiError(PkiErrorCode.INTERNAL_ERROR, 'the reissued certificate does not keep the subject and key');
  }
  return certificateInfo(certificate);
}
