import { createHash } from 'node:crypto';
import {
  BasicOCSPResponse,
  CertID,
  CertStatus,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  KeyHash,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { CRLReason, Extension } from '@peculiar/asn1-x509';
import { parseCertificate, SignerPem } from './certificate';
import { REVOCATION_REASON_CODES, RevocationReason } from './crl';
import {
  DER_TAG_BIT_STRING,
  DER_TAG_CONTEXT_0_CONSTRUCTED,
  DER_TAG_OCTET_STRING,
  DER_TAG_SEQUENCE,
  encodeDerElement,
  isSingleDerElement,
} from './der';
import { subjectPublicKeyBits } from './keys';
import { errorText, PkiError, PkiErrorCode } from './pki.errors';
import { serialHex } from './serial-number';
import { LoadedSigner, loadSigner } from './signer';
import { algorithmIdentifier, signAsync } from './signing';
import { isValidDate, REVOCATION_REASONS, validateOcspResponderOptions } from './validate';

export interface OcspCertId {
  /** 'sha1' | 'sha256' | 'sha384' | 'sha512', or the OID of any other hash algorithm. */
  hashAlgorithm: 'sha1' | 'sha256' | string;
  /** Lowercase hex. */
  issuerNameHash: string;
  /** Lowercase hex; compare with ocspKeyHashes(issuer certificate). */
  issuerKeyHash: string;
  /** Lowercase hex, as CertificateInfo.serialNumber. */
  serialNumber: string;
}

export interface OcspRequestInfo {
  certIds: OcspCertId[];
  /** The nonce value (contents of the nonce extension's OCTET STRING). */
  nonce?: Buffer;
}

export type OcspCertStatus = 'good' | 'revoked' | 'unknown';

export interface OcspLookupResult {
  /** The issuer of the certificate asked about, with its key: Jami requires responses signed directly by the issuer. */
  responder: SignerPem;
  status: OcspCertStatus;
  /** Required when status is 'revoked'. */
  revokedAt?: Date;
  reason?: RevocationReason;
}

export interface RespondOcspOptions {
  requestDer: Buffer | Uint8Array;
  /** null: not ours to answer (response status "unauthorized"); throwing: response status "internalError". */
  lookup: (certId: OcspCertId) => Promise<OcspLookupResult | null>;
  now?: Date;
  /** Default 3600. */
  nextUpdateSeconds?: number;
  /** Receives the cause whenever the response status is internalError, for logging. */
  onError?: (error: unknown) => void;
}

export const MAX_OCSP_REQUEST_BYTES = 16 * 1024;
export const MAX_OCSP_CERT_IDS = 32;
export const DEFAULT_OCSP_NEXT_UPDATE_SECONDS = 3600;
/** RFC 8954 §2.1: a nonce is 1 to 32 octets. */
export const MAX_OCSP_NONCE_BYTES = 32;

const HASH_NAMES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

interface ReadRequest {
  info: OcspRequestInfo;
  certIds: CertID[];
  nonceExtension?: Extension;
}

/** Parses a DER OCSPRequest (RFC 6960); OCSP_REQUEST_INVALID on anything malformed. Signatures on requests are ignored. */
export function parseOcspRequest(der: Buffer | Uint8Array): OcspRequestInfo {
  return readOcspRequest(der).info;
}

function readOcspRequest(der: unknown): ReadRequest {
  const invalid = (problem: string, cause?: unknown): never => {
    throw new PkiError(
      PkiErrorCode.OCSP_REQUEST_INVALID,
      problem,
      undefined,
      cause === undefined ? undefined : { cause },
    );
  };
  if (!(der instanceof Uint8Array)) return invalid('OCSP request must be a Buffer or Uint8Array');
  if (der.length > MAX_OCSP_REQUEST_BYTES) {
    return invalid(`OCSP request is ${der.length} bytes; at most ${MAX_OCSP_REQUEST_BYTES} are accepted`);
  }
  if (!isSingleDerElement(der, DER_TAG_SEQUENCE)) return invalid('OCSP request is not a single DER SEQUENCE');
  let request: OCSPRequest;
  try {
    request = AsnConvert.parse(der, OCSPRequest);
  } catch (cause) {
    return invalid(`OCSP request could not be parsed: ${errorText(cause)}`, cause);
  }
  const { requestList, requestExtensions } = request.tbsRequest;
  if (requestList.length === 0) return invalid('OCSP request lists no certificates');
  if (requestList.length > MAX_OCSP_CERT_IDS) {
    return invalid(`OCSP request lists ${requestList.length} certificates; at most ${MAX_OCSP_CERT_IDS} are accepted`);
  }
  const certIds = requestList.map((entry) => entry.reqCert);
  const info: OcspRequestInfo = {
    certIds: certIds.map((certId) => ({
      hashAlgorithm: HASH_NAMES[certId.hashAlgorithm.algorithm] ?? certId.hashAlgorithm.algorithm,
      issuerNameHash: Buffer.from(certId.issuerNameHash.buffer).toString('hex'),
      issuerKeyHash: Buffer.from(certId.issuerKeyHash.buffer).toString('hex'),
      serialNumber: serialHex(new Uint8Array(certId.serialNumber)),
    })),
  };
  const nonceExtension = requestExtensions?.find((extension) => extension.extnID === id_pkix_ocsp_nonce);
  if (nonceExtension) {
    const value = Buffer.from(nonceExtension.extnValue.buffer);
    // The value is an OCTET STRING holding the nonce (RFC 6960 §4.4.1); some clients put the bare nonce.
    const nonce = isSingleDerElement(value, DER_TAG_OCTET_STRING)
      ? Buffer.from(AsnConvert.parse(value, OctetString).buffer)
      : value;
    if (nonce.length === 0 || nonce.length > MAX_OCSP_NONCE_BYTES) {
      return invalid(`OCSP nonce is ${nonce.length} bytes; 1 to ${MAX_OCSP_NONCE_BYTES} are accepted`);
    }
    info.nonce = nonce;
  }
  return { info, certIds, nonceExtension };
}

/**
 * Answers a DER OCSP request with a DER OCSPResponse. Malformed request → "malformedRequest"; a certID
 * the lookup returns null for, or CertIDs answered by different responders, or a responder that is not
 * the certID's issuer → "unauthorized"; lookup or signing failure → "internalError" (cause passed to
 * onError). Otherwise a BasicOCSPResponse signed by the responder (SHA-256 with RSA / ECDSA), responderID
 * byKey, the responder certificate included, the nonce echoed, thisUpdate now and nextUpdate now +
 * nextUpdateSeconds.
 */
export async function respondOcsp(options: RespondOcspOptions): Promise<Buffer> {
  validateOcspResponderOptions(options);
  const now = wholeSeconds(options.now ?? new Date());
  const nextUpdate = new Date(now.getTime() + (options.nextUpdateSeconds ?? DEFAULT_OCSP_NEXT_UPDATE_SECONDS) * 1000);
  const report = (error: unknown) => {
    try {
      options.onError?.(error);
    } catch {
      // a failing logger must not change the answer
    }
  };

  let request: ReadRequest;
  try {
    request = readOcspRequest(options.requestDer);
  } catch {
    return statusOnlyResponse(OCSPResponseStatus.malformedRequest);
  }

  let results: (OcspLookupResult | null)[];
  try {
    results = await Promise.all(request.info.certIds.map((certId) => options.lookup(certId)));
  } catch (error) {
    report(error);
    return statusOnlyResponse(OCSPResponseStatus.internalError);
  }
  if (results.some((result) => result == null)) return statusOnlyResponse(OCSPResponseStatus.unauthorized);
  const answers = results as OcspLookupResult[];

  try {
    const signer = loadSigner(answers[0].responder, { role: 'OCSP responder' });
    for (const [index, answer] of answers.entries()) {
      checkLookupResult(answer, index);
      if (!sameCertificate(answer.responder, signer)) {
        // One response has one signature: CertIDs of different issuers cannot be answered together.
        return statusOnlyResponse(OCSPResponseStatus.unauthorized);
      }
      if (!issuedBy(request.info.certIds[index], signer)) {
        report(
          new PkiError(
            PkiErrorCode.OCSP_LOOKUP_INVALID,
            `lookup answered certID ${index} (serial ${request.info.certIds[index].serialNumber}) with a responder that is not its issuer`,
          ),
        );
        return statusOnlyResponse(OCSPResponseStatus.unauthorized);
      }
    }
    return await signedResponse(request, answers, signer, now, nextUpdate);
  } catch (error) {
    report(error);
    return statusOnlyResponse(OCSPResponseStatus.internalError);
  }
}

function checkLookupResult(result: OcspLookupResult, index: number): void {
  const invalid = (problem: string): never => {
    throw new PkiError(PkiErrorCode.OCSP_LOOKUP_INVALID, `lookup result ${index}: ${problem}`);
  };
  if (!['good', 'revoked', 'unknown'].includes(result.status))
    invalid(`unknown status ${JSON.stringify(result.status)}`);
  if (result.status === 'revoked' && !isValidDate(result.revokedAt)) invalid('a revoked status needs revokedAt');
  if (result.reason !== undefined && !REVOCATION_REASONS.includes(result.reason)) {
    invalid(`unknown revocation reason ${JSON.stringify(result.reason)}`);
  }
}

function sameCertificate(responder: SignerPem, signer: LoadedSigner): boolean {
  if (responder.certificatePem === signer.certificate.certificatePem) return true;
  const certificate = parseCertificate(
    responder.certificatePem,
    PkiErrorCode.SIGNER_INVALID,
    'OCSP responder certificate',
  );
  return certificate.der.equals(signer.certificate.der);
}

/** True when the certID's issuer name and key hashes are those of the responder certificate. */
function issuedBy(certId: OcspCertId, signer: LoadedSigner): boolean {
  const hash = certId.hashAlgorithm;
  if (!Object.values(HASH_NAMES).includes(hash)) return false;
  const digest = (data: Uint8Array) => createHash(hash).update(data).digest('hex');
  return (
    digest(signer.certificate.subjectDer) === certId.issuerNameHash &&
    digest(subjectPublicKeyBits(signer.certificate.spkiDer)) === certId.issuerKeyHash
  );
}

async function signedResponse(
  request: ReadRequest,
  answers: OcspLookupResult[],
  signer: LoadedSigner,
  now: Date,
  nextUpdate: Date,
): Promise<Buffer> {
  const responderKeyHash = createHash('sha1').update(subjectPublicKeyBits(signer.certificate.spkiDer)).digest();
  const tbsResponseData = new ResponseData({
    responderID: new ResponderID({ byKey: new KeyHash(responderKeyHash) }),
    producedAt: now,
    responses: answers.map(
      (answer, index) =>
        new SingleResponse({
          certID: request.certIds[index],
          certStatus: certStatus(answer),
          thisUpdate: now,
          nextUpdate,
        }),
    ),
    responseExtensions: request.nonceExtension
      ? [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: request.nonceExtension.extnValue })]
      : undefined,
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbsResponseData));
  const signature = await signAsync(signer.privateKey, signer.algorithm, tbsDer);
  // BasicOCSPResponse assembled by hand so the responder certificate is embedded byte for byte.
  const basicResponse = encodeDerElement(
    DER_TAG_SEQUENCE,
    tbsDer,
    Buffer.from(AsnConvert.serialize(algorithmIdentifier(signer.algorithm))),
    encodeDerElement(DER_TAG_BIT_STRING, Buffer.from([0]), signature),
    encodeDerElement(DER_TAG_CONTEXT_0_CONSTRUCTED, encodeDerElement(DER_TAG_SEQUENCE, signer.certificate.der)),
  );
  // Round-trip through the schema as a structural self-check.
  AsnConvert.parse(basicResponse, BasicOCSPResponse);
  const response = new OCSPResponse({
    responseStatus: OCSPResponseStatus.successful,
    responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(basicResponse) }),
  });
  return Buffer.from(AsnConvert.serialize(response));
}

function certStatus(answer: OcspLookupResult): CertStatus {
  switch (answer.status) {
    case 'good':
      return new CertStatus({ good: null });
    case 'unknown':
      return new CertStatus({ unknown: null });
    case 'revoked':
      return new CertStatus({
        revoked: new RevokedInfo({
          revocationTime: wholeSeconds((answer.revokedAt as Date).getTime()),
          revocationReason:
            answer.reason === undefined ? undefined : new CRLReason(REVOCATION_REASON_CODES[answer.reason]),
        }),
      });
  }
}

function statusOnlyResponse(status: OCSPResponseStatus): Buffer {
  return Buffer.from(AsnConvert.serialize(new OCSPResponse({ responseStatus: status })));
}

function wholeSeconds(ms: number | Date): Date {
  const value = typeof ms === 'number' ? ms : ms.getTime();
  return new Date(Math.floor(value / 1000) * 1000);
}
