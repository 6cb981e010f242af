import { verify, X509Certificate } from 'node:crypto';
import { certificateFields, signatureHashOf } from './certificate';
import { children, decodeOid, decodeTime, Der, DerError, expectTag, integerHex, readSingleDer, Tag } from './der';
import { TrustError, TrustErrorCode } from './trust.errors';

const OID_CRL_NUMBER = '2.5.29.20';

/** An X.509 v2 CRL (RFC 5280 §5), as far as revocation checks need it. */
export interface Crl {
  der: Buffer;
  /** DER of the issuer Name. */
  issuerName: Buffer;
  thisUpdate: Date;
  nextUpdate?: Date;
  crlNumber?: bigint;
  /** Revoked serial numbers (lowercase hex, no leading zeros) → revocation date. */
  revoked: Map<string, Date>;
  tbs: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
}

/** Parses a DER CRL; throws REVOCATION_DATA_INVALID. The signature is not checked here: see verifyCrl. */
export function parseCrl(der: Buffer): Crl {
  try {
    const [tbs, alg, sig] = children(readSingleDer(der, Tag.SEQUENCE));
    const f = children(expectTag(tbs, Tag.SEQUENCE, 'CRL'));
    let i = 0;
    if (f[i]?.tag === Tag.INTEGER) i++; // version
    i++; // signature algorithm (repeated outside)
    const issuer = expectTag(f[i++], Tag.SEQUENCE, 'CRL issuer');
    const thisUpdate = decodeTime(f[i++]);
    let nextUpdate: Date | undefined;
    if (f[i] && (f[i].tag === Tag.UTC_TIME || f[i].tag === Tag.GENERALIZED_TIME)) nextUpdate = decodeTime(f[i++]);
    const revoked = new Map<string, Date>();
    if (f[i]?.tag === Tag.SEQUENCE) {
      for (const entry of children(f[i++])) {
        const [serial, date] = children(entry);
        revoked.set(integerHex(expectTag(serial, Tag.INTEGER, 'CRL entry')), decodeTime(date));
      }
    }
    let crlNumber: bigint | undefined;
    if (f[i]?.tag === 0xa0) {
      for (const ext of children(expectTag(children(f[i])[0], Tag.SEQUENCE, 'CRL extensions'))) {
        const parts = children(ext);
        if (decodeOid(parts[0]) !== OID_CRL_NUMBER) continue;
        const value: Der = readSingleDer(Buffer.from(parts[parts.length - 1].content), Tag.INTEGER);
        crlNumber = BigInt(`0x${value.content.toString('hex') || '0'}`);
      }
    }
    return {
      der,
      issuerName: Buffer.from(issuer.bytes),
      thisUpdate,
      nextUpdate,
      crlNumber,
      revoked,
      tbs: Buffer.from(tbs.bytes),
      signatureAlgorithm: decodeOid(children(expectTag(alg, Tag.SEQUENCE, 'CRL algorithm'))[0]),
      signature: Buffer.from(expectTag(sig, Tag.BIT_STRING, 'CRL signature').content.subarray(1)),
    };
  } catch (err) {
    if (err instanceof TrustError) throw err;
    throw new TrustError(
      TrustErrorCode.REVOCATION_DATA_INVALID,
      `the CRL does not parse: ${err instanceof DerError ? err.message : (err as Error).message}`,
    );
  }
}

/** True when the CRL names `issuer` as its issuer and its signature verifies with the issuer's key. */
export function verifyCrl(crl: Crl, issuer: X509Certificate): boolean {
  const hash = signatureHashOf(crl.signatureAlgorithm);
  if (!hash) return false;
  if (!crl.issuerName.equals(certificateFields(issuer).subjectName)) return false;
  try {
    return verify(hash, crl.tbs, issuer.publicKey, crl.signature);
  } catch {
    return false;
  }
}

/** True when `crl` is newer than `other` (higher CRL number, else later thisUpdate). */
export function isNewerCrl(crl: Crl, other: Crl | undefined): boolean {
  if (!other) return true;
  if (crl.crlNumber !== undefined && other.crlNumber !== undefined) return crl.crlNumber > other.crlNumber;
  return crl.thisUpdate.getTime() > other.thisUpdate.getTime();
}
