import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from 'node:crypto';
import { verifyDeviceAnnouncement } from '../identity/device-announcement';
import { verifyReceiptSignature } from '../identity/receipt';
import { parseCertificates } from '../trust/certificate';
import { VerifiedDevice, verifyDeviceChain } from '../trust/device-chain';

export enum IdentityErrorCode {
  /** The private key is encrypted and no passphrase (or a wrong one) was given. */
  KEY_LOCKED = 'KEY_LOCKED',
  /** The private key is not the key of the device certificate. */
  KEY_MISMATCH = 'KEY_MISMATCH',
  /** The receipt, its signature or its announcement does not match the certificates. */
  RECEIPT_INVALID = 'RECEIPT_INVALID',
}

export class IdentityError extends Error {
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IdentityError';
  }
}

/** What enrollment stores: the device key, the chain device → account → CA, the receipt and its signature. */
export interface DeviceIdentityFiles {
  /** PKCS#8 PEM, encrypted when a passphrase protects it. */
  privateKeyPem: string;
  certificateChain: string;
  receipt: string;
  receiptSignature: string;
}

/** A device identity that passed every check a Jami client runs at start (jams-protocol.md §5.5). */
export interface DeviceIdentity extends VerifiedDevice {
  privateKey: KeyObject;
  /** The organization CA (the chain's last certificate, pinned at enrollment). */
  ca: X509Certificate;
  receipt: string;
  receiptSignature: string;
  /** The account-signed device announcement (a serialized dht::Value) to publish at the account id. */
  announce: Buffer;
}

export function isEncryptedKeyPem(pem: string): boolean {
  return /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem);
}

/** Loads the private key; KEY_LOCKED when it is encrypted and the passphrase is missing or wrong. */
export function loadPrivateKey(pem: string, passphrase?: string): KeyObject {
  if (isEncryptedKeyPem(pem) && !passphrase) {
    throw new IdentityError(IdentityErrorCode.KEY_LOCKED, 'the device key is encrypted: a passphrase is needed');
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase });
  } catch (err) {
    if (isEncryptedKeyPem(pem)) {
      throw new IdentityError(IdentityErrorCode.KEY_LOCKED, 'wrong passphrase for the device key');
    }
    throw err;
  }
}

/** PKCS#8 PEM of a key, encrypted with AES-256-CBC (PBKDF2) when a passphrase is given. */
export function exportPrivateKey(key: KeyObject, passphrase?: string): string {
  return key
    .export(
      passphrase
        ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }
        : { type: 'pkcs8', format: 'pem' },
    )
    .toString();
}

/**
 * Loads and checks a stored identity: the key is the device certificate's, the chain verifies up to the CA it
 * ends with, the account key signed the exact receipt bytes, and the receipt and its announcement name this
 * account and this device. Throws IdentityError or TrustError.
 */
export function loadDeviceIdentity(files: DeviceIdentityFiles, passphrase?: string, now = new Date()): DeviceIdentity {
  const privateKey = loadPrivateKey(files.privateKeyPem, passphrase);
  const certs = parseCertificates(files.certificateChain);
  const ca = certs[certs.length - 1];
  const verified = verifyDeviceChain(files.certificateChain, ca, now);
  const ownSpki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!ownSpki.equals(verified.devicePublicKey.export({ type: 'spki', format: 'der' }))) {
    throw new IdentityError(IdentityErrorCode.KEY_MISMATCH, 'the device key does not match the device certificate');
  }
  const accountPem = verified.account.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  if (!verifyReceiptSignature(files.receipt, files.receiptSignature, accountPem)) {
    throw new IdentityError(
      IdentityErrorCode.RECEIPT_INVALID,
      'the receipt signature does not verify with the account key',
    );
  }
  let receipt: { id?: unknown; dev?: unknown; announce?: unknown };
  try {
    receipt = JSON.parse(files.receipt) as typeof receipt;
  } catch {
    throw new IdentityError(IdentityErrorCode.RECEIPT_INVALID, 'the receipt is not JSON');
  }
  if (receipt.id !== verified.accountId || receipt.dev !== verified.deviceShortId) {
    throw new IdentityError(IdentityErrorCode.RECEIPT_INVALID, 'the receipt names another account or device');
  }
  const announce = Buffer.from(String(receipt.announce ?? ''), 'base64');
  let parsed;
  try {
    parsed = verifyDeviceAnnouncement(announce);
  } catch (err) {
    throw new IdentityError(IdentityErrorCode.RECEIPT_INVALID, `the receipt's announcement: ${(err as Error).message}`);
  }
  if (parsed.accountId !== verified.accountId || parsed.deviceShortId !== verified.deviceShortId) {
    throw new IdentityError(IdentityErrorCode.RECEIPT_INVALID, 'the announcement names another account or device');
  }
  return {
    ...verified,
    privateKey,
    receipt: files.receipt,
    receiptSignature: files.receiptSignature,
    announce,
  };
}
