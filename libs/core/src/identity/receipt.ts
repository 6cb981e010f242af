import { createPublicKey, sign, verify } from 'node:crypto';
import { sha1, signDeviceAnnouncement } from './device-announcement';

/**
 * The device receipt Jami clients store and check at every start: a JSON text naming the account (`id`),
 * the device (`dev`, SHA-1 key id) and carrying the signed announcement; `receiptSignature` is the account
 * key's RSA PKCS#1 v1.5 SHA-512 signature over the exact receipt bytes.
 */
export interface DeviceReceipt {
  /** The JSON text, exactly as signed and sent. */
  receipt: string;
  /** base64, no line breaks. */
  signature: string;
  accountId: string;
  deviceShortId: string;
}

export function issueDeviceReceipt(opts: {
  accountPrivateKeyPem: string;
  accountPublicKeyPem: string;
  devicePublicKeyPem: string;
}): DeviceReceipt {
  const accountSpki = createPublicKey(opts.accountPublicKeyPem).export({ type: 'spki', format: 'der' });
  const deviceSpki = createPublicKey(opts.devicePublicKeyPem).export({ type: 'spki', format: 'der' });
  const accountId = sha1(accountSpki).toString('hex');
  const deviceShortId = sha1(deviceSpki).toString('hex');
  const { value } = signDeviceAnnouncement(opts);
  const receipt = JSON.stringify({ id: accountId, dev: deviceShortId, eth: '', announce: value.toString('base64') });
  const signature = sign('sha512', Buffer.from(receipt, 'utf8'), opts.accountPrivateKeyPem).toString('base64');
  return { receipt, signature, accountId, deviceShortId };
}

export function verifyReceiptSignature(receipt: string, signatureB64: string, accountPublicKeyPem: string): boolean {
  return verify('sha512', Buffer.from(receipt, 'utf8'), accountPublicKeyPem, Buffer.from(signatureB64, 'base64'));
}
