import { KeyObject, sign as signCallback } from 'node:crypto';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { describeKey } from './keys';

/** How libs/pki signs certificates, CRLs and OCSP responses with a given key. */
export interface SignatureAlgorithm {
  /** Node.js digest name. */
  hash: 'sha256' | 'sha384' | 'sha512';
  oid: string;
  /** e.g. "sha256WithRSAEncryption". */
  name: string;
  /** RSA algorithm identifiers carry explicit NULL parameters; ECDSA ones carry none (RFC 4055, RFC 5758). */
  nullParameters: boolean;
}

const SHA256_WITH_RSA: SignatureAlgorithm = {
  hash: 'sha256',
  oid: '1.2.840.113549.1.1.11',
  name: 'sha256WithRSAEncryption',
  nullParameters: true,
};
const ECDSA_BY_CURVE: Record<string, SignatureAlgorithm> = {
  'P-256': { hash: 'sha256', oid: '1.2.840.10045.4.3.2', name: 'ecdsa-with-SHA256', nullParameters: false },
  'P-384': { hash: 'sha384', oid: '1.2.840.10045.4.3.3', name: 'ecdsa-with-SHA384', nullParameters: false },
  'P-521': { hash: 'sha512', oid: '1.2.840.10045.4.3.4', name: 'ecdsa-with-SHA512', nullParameters: false },
};

/** SHA-256 with RSA for RSA keys; ECDSA with the curve's matching SHA-2 for P-256/P-384/P-521; otherwise null. */
export function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithm | null {
  const description = describeKey(key);
  if (description.kind === 'rsa') return SHA256_WITH_RSA;
  if (description.kind === 'ec') return ECDSA_BY_CURVE[description.curve] ?? null;
  return null;
}

export function algorithmIdentifier(algorithm: SignatureAlgorithm): AlgorithmIdentifier {
  return new AlgorithmIdentifier({
    algorithm: algorithm.oid,
    ...(algorithm.nullParameters ? { parameters: null } : {}),
  });
}

/** Signs on the libuv thread pool: PKCS#1 v1.5 for RSA, DER-encoded ECDSA for EC. */
export function signAsync(privateKey: KeyObject, algorithm: SignatureAlgorithm, data: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    signCallback(algorithm.hash, data, privateKey, (error, signature) => (error ? reject(error) : resolve(signature)));
  });
}
