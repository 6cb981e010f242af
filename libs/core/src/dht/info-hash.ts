import { createHash, createPublicKey, KeyObject, randomBytes } from 'node:crypto';

/** OpenDHT's InfoHash: 160 bits, on the wire as a msgpack `bin` of exactly 20 bytes. */
export const HASH_LEN = 20;

/** A DHT key or node id: 20 bytes, or their 40-digit hex spelling. */
export type KeyInput = Uint8Array | string;

/** SHA-1 of a string's UTF-8 bytes (or of bytes): OpenDHT's `InfoHash::get`, dhtnode's `h(key)`. */
export function infoHash(input: string | Uint8Array): Buffer {
  return createHash('sha1')
    .update(typeof input === 'string' ? Buffer.from(input, 'utf8') : input)
    .digest();
}

/** The DER SubjectPublicKeyInfo of a public key, or of the public half of a private key. */
export function spkiOf(key: string | Buffer | KeyObject): Buffer {
  const obj =
    key instanceof KeyObject
      ? key
      : Buffer.isBuffer(key) && key[0] === 0x30
        ? createPublicKey({ key, format: 'der', type: 'spki' })
        : createPublicKey(key);
  return obj.export({ type: 'spki', format: 'der' });
}

/** Key id = SHA-1 of the SPKI DER: the Jami account id and dhtnode's "Public key ID". Accepts PEM or SPKI DER. */
export function keyId(key: string | Buffer | KeyObject): Buffer {
  return createHash('sha1').update(spkiOf(key)).digest();
}

/** Long key id = SHA-256 of the SPKI DER: Jami's device id. */
export function longKeyId(key: string | Buffer | KeyObject): Buffer {
  return createHash('sha256').update(spkiOf(key)).digest();
}

/** Normalises a key argument: 20 bytes as-is, or exactly 40 hex digits. Other strings are rejected, not hashed. */
export function toHash(key: KeyInput, what = 'key'): Buffer {
  if (typeof key === 'string') {
    if (!/^[0-9a-fA-F]{40}$/.test(key)) throw new TypeError(`${what} must be 20 bytes or 40 hex digits`);
    return Buffer.from(key, 'hex');
  }
  if (key.length !== HASH_LEN) throw new TypeError(`${what} must be ${HASH_LEN} bytes, got ${key.length}`);
  return Buffer.from(key);
}

export function randomHash(): Buffer {
  return randomBytes(HASH_LEN);
}

/** Compares the XOR distances of a and b to target: negative when a is closer. */
export function compareDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < HASH_LEN; i++) {
    const da = a[i] ^ target[i];
    const db = b[i] ^ target[i];
    if (da !== db) return da - db;
  }
  return 0;
}

/** Number of leading bits a and b have in common (160 when equal). */
export function commonPrefixBits(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < HASH_LEN; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return HASH_LEN * 8;
}
