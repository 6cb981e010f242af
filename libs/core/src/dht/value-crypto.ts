import {
  CipherGCMTypes,
  constants,
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { keyId } from './info-hash';
import { pack, RawMsgpack } from './msgpack';
import { decodeDat, DhtValue, signValue, ValueInit, verifyValue } from './value';

/**
 * Values encrypted to a recipient, as OpenDHT 2.4.12 does it (crypto.cpp, Value::encrypt):
 *   1. to = recipient key id; sign the value with the sender's key;
 *   2. plaintext = msgpack {"body": Body, "sig": bin};
 *   3. cypher = RSA-PKCS#1-v1.5(plaintext) when it fits one block (k - 11 bytes), otherwise
 *      RSA-PKCS#1-v1.5(aesKey) ‖ IV(12) ‖ AES-GCM ciphertext ‖ tag(16), no AAD, the AES key being the longest of
 *      32/24/16 bytes that fits in a block (so AES-256-GCM for any real RSA key).
 * OpenDHT 2.4.12 only speaks PKCS#1 v1.5 here, not OAEP.
 */

const GCM_IV_LEN = 12;
const GCM_TAG_LEN = 16;
const PKCS1_OVERHEAD = 11;

/** Thrown when a cypher cannot be decrypted with the given key (not for us, or corrupted). */
export class DecryptionError extends Error {}

/** Thrown when a decrypted value fails OpenDHT's checks (recipient mismatch, bad inner signature). */
export class EncryptedValueRejected extends Error {}

const modulusBytes = (key: KeyObject): number => {
  if (key.asymmetricKeyType !== 'rsa') throw new TypeError('OpenDHT encryption needs an RSA key');
  return Math.ceil(key.asymmetricKeyDetails!.modulusLength! / 8);
};

const aesKeyLength = (k: number): number => {
  const len = [32, 24, 16].find((n) => n <= k - PKCS1_OVERHEAD);
  if (!len) throw new TypeError('RSA key too small to carry an AES key');
  return len;
};

/** OpenDHT's PublicKey::encrypt. */
export function rsaEncrypt(plaintext: Buffer, publicKey: string | KeyObject): Buffer {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const k = modulusBytes(key);
  const rsa = (data: Buffer) => publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, data);
  if (plaintext.length <= k - PKCS1_OVERHEAD) return rsa(plaintext);
  const aesKey = randomBytes(aesKeyLength(k));
  const iv = randomBytes(GCM_IV_LEN);
  const cipher = createCipheriv(`aes-${aesKey.length * 8}-gcm` as CipherGCMTypes, aesKey, iv);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([rsa(aesKey), iv, body, cipher.getAuthTag()]);
}

/**
 * RSA PKCS#1 v1.5 private decryption without Node's PKCS#1 mode, which Node ≥ 18.19/20.11 refuses
 * (CVE-2023-46809): raw RSA (RSA_NO_PADDING), then the EME-PKCS1-v1_5 unpadding `00 02 PS(≥8 non-zero) 00 M`
 * done here, scanning the whole block whatever it contains. Returns undefined on bad padding, so callers can
 * apply implicit rejection.
 */
function rsaDecryptBlock(block: Buffer, key: KeyObject, k: number): Buffer | undefined {
  if (block.length !== k) return undefined;
  let em: Buffer;
  try {
    em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, block);
  } catch {
    return undefined;
  }
  if (em.length < k) em = Buffer.concat([Buffer.alloc(k - em.length), em]);
  let bad = em[0] | (em[1] ^ 0x02);
  let sep = 0;
  for (let i = 2; i < k; i++) {
    const isZero = em[i] === 0 ? 1 : 0;
    const first = isZero & (sep === 0 ? 1 : 0);
    sep = first ? i : sep;
  }
  bad |= sep === 0 ? 1 : 0;
  bad |= sep < 2 + 8 ? 1 : 0;
  return bad ? undefined : em.subarray(sep + 1);
}

/**
 * OpenDHT's PrivateKey::decrypt. For the RSA+AES form, a block that does not unpad to an AES key of the
 * expected length is replaced by a random key (implicit rejection), so every failure surfaces the same way:
 * as an AES-GCM authentication failure.
 */
