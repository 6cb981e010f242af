import { createPrivateKey, createPublicKey, KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { keyId, spkiOf } from './info-hash';
import { asBigInt, isMap, mapEntries, pack, Packable, RawMsgpack, unpack } from './msgpack';

/**
 * OpenDHT's Value (opendht 2.4.12, value.h):
 *   Value = { "id": uint64, "dat": Dat [, "p": priority] }
 *   Dat   = bin(cypher)  |  { "body": Body [, "sig": bin] }
 *   Body  = { ["seq", "owner", ["to"]], "type", "data", ["utype"] }   (in that order)
 * The signature (RSA PKCS#1 v1.5, SHA-512) covers the exact msgpack bytes of Body.
 */

/** Most bytes a packed value may have (OpenDHT's MAX_VALUE_SIZE). */
export const MAX_VALUE_SIZE = 64 * 1024;

export const ValueType = {
  USER_DATA: 0,
  DHT_MESSAGE: 1,
  IP_SERVICE_ANNOUNCEMENT: 2,
  IM_MESSAGE: 3,
  TRUST_REQUEST: 4,
  ICE_CANDIDATES: 5,
  CERTIFICATE: 8,
} as const;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** How long a storing node keeps a value of each known type; unknown types get USER_DATA's 10 minutes. */
export const VALUE_TYPE_EXPIRY_MS: Readonly<Record<number, number>> = {
  [ValueType.USER_DATA]: 10 * MINUTE,
  [ValueType.DHT_MESSAGE]: 5 * MINUTE,
  [ValueType.IP_SERVICE_ANNOUNCEMENT]: 15 * MINUTE,
  [ValueType.IM_MESSAGE]: 5 * MINUTE,
  [ValueType.TRUST_REQUEST]: 7 * DAY,
  [ValueType.ICE_CANDIDATES]: MINUTE,
  [ValueType.CERTIFICATE]: 7 * DAY,
};

export function valueExpiryMs(type: number): number {
  return VALUE_TYPE_EXPIRY_MS[type] ?? VALUE_TYPE_EXPIRY_MS[ValueType.USER_DATA];
}

export interface DhtValue {
  /** Random non-zero uint64 chosen by the publisher. */
  id: bigint;
  /** Value type id (0 = user data, 8 = certificate, …). Always 0 on the wire for an encrypted value. */
  type: number;
  data: Buffer;
  /** Free-form user type, e.g. "text/plain". */
  utype?: string;
  /** Sequence number (uint16), present on signed values; edits must increase it. */
  seq?: number;
  /** DER SubjectPublicKeyInfo of the signer. */
  owner?: Buffer;
  /** Recipient key id (20 bytes), present on values encrypted to someone. */
  to?: Buffer;
  signature?: Buffer;
  /** Set when the value is encrypted on the wire: the whole `dat` blob. */
  cypher?: Buffer;
  /** True when the body fields were recovered by decrypting `cypher`. */
  decrypted?: boolean;
  priority?: number;
  /**
   * The exact packed bytes as received. encodeValue() sends these verbatim, so drop `raw` (and `body`)
   * when deriving a changed value from a received one.
   */
  raw?: Buffer;
  /** The exact Body bytes as received (what the signature covers); the body fields were decoded from them. */
  body?: Buffer;
}

/** The fields a publisher chooses; id and seq get defaults. */
export interface ValueInit {
  id?: bigint;
  type?: number;
  data: Uint8Array | string;
  utype?: string;
  seq?: number;
  to?: Uint8Array;
}

/** Thrown when bytes are not a valid OpenDHT value. */
export class ValueFormatError extends Error {}

export function randomValueId(): bigint {
  for (;;) {
    const id = randomBytes(8).readBigUInt64BE();
    if (id !== 0n) return id;
  }
}

const toBuffer = (d: Uint8Array | string): Buffer =>
  typeof d === 'string' ? Buffer.from(d, 'utf8') : Buffer.from(d.buffer, d.byteOffset, d.byteLength);

/** A plain (unsigned) value; a string becomes UTF-8 data with utype "text/plain" unless one is given. */
export function createValue(init: ValueInit): DhtValue {
  return {
    id: init.id ?? randomValueId(),
    type: init.type ?? ValueType.USER_DATA,
    data: toBuffer(init.data),
    utype: init.utype ?? (typeof init.data === 'string' ? 'text/plain' : undefined),
  };
}

/**
 * What a put sends: bytes or a string become a type-0 value (createValue), a value with id 0 gets a random
 * id. Throws RangeError when the packed value is over MAX_VALUE_SIZE.
 */
export function valueForPut(value: DhtValue | Uint8Array | string): { value: DhtValue; raw: Buffer } {
  let v = typeof value === 'string' || value instanceof Uint8Array ? createValue({ data: value }) : value;
  if (v.id === 0n) v = { ...v, id: randomValueId(), raw: undefined };
  const raw = encodeValue(v);
  if (raw.length > MAX_VALUE_SIZE) throw new RangeError(`value is ${raw.length} bytes, more than ${MAX_VALUE_SIZE}`);
  return { value: v, raw };
}

export function isSigned(v: DhtValue): boolean {
  return v.owner !== undefined && v.signature !== undefined;
}

export function isEncrypted(v: DhtValue): boolean {
  return v.cypher !== undefined;
}

/**
 * The canonical msgpack Body: keys `seq, owner, [to], type, data, [utype]`, smallest integers, blobs as bin.
 * Byte-identical to what msgpack-c writes, so it is also what OpenDHT verifies.
 */
export function packBody(v: Pick<DhtValue, 'seq' | 'owner' | 'to' | 'type' | 'data' | 'utype'>): Buffer {
  const body: Record<string, Packable | undefined> = {};
  if (v.owner) {
    body.seq = v.seq ?? 0;
    body.owner = v.owner;
    if (v.to) body.to = v.to;
  }
  body.type = v.type;
  body.data = v.data;
  if (v.utype !== undefined) body.utype = v.utype;
  return pack(body);
}

/** The packed value (its `raw` bytes when it has them). */
export function encodeValue(v: DhtValue): Buffer {
  if (v.raw) return v.raw;
  let dat: Packable;
  if (v.cypher) dat = v.cypher;
  else {
    const body = new RawMsgpack(v.body ?? packBody(v));
    dat = v.owner ? { body, sig: v.signature ?? Buffer.alloc(0) } : { body };
  }
  return pack({ id: v.id, dat, p: v.priority });
}

const asInt = (x: unknown, what: string): number => {
  if (typeof x === 'number' && Number.isInteger(x)) return x;
  if (typeof x === 'bigint' && x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(x);
  }
  throw new ValueFormatError(`${what} is not an integer`);
};

const asBytes = (x: unknown, what: string): Buffer => {
  if (x instanceof Uint8Array) return Buffer.from(x);
  if (typeof x === 'string') return Buffer.from(x, 'utf8');
  throw new ValueFormatError(`${what} is not a blob`);
};

/** Decodes the Body map found at `bytes` (exactly one msgpack map). */
export function decodeBody(bytes: Buffer): Omit<DhtValue, 'id'> {
  const body = unpack(bytes) as Record<string, unknown>;
  if (!body || typeof body !== 'object' || body instanceof Uint8Array || Array.isArray(body)) {
    throw new ValueFormatError('value body is not a map');
  }
  if (body.type === undefined) throw new ValueFormatError('value body has no type');
  if (body.data === undefined) throw new ValueFormatError('value body has no data');
  const v: Omit<DhtValue, 'id'> = {
    type: asInt(body.type, 'value type'),
    data: asBytes(body.data, 'value data'),
    body: bytes,
  };
  if (v.type < 0 || v.type > 0xffff) throw new ValueFormatError('value type out of range');
  if (body.utype !== undefined) v.utype = asBytes(body.utype, 'utype').toString('utf8');
  if (body.owner !== undefined) {
    v.owner = asBytes(body.owner, 'owner');
    if (body.seq === undefined) throw new ValueFormatError('signed value has no seq');
    v.seq = asInt(body.seq, 'seq');
    if (body.to !== undefined) {
      v.to = asBytes(body.to, 'to');
      if (v.to.length !== 20) throw new ValueFormatError('recipient id is not 20 bytes');
    }
  }
  return v;
}

/** Decodes `{body, sig}` (the Dat map, also the plaintext of an encrypted value), keeping the raw body. */
export function decodeDat(bytes: Buffer, offset = 0): Omit<DhtValue, 'id'> {
  const { entries } = mapEntries(bytes, offset);
  const bodyEntry = entries.find((e) => e.key === 'body');
  if (!bodyEntry || !isMap(bytes, bodyEntry.start)) throw new ValueFormatError('value has no body');
  const v = decodeBody(Buffer.from(bytes.subarray(bodyEntry.start, bodyEntry.end)));
  const sigEntry = entries.find((e) => e.key === 'sig');
  if (sigEntry) v.signature = asBytes(unpack(bytes.subarray(sigEntry.start, sigEntry.end)), 'signature');
  if (v.owner && !v.signature) throw new ValueFormatError('value has an owner but no signature');
  return v;
}

/** Decodes a packed value. Keeps `raw` and the exact body bytes for signature checks. Throws ValueFormatError. */
export function decodeValue(raw: Uint8Array): DhtValue {
  const bytes = Buffer.from(raw);
  try {
    const { entries, end } = mapEntries(bytes, 0);
    if (end !== bytes.length) throw new ValueFormatError('trailing bytes after value');
    const field = (k: string) => entries.find((e) => e.key === k);
    const idEntry = field('id');
    const datEntry = field('dat');
    if (!idEntry || !datEntry) throw new ValueFormatError('value lacks id or dat');
    const idRaw = unpack(bytes.subarray(idEntry.start, idEntry.end));
    const id = asBigInt(idRaw);
    if (id === undefined || id < 0n) throw new ValueFormatError('value id is not a uint64');
    let value: DhtValue;
    if (isMap(bytes, datEntry.start)) value = { id, ...decodeDat(bytes, datEntry.start) };
    else {
      const cypher = unpack(bytes.subarray(datEntry.start, datEntry.end));
      if (!(cypher instanceof Uint8Array)) throw new ValueFormatError('value dat is neither a map nor a blob');
      value = { id, type: ValueType.USER_DATA, data: Buffer.alloc(0), cypher: Buffer.from(cypher) };
    }
    const p = field('p');
    if (p) value.priority = asInt(unpack(bytes.subarray(p.start, p.end)), 'priority');
    value.raw = bytes;
    return value;
  } catch (err) {
    if (err instanceof ValueFormatError) throw err;
    throw new ValueFormatError(`malformed value: ${(err as Error).message}`);
  }
}

const privateKeyOf = (key: string | KeyObject): KeyObject => (typeof key === 'string' ? createPrivateKey(key) : key);

/**
 * Signs a value as OpenDHT does: owner = the signer's SPKI, seq defaults to 0, signature = RSA PKCS#1 v1.5
 * SHA-512 over the canonical Body. Only RSA keys: OpenDHT verifies RSA-SHA512 signatures only.
 */
export function signValue(init: ValueInit, privateKey: string | KeyObject): DhtValue {
  const key = privateKeyOf(privateKey);
  if (key.asymmetricKeyType !== 'rsa') throw new TypeError('OpenDHT values can only be signed with RSA keys');
  const value: DhtValue = {
    ...createValue(init),
    seq: init.seq ?? 0,
    owner: spkiOf(createPublicKey(key)),
    to: init.to ? Buffer.from(init.to) : undefined,
  };
  if (value.seq! < 0 || value.seq! > 0xffff) throw new RangeError('seq must be a uint16');
  value.body = packBody(value);
  value.signature = sign('sha512', value.body, key);
  return value;
}

/** True when the value is signed by an RSA owner and the signature covers its exact body bytes. */
export function verifyValue(v: DhtValue): boolean {
  if (!v.owner || !v.signature) return false;
  try {
    const owner = createPublicKey({ key: v.owner, format: 'der', type: 'spki' });
    if (owner.asymmetricKeyType !== 'rsa') return false;
    return verify('sha512', v.body ?? packBody(v), owner, v.signature);
  } catch {
    return false;
  }
}

/** SHA-1 key id of the owner, when the value is signed. */
export function ownerId(v: DhtValue): Buffer | undefined {
  return v.owner ? keyId(v.owner) : undefined;
}
