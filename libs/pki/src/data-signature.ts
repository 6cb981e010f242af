import { constants, sign, verify } from 'node:crypto';
import { describeKey, keyLabel, readPrivateKey, readPublicKey } from './keys';
import { PkiError, PkiErrorCode } from './pki.errors';

// RSA PKCS#1 v1.5 with SHA-512: what Jami uses for the device receipt and the DHT device announce
// (opendht PrivateKey::sign / PublicKey::checkSignature).

/** Signs `data` with an RSA private key (PKCS#1 v1.5, SHA-512). */
export function signData(privateKeyPem: string, data: Buffer): Buffer {
  assertBytes(data, 'data');
  const key = readPrivateKey(privateKeyPem, PkiErrorCode.KEY_INVALID, 'signing key');
  if (describeKey(key).kind !== 'rsa') {
    throw new PkiError(PkiErrorCode.KEY_INVALID, `signing key is ${keyLabel(key)}; Jami signatures need an RSA key`);
  }
  return sign('sha512', data, { key, padding: constants.RSA_PKCS1_PADDING });
}

/** Checks an RSA PKCS#1 v1.5 SHA-512 signature; `publicKeyPem` may also be a certificate. */
export function verifyData(publicKeyPem: string, data: Buffer, signature: Buffer): boolean {
  assertBytes(data, 'data');
  assertBytes(signature, 'signature');
  const key = readPublicKey(publicKeyPem, PkiErrorCode.KEY_INVALID, 'verification key');
  if (describeKey(key).kind !== 'rsa') {
    throw new PkiError(
      PkiErrorCode.KEY_INVALID,
      `verification key is ${keyLabel(key)}; Jami signatures need an RSA key`,
    );
  }
  return verify('sha512', data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
}

function assertBytes(value: unknown, name: string): void {
  if (!(value instanceof Uint8Array)) {
    const problem = `${name} must be a Buffer`;
    throw new PkiError(PkiErrorCode.CONFIG_INVALID, problem, { problems: [problem] });
  }
}