export function rsaDecrypt(cypher: Buffer, privateKey: string | KeyObject): Buffer {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const k = modulusBytes(key);
  if (cypher.length < k) throw new DecryptionError('cypher shorter than one RSA block');
  if (cypher.length === k) {
    const plain = rsaDecryptBlock(cypher, key, k);
    if (!plain) throw new DecryptionError('decryption failed');
    return plain;
  }
  if (cypher.length < k + GCM_IV_LEN + GCM_TAG_LEN) throw new DecryptionError('cypher too short');
  const expected = aesKeyLength(k);
  const unwrapped = rsaDecryptBlock(cypher.subarray(0, k), key, k);
  const aesKey = unwrapped && unwrapped.length === expected ? unwrapped : randomBytes(expected);
  const iv = cypher.subarray(k, k + GCM_IV_LEN);
  const tag = cypher.subarray(cypher.length - GCM_TAG_LEN);
  const decipher = createDecipheriv(`aes-${expected * 8}-gcm` as CipherGCMTypes, aesKey, iv);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([
      decipher.update(cypher.subarray(k + GCM_IV_LEN, cypher.length - GCM_TAG_LEN)),
      decipher.final(),
    ]);
  } catch {
    throw new DecryptionError('decryption failed');
  }
}

/**
 * Signs `init` with the sender's key, addressed to the recipient, and encrypts it to the recipient.
 * The result carries only `id` and `cypher` (what goes on the wire); storing nodes see a type-0 value.
 */
export function encryptValue(
  init: ValueInit,
  senderPrivateKey: string | KeyObject,
  recipientPublicKey: string | KeyObject,
): DhtValue {
  const recipient = typeof recipientPublicKey === 'string' ? createPublicKey(recipientPublicKey) : recipientPublicKey;
  const signed = signValue({ ...init, to: keyId(recipient) }, senderPrivateKey);
  const plaintext = pack({ body: new RawMsgpack(signed.body!), sig: signed.signature! });
  return { id: signed.id, type: 0, data: Buffer.alloc(0), cypher: rsaEncrypt(plaintext, recipient) };
}

/**
 * The value a `putEncrypted` stores: signed by the sender (opts.privateKeyPem, else the node's identity),
 * addressed and encrypted to the recipient. Shared by DhtNode and DhtProxyClient.
 */
export function encryptedPutValue(
  data: Uint8Array | string,
  recipientPublicKeyPem: string,
  opts: { id?: bigint; type?: number; utype?: string; privateKeyPem?: string },
  identity: KeyObject | undefined,
): DhtValue {
  const sender = opts.privateKeyPem ?? identity;
  if (!sender) throw new Error('putEncrypted needs a signing key: set identity or pass privateKeyPem');
  return encryptValue({ data, id: opts.id, type: opts.type, utype: opts.utype }, sender, recipientPublicKeyPem);
}

/**
 * Decrypts a value encrypted to us and checks it as OpenDHT does: the inner value must be signed, addressed
 * to our key id, and its signature must verify. Throws DecryptionError when the cypher is not for this key,
 * EncryptedValueRejected when it decrypts but fails a check.
 */
export function decryptValue(value: DhtValue, privateKey: string | KeyObject): DhtValue {
  if (!value.cypher) throw new TypeError('value is not encrypted');
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const plaintext = rsaDecrypt(value.cypher, key);
  let inner: Omit<DhtValue, 'id'>;
  try {
    inner = decodeDat(plaintext);
  } catch (err) {
    throw new EncryptedValueRejected(`decrypted value is malformed: ${(err as Error).message}`);
  }
  const decrypted: DhtValue = { ...inner, id: value.id, cypher: value.cypher, raw: value.raw, decrypted: true };
  if (!decrypted.owner || !decrypted.signature) throw new EncryptedValueRejected('decrypted value is not signed');
  if (!decrypted.to || !decrypted.to.equals(keyId(createPublicKey(key)))) {
    throw new EncryptedValueRejected('recipient mismatch');
  }
  if (!verifyValue(decrypted)) throw new EncryptedValueRejected('signature mismatch');
  return decrypted;
}
