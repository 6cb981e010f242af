import { createHash } from 'node:crypto';
import { spkiOf } from '../dht/info-hash';
import { pack, unpack } from '../dht/msgpack';
import { decodeValue, DhtValue, encodeValue, signValue, ValueType, verifyValue } from '../dht/value';

/**
 * Jami's device announcement: an OpenDHT value signed by the ACCOUNT key, published at the account's
 * InfoHash, saying "this device key belongs to this account". The signature covers the msgpack encoding of
 * the body map {seq, owner, type, data} in that order, with blobs as msgpack bin and smallest-width
 * integers, exactly as msgpack-c encodes it. Built and checked with the DHT Value code (../dht/value.ts).
 */

export interface DeviceAnnouncement {
  /** SHA-1 key id of the device public key (20 bytes). */
  dev: Buffer;
  /** DER SubjectPublicKeyInfo of the device key. */
  pk: Buffer;
}

export interface SignedAnnouncement {
  /** The serialized dht::Value (msgpack): {id, dat: {body, sig}}. */
  value: Buffer;
  /** The exact bytes that were signed: msgpack(body). */
  signedBody: Buffer;
}

export const sha1 = (data: Buffer): Buffer => createHash('sha1').update(data).digest();

/** Builds and signs (RSA PKCS#1 v1.5 SHA-512, account key) the announcement of a device. */
export function signDeviceAnnouncement(opts: {
  accountPrivateKeyPem: string;
  accountPublicKeyPem: string;
  devicePublicKeyPem: string;
}): SignedAnnouncement {
  const devicePk = spkiOf(opts.devicePublicKeyPem);
  const data = pack({ dev: sha1(devicePk), pk: devicePk });
  if (!spkiOf(opts.accountPrivateKeyPem).equals(spkiOf(opts.accountPublicKeyPem))) {
    throw new Error('the account private and public keys do not match');
  }
  // The daemon stores the announcement before it is put, with value id 0.
  const signed = signValue({ id: 0n, type: ValueType.USER_DATA, data }, opts.accountPrivateKeyPem);
  return { value: encodeValue(signed), signedBody: signed.body! };
}

export interface ParsedAnnouncement {
  /** Jami ID: SHA-1 of the owner (account) SPKI, hex. */
  accountId: string;
  /** SHA-1 key id of the device key, hex. */
  deviceShortId: string;
  /** SHA-256 of the device SPKI, hex, when `pk` is present. */
  deviceId?: string;
  ownerSpki: Buffer;
  devicePk?: Buffer;
}

/**
 * Parses and verifies an announcement the way the daemon does: checks the account signature over the body,
 * derives the account id from the owner key. Throws on any mismatch.
 */
export function verifyDeviceAnnouncement(value: Buffer): ParsedAnnouncement {
  let v: DhtValue;
  try {
    v = decodeValue(value);
  } catch (err) {
    throw new Error(`announcement is malformed: ${(err as Error).message}`);
  }
  if (!v.owner || !v.signature) throw new Error('announcement is not a signed value');
  if (v.type !== ValueType.USER_DATA) {
    throw new Error(`announcement has value type ${v.type}, expected ${ValueType.USER_DATA}`);
  }
  if (!verifyValue(v)) throw new Error('announcement signature does not verify');
  const inner = unpack(v.data) as { dev?: Uint8Array; pk?: Uint8Array };
  if (!(inner?.dev instanceof Uint8Array) || inner.dev.length !== 20) throw new Error('announcement has no device id');
  const devicePk = inner.pk instanceof Uint8Array ? Buffer.from(inner.pk) : undefined;
  if (devicePk && !sha1(devicePk).equals(Buffer.from(inner.dev))) {
    throw new Error('announcement pk does not match its device id');
  }
  return {
    accountId: sha1(v.owner).toString('hex'),
    deviceShortId: Buffer.from(inner.dev).toString('hex'),
    deviceId: devicePk ? createHash('sha256').update(devicePk).digest('hex') : undefined,
    ownerSpki: v.owner,
    devicePk,
  };
}
