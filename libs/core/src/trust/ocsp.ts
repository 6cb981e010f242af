import { createHash, randomBytes, verify, X509Certificate } from 'node:crypto';
import { certificateFields, signatureHashOf } from './certificate';
import {
  children,
  ctx,
  decodeOid,
  decodeTime,
  der,
  expectTag,
  integerHex,
  nullDer,
  octetString,
  oid,
  readSingleDer,
  seq,
  Tag,
} from './der';
import { TrustError, TrustErrorCode } from './trust.errors';

const OID_SHA1 = '1.3.14.3.2.26';
const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const OID_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';

export type OcspStatus = 'good' | 'revoked' | 'unknown';

export interface OcspRequest {
  der: Buffer;
  nonce: Buffer;
}

/** An RFC 6960 request for one certificate (SHA-1 CertID, as Jami sends it) with a 32-byte nonce. */
export function createOcspRequest(cert: X509Certificate, issuer: X509Certificate): OcspRequest {
  const issuerFields = certificateFields(issuer);
  const sha1 = (b: Buffer) => createHash('sha1').update(b).digest();
  const certId = seq(
    seq(oid(OID_SHA1), nullDer()),
    octetString(sha1(issuerFields.subjectName)),
    octetString(sha1(issuerFields.subjectPublicKey)),
    readSingleDer(Buffer.from(certSerialDer(cert))).bytes,
  );
  const nonce = randomBytes(32);
  const extensions = der(ctx(2), seq(seq(oid(OID_OCSP_NONCE), octetString(octetString(nonce)))));
  return { der: seq(seq(seq(seq(certId)), extensions)), nonce };
}

function certSerialDer(cert: X509Certificate): Buffer {
  const hex = certificateFields(cert).serialHex;
  let b = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return der(Tag.INTEGER, b);
}

/**
 * Reads an OCSP response for `cert`: it must be successful, signed directly by `issuer` (Jami's rule,
 * jams-protocol.md §5.6), name the certificate's serial and, when the responder echoes one, the nonce sent.
 * Throws REVOCATION_DATA_INVALID otherwise.
 */
export function readOcspResponse(
  response: Buffer,
  cert: X509Certificate,
  issuer: X509Certificate,
  nonce?: Buffer,
): { status: OcspStatus; thisUpdate: Date; nextUpdate?: Date } {
  const invalid = (why: string): never => {
    throw new TrustError(TrustErrorCode.REVOCATION_DATA_INVALID, `OCSP response rejected: ${why}`);
  };
  try {
    const top = children(readSingleDer(response, Tag.SEQUENCE));
    const status = expectTag(top[0], Tag.ENUMERATED, 'OCSP status').content[0];
    if (status !== 0) invalid(`responder status ${status}`);
    const bytes = children(expectTag(children(expectTag(top[1], ctx(0), 'OCSP bytes'))[0], Tag.SEQUENCE, 'OCSP'));
    if (decodeOid(bytes[0]) !== OID_OCSP_BASIC) invalid('not a basic OCSP response');
    const basic = children(readSingleDer(Buffer.from(expectTag(bytes[1], Tag.OCTET_STRING, 'OCSP').content)));
    const [tbs, alg, sig] = basic;
    const hash = signatureHashOf(decodeOid(children(alg)[0]));
    if (!hash) invalid('unsupported signature algorithm');
    const signature = expectTag(sig, Tag.BIT_STRING, 'OCSP signature').content.subarray(1);
    if (!verify(hash!, tbs.bytes, issuer.publicKey, signature)) invalid('not signed by the issuer');

    const data = children(tbs);
    let i = data[0]?.tag === ctx(0) ? 1 : 0;
    i += 2; // responderID, producedAt
    const responses = children(expectTag(data[i++], Tag.SEQUENCE, 'OCSP responses'));
    if (nonce && data[i]?.tag === ctx(1)) {
      for (const ext of children(children(data[i])[0])) {
        const parts = children(ext);
        if (decodeOid(parts[0]) !== OID_OCSP_NONCE) continue;
        const value = Buffer.from(parts[parts.length - 1].content);
        const echoed = value[0] === Tag.OCTET_STRING ? readSingleDer(value).content : value;
        if (!Buffer.from(echoed).equals(nonce)) invalid('nonce mismatch');
      }
    }
    const serial = certificateFields(cert).serialHex;
    for (const single of responses) {
      const [certId, certStatus, thisUpdate, next] = children(single);
      if (integerHex(children(certId)[3]) !== serial) continue;
      const s: OcspStatus = certStatus.tag === 0x80 ? 'good' : certStatus.tag === ctx(1) ? 'revoked' : 'unknown';
      return {
        status: s,
        thisUpdate: decodeTime(thisUpdate),
        nextUpdate: next?.tag === ctx(0) ? decodeTime(children(next)[0]) : undefined,
      };
    }
    return invalid('no answer for this certificate');
  } catch (err) {
    if (err instanceof TrustError) throw err;
    throw new TrustError(
      TrustErrorCode.REVOCATION_DATA_INVALID,
      `OCSP response does not parse: ${(err as Error).message}`,
    );
  }
}
