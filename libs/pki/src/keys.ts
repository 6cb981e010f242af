import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair as generateKeyPairCallback,
  KeyObject,
  X509Certificate as NodeX509Certificate,
} from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { decodeSinglePem } from './pem';
import { errorText, PkiError, PkiErrorCode } from './pki.errors';

export type KeyAlgorithm = 'RSA-4096' | 'RSA-2048' | 'P-256';

export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['RSA-4096', 'RSA-2048', 'P-256'];

/** SPKI PEM ("PUBLIC KEY") and unencrypted PKCS#8 PEM ("PRIVATE KEY"). */
export interface KeyPairPem {
  publicKeyPem: string;
  privateKeyPem: string;
}

export const RSA_PUBLIC_EXPONENT = 65537;
export const MIN_RSA_BITS = 2048;

/** Generates a key pair on the libuv thread pool (RSA keys use exponent 65537). */
export async function generateKeyPair(algorithm: KeyAlgorithm = 'RSA-4096'): Promise<KeyPairPem> {
  if (!KEY_ALGORITHMS.includes(algorithm)) {
    const problem = `algorithm must be one of ${KEY_ALGORITHMS.join(', ')}`;
    throw new PkiError(PkiErrorCode.CONFIG_INVALID, problem, { problems: [problem] });
  }
  const encoding = {
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  } as const;
  const { publicKey, privateKey } = await new Promise<{ publicKey: string; privateKey: string }>((resolve, reject) => {
    const done = (error: Error | null, publicKey: string, privateKey: string) =>
      error ? reject(error) : resolve({ publicKey, privateKey });
    if (algorithm === 'P-256') {
      generateKeyPairCallback('ec', { namedCurve: 'prime256v1', ...encoding }, done);
    } else {
      const modulusLength = algorithm === 'RSA-4096' ? 4096 : 2048;
      generateKeyPairCallback('rsa', { modulusLength, publicExponent: RSA_PUBLIC_EXPONENT, ...encoding }, done);
    }
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

const PRIVATE_KEY_FORMATS: Record<string, 'pkcs8' | 'pkcs1' | 'sec1'> = {
  'PRIVATE KEY': 'pkcs8',
  'RSA PRIVATE KEY': 'pkcs1',
  'EC PRIVATE KEY': 'sec1',
};

/**
 * Loads an unencrypted private key: PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC1
 * ("EC PRIVATE KEY"). Encrypted keys are refused with a message saying so.
 */
export function readPrivateKey(pem: unknown, code: PkiErrorCode, what: string): KeyObject {
  if (typeof pem === 'string' && /-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem)) {
    throw new PkiError(code, `${what} is encrypted (ENCRYPTED PRIVATE KEY); an unencrypted PKCS#8 key is required`);
  }
  const block = decodeSinglePem(pem, { what, code, labels: Object.keys(PRIVATE_KEY_FORMATS) });
  try {
    return createPrivateKey({ key: block.der, format: 'der', type: PRIVATE_KEY_FORMATS[block.label] });
  } catch (cause) {
    throw new PkiError(code, `${what} could not be parsed as a ${block.label}: ${errorText(cause)}`, undefined, {
      cause,
    });
  }
}

const PUBLIC_KEY_SOURCES = ['PUBLIC KEY', 'RSA PUBLIC KEY', 'CERTIFICATE', ...Object.keys(PRIVATE_KEY_FORMATS)];

/** The public key in an SPKI or PKCS#1 public key, a certificate, or a private key PEM. */
export function readPublicKey(pem: unknown, code: PkiErrorCode, what: string): KeyObject {
  const block = decodeSinglePem(pem, { what, code, labels: PUBLIC_KEY_SOURCES });
  try {
    switch (block.label) {
      case 'PUBLIC KEY':
        return createPublicKey({ key: block.der, format: 'der', type: 'spki' });
      case 'RSA PUBLIC KEY':
        return createPublicKey({ key: block.der, format: 'der', type: 'pkcs1' });
      case 'CERTIFICATE':
        return new NodeX509Certificate(block.der).publicKey;
      default:
        return createPublicKey(
          createPrivateKey({ key: block.der, format: 'der', type: PRIVATE_KEY_FORMATS[block.label] }),
        );
    }
  } catch (cause) {
    throw new PkiError(code, `${what} could not be parsed as a ${block.label}: ${errorText(cause)}`, undefined, {
      cause,
    });
  }
}

/** Canonical DER SubjectPublicKeyInfo of a public (or private) key. */
export function spkiDer(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ type: 'spki', format: 'der' });
}

export function publicKeyPem(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

export function privateKeyPkcs8Pem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** True when both keys (public or private) have the same public part. */
export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  return spkiDer(a).equals(spkiDer(b));
}

export type KeyDescription =
  | { kind: 'rsa'; bits: number; publicExponent: bigint }
  | { kind: 'ec'; curve: 'P-256' | 'P-384' | 'P-521' | string }
  | { kind: 'other'; type: string };

const CURVE_NAMES: Record<string, string> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

export function describeKey(key: KeyObject): KeyDescription {
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa') {
    return { kind: 'rsa', bits: details.modulusLength ?? 0, publicExponent: details.publicExponent ?? 0n };
  }
  if (type === 'ec') {
    const curve = details.namedCurve ?? 'unknown curve';
    return { kind: 'ec', curve: CURVE_NAMES[curve] ?? curve };
  }
  return { kind: 'other', type };
}

/** "RSA-4096", "P-256", "P-384", "ed25519"... */
export function keyAlgorithmName(key: KeyObject): KeyAlgorithm | string {
  const description = describeKey(key);
  switch (description.kind) {
    case 'rsa':
      return `RSA-${description.bits}`;
    case 'ec':
      return description.curve;
    default:
      return description.type;
  }
}

/** "1024-bit RSA", "EC (P-256)", "ed25519". */
export function keyLabel(key: KeyObject): string {
  const description = describeKey(key);
  switch (description.kind) {
    case 'rsa':
      return `${description.bits}-bit RSA`;
    case 'ec':
      return `EC (${description.curve})`;
    default:
      return description.type;
  }
}

/** Contents of the subjectPublicKey BIT STRING of a DER SubjectPublicKeyInfo (hashed for SKI and OCSP key hashes). */
export function subjectPublicKeyBits(spki: Uint8Array): Buffer {
  return Buffer.from(AsnConvert.parse(spki, SubjectPublicKeyInfo).subjectPublicKey);
}
