import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  CertificateList,
  CRLReason,
  CRLReasons,
  Extension,
  id_ce_cRLNumber,
  id_ce_cRLReasons,
  RevokedCertificate,
  TBSCertList,
  Time,
  Version,
} from '@peculiar/asn1-x509';
import { SignerPem } from './certificate';
import { encodeDerUnsignedInteger } from './der';
import { authorityKeyIdentifierExtension } from './extensions';
import { encodePem } from './pem';
import { serialIntegerBytes } from './serial-number';
import { loadSigner } from './signer';
import { algorithmIdentifier, signAsync } from './signing';
import { REVOCATION_REASONS, validateCrlOptions } from './validate';

export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export interface CrlEntry {
  /** Hex serial number of the revoked certificate (any case, leading zeros ignored). */
  serialNumber: string;
  revocationDate: Date;
  /** Omitted, or 'unspecified', writes no reasonCode (RFC 5280 §5.3.1). */
  reason?: RevocationReason;
}

export interface CreateCrlOptions {
  /** The CA (for account certificates) or the account (for device certificates). */
  issuer: SignerPem;
  crlNumber: bigint | number;
  entries: CrlEntry[];
  /** Default now. */
  thisUpdate?: Date;
  nextUpdate: Date;
}

/** RFC 5280 §5.3.1 reason codes. */
export const REVOCATION_REASON_CODES: Record<RevocationReason, CRLReasons> = {
  unspecified: CRLReasons.unspecified,
  keyCompromise: CRLReasons.keyCompromise,
  caCompromise: CRLReasons.cACompromise,
  affiliationChanged: CRLReasons.affiliationChanged,
  superseded: CRLReasons.superseded,
  cessationOfOperation: CRLReasons.cessationOfOperation,
  certificateHold: CRLReasons.certificateHold,
  privilegeWithdrawn: CRLReasons.privilegeWithdrawn,
};

/** A v2 CRL with cRLNumber and authorityKeyIdentifier extensions, signed SHA-256 (RSA) / ECDSA by the issuer. */
export async function createCrl(options: CreateCrlOptions): Promise<{ crlPem: string; crlDer: Buffer }> {
  validateCrlOptions(options);
  const signer = loadSigner(options.issuer, { role: 'CRL issuer', mustAllow: 'cRLSign' });
  const signature = algorithmIdentifier(signer.algorithm);
  const revoked = options.entries.map(
    (entry) =>
      new RevokedCertificate({
        userCertificate: new Uint8Array(serialIntegerBytes(entry.serialNumber)).buffer,
        revocationDate: new Time(entry.revocationDate),
        crlEntryExtensions:
          entry.reason === undefined || entry.reason === 'unspecified'
            ? undefined
            : [
                new Extension({
                  extnID: id_ce_cRLReasons,
                  critical: false,
                  extnValue: new OctetString(
                    AsnConvert.serialize(new CRLReason(REVOCATION_REASON_CODES[entry.reason])),
                  ),
                }),
              ],
      }),
  );
  const tbsCertList = new TBSCertList({
    version: Version.v2,
    signature,
    issuer: signer.certificate.subjectName,
    thisUpdate: new Time(options.thisUpdate ?? new Date()),
    nextUpdate: new Time(options.nextUpdate),
    // RFC 5280 §5.1.2.6: an empty list is omitted, not encoded empty.
    revokedCertificates: revoked.length > 0 ? revoked : undefined,
    crlExtensions: [
      authorityKeyIdentifierExtension(signer.keyIdentifier),
      new Extension({
        extnID: id_ce_cRLNumber,
        critical: false,
        extnValue: new OctetString(encodeDerUnsignedInteger(BigInt(options.crlNumber))),
      }),
    ],
  });
  const signatureValue = await signAsync(
    signer.privateKey,
    signer.algorithm,
    new Uint8Array(AsnConvert.serialize(tbsCertList)),
  );
  const crl = new CertificateList({
    tbsCertList,
    signatureAlgorithm: algorithmIdentifier(signer.algorithm),
    signature: new Uint8Array(signatureValue).buffer,
  });
  const crlDer = Buffer.from(AsnConvert.serialize(crl));
  return { crlPem: encodePem(crlDer, 'X509 CRL'), crlDer };
}
