import { createHash, createPublicKey, sign, verify } from 'node:crypto';
import { decode, encode } from '@msgpack/msgpack';

/**
 * Jami's device announcement: an OpenDHT value signed by the ACCOUNT key, published at the account's
 * InfoHash, saying "this device key belongs to this account". The signature covers the msgpack encoding of
 * the body map {seq, owner, type, data} in that order, with blobs as msgpack bin and smallest-width
 * integers, exactly as msgpack-c encodes it (the daemon re-encodes the body to verify it).
 */

const USER_DATA_TYPE = 0;

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

const spkiDer = (publicKeyPem: string): Buffer => createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });

export const sha1 = (data: Buffer): Buffer => createHash('sha1').update(data).digest();

function encodeBody(ownerSpki: Buffer, data: Buffer, seq = 0): Buffer {
  return Buffer.from(
    encode({ seq, owner: new Uint8Array(ownerSpki), type: USER_DATA_TYPE, data: new Uint8Array(data) }),
  );
}

/** Builds and signs (RSA PKCS#1 v1.5 SHA-512, account key) the announcement of a device. */
export function signDeviceAnnouncement(opts: {
  accountPrivateKeyPem: string;
  accountPublicKeyPem: string;
  devicePublicKeyPem: string;
}): SignedAnnouncement {
  const devicePk = spkiDer(opts.devicePublicKeyPem);
  const data = Buffer.from(encode({ dev: new Uint8Array(sha1(devicePk)), pk: new Uint8Array(devicePk) }));
  const signedBody = encodeBody(spkiDer(opts.accountPublicKeyPem), data);
  const sig = sign('sha512', signedBody, opts.accountPrivateKeyPem);
  // dht::Value: {"id": uint64, "dat": {"body": BODY, "sig": bin}}; encoding is deterministic, so the body
  // inside the value is byte-identical to signedBody.
  const value = Buffer.from(encode({ id: 0, dat: { body: decode(signedBody), sig: new Uint8Array(sig) } }));
  if (!value.includes(signedBody)) throw new Error('announcement body was not embedded verbatim');
  return { value, signedBody };
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
 * Parses and verifies an announcement the way the daemon does: re-encodes the body, checks the account
 * signature, derives the account id from the owner key. Throws on any mismatch.
 */
export function verifyDeviceAnnouncement(value: Buffer): ParsedAnnouncement {
  const v = decode(value) as { dat?: { body?: Record<string, unknown>; sig?: Uint8Array } };
  const body = v?.dat?.body;
  const sig = v?.dat?.sig;
  if (!body || !(sig instanceof Uint8Array)) throw new Error('announcement is not a signed value');
  const { seq, owner, type, data } = body as { seq: number; owner: Uint8Array; type: number; data: Uint8Array };
  if (!(owner instanceof Uint8Array) || !(data instanceof Uint8Array) || typeof seq !== 'number') {
    throw new Error('announcement body is malformed');
  }
  if (type !== USER_DATA_TYPE) throw new Error(`announcement has value type ${type}, expected ${USER_DATA_TYPE}`);
  const ownerSpki = Buffer.from(owner);
  const signed = encodeBody(ownerSpki, Buffer.from(data), seq);
  const ownerKey = createPublicKey({ key: ownerSpki, format: 'der', type: 'spki' });
  if (!verify('sha512', signed, ownerKey, Buffer.from(sig))) throw new Error('announcement signature does not verify');
  const inner = decode(data) as { dev?: Uint8Array; pk?: Uint8Array };
  if (!(inner?.dev instanceof Uint8Array) || inner.dev.length !== 20) throw new Error('announcement has no device id');
  const devicePk = inner.pk instanceof Uint8Array ? Buffer.from(inner.pk) : undefined;
  if (devicePk && !sha1(devicePk).equals(Buffer.from(inner.dev))) {
    throw new Error('announcement pk does not match its device id');
  }
  return {
    accountId: sha1(ownerSpki).toString('hex'),
    deviceShortId: Buffer.from(inner.dev).toString('hex'),
    deviceId: devicePk ? createHash('sha256').update(devicePk).digest('hex') : undefined,
    ownerSpki,
    devicePk,
  };
}
