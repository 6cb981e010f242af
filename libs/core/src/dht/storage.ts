import { X509Certificate } from 'node:crypto';
import { keyId } from './info-hash';
import { unpack } from './msgpack';
import { matchesWhere, WhereClause } from './query';
import { DhtValue, encodeValue, isSigned, MAX_VALUE_SIZE, valueExpiryMs, ValueType, verifyValue } from './value';

/**
 * What this node stores for others, with OpenDHT's policies: per-type expiry counted from the creation time
 * (never later than now), a size limit per value, a value count per key and a byte budget for the node;
 * signed values must verify (whatever their type); certificates (type 8) only at their public key's id;
 * a value id already stored can only be replaced by the same owner with a higher seq (identical bytes just
 * refresh it).
 */

export interface StorageLimits {
  /** Largest packed value accepted. Default 64 KiB (OpenDHT's MAX_VALUE_SIZE). */
  maxValueSize: number;
  /** Most values per key. Default 1024. */
  maxValuesPerKey: number;
  /** Most bytes stored in total. Default 64 MiB. */
  maxBytes: number;
  /** Most keys. Default 65536. */
  maxKeys: number;
}

export const DEFAULT_STORAGE_LIMITS: StorageLimits = {
  maxValueSize: MAX_VALUE_SIZE,
  maxValuesPerKey: 1024,
  maxBytes: 64 * 1024 * 1024,
  maxKeys: 65536,
};

export interface StoredValue {
  value: DhtValue;
  raw: Buffer;
  /** When the value was created (ms): min(creation time given by the publisher, arrival). */
  created: number;
  expiresAt: number;
}

export type RejectReason =
  | 'too-large'
  | 'invalid-id'
  | 'bad-signature'
  | 'certificate-key-mismatch'
  | 'edit-refused'
  | 'storage-full'
  | 'expired';

export type StoreOutcome =
  { stored: true; changed: boolean; entry: StoredValue } | { stored: false; reason: RejectReason };

/** Certificates (type 8) carry a msgpack bin holding a PEM chain, leaf first; they belong at the leaf key's id. */
function certificateKeyMatches(key: Buffer, value: DhtValue): boolean {
  try {
    const inner = unpack(value.data);
    const pem = inner instanceof Uint8Array ? Buffer.from(inner).toString('utf8') : String(inner);
    const leaf = new X509Certificate(pem);
    return keyId(leaf.publicKey).equals(key);
  } catch {
    return false;
  }
}

export class ValueStorage {
  private readonly map = new Map<string, Map<bigint, StoredValue>>();
  private totalBytes = 0;
  readonly limits: StorageLimits;

  constructor(limits: Partial<StorageLimits> = {}) {
    this.limits = { ...DEFAULT_STORAGE_LIMITS, ...limits };
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get valueCount(): number {
    let n = 0;
    for (const m of this.map.values()) n += m.size;
    return n;
  }

  /** Checks a value against the store policy and stores it. `createdMs` is the publisher's creation time. */
  store(key: Buffer, value: DhtValue, now = Date.now(), createdMs?: number): StoreOutcome {
    const raw = encodeValue(value);
    if (raw.length > this.limits.maxValueSize) return { stored: false, reason: 'too-large' };
    if (value.id === 0n) return { stored: false, reason: 'invalid-id' };
    if ((value.owner || value.signature) && !verifyValue(value)) return { stored: false, reason: 'bad-signature' };
    if (!value.cypher && value.type === ValueType.CERTIFICATE && !certificateKeyMatches(key, value)) {
      return { stored: false, reason: 'certificate-key-mismatch' };
    }
    const created = Math.min(createdMs ?? now, now);
    const expiresAt = created + valueExpiryMs(value.type);
    if (expiresAt <= now) return { stored: false, reason: 'expired' };

    const hex = key.toString('hex');
    const values = this.map.get(hex);
    const existing = values?.get(value.id);
    if (existing) {
      if (existing.raw.equals(raw)) {
        existing.expiresAt = Math.max(existing.expiresAt, expiresAt);
        return { stored: true, changed: false, entry: existing };
      }
      const old = existing.value;
      const sameOwner = isSigned(old) && isSigned(value) && old.owner!.equals(value.owner!);
      if (!sameOwner || (value.seq ?? 0) <= (old.seq ?? 0)) return { stored: false, reason: 'edit-refused' };
      if (this.totalBytes - existing.raw.length + raw.length > this.limits.maxBytes) {
        return { stored: false, reason: 'storage-full' };
      }
      const entry: StoredValue = { value: { ...value, raw }, raw, created, expiresAt };
      values!.set(value.id, entry);
      this.totalBytes += raw.length - existing.raw.length;
      return { stored: true, changed: true, entry };
    }
    if (this.totalBytes + raw.length > this.limits.maxBytes) return { stored: false, reason: 'storage-full' };
    if (values && values.size >= this.limits.maxValuesPerKey) return { stored: false, reason: 'storage-full' };
    if (!values && this.map.size >= this.limits.maxKeys) return { stored: false, reason: 'storage-full' };
    const entry: StoredValue = { value: { ...value, raw }, raw, created, expiresAt };
    const target = values ?? new Map<bigint, StoredValue>();
    target.set(value.id, entry);
    this.map.set(hex, target);
    this.totalBytes += raw.length;
    return { stored: true, changed: true, entry };
  }

  /** Stored values at key (not yet expired), optionally only those matching a Where. */
  get(key: Buffer, where: readonly WhereClause[] = [], now = Date.now()): StoredValue[] {
    const values = this.map.get(key.toString('hex'));
    if (!values) return [];
    return [...values.values()].filter((e) => e.expiresAt > now && matchesWhere(e.value, where));
  }

  /** Restarts a value's expiry (OpenDHT `refresh`); undefined when it is not stored. */
  refresh(key: Buffer, id: bigint, now = Date.now()): StoredValue | undefined {
    const entry = this.map.get(key.toString('hex'))?.get(id);
    if (!entry || entry.expiresAt <= now) return undefined;
    entry.expiresAt = now + valueExpiryMs(entry.value.type);
    return entry;
  }

  /** Removes expired values; returns them per key. */
  expire(now = Date.now()): { key: Buffer; values: StoredValue[] }[] {
    const out: { key: Buffer; values: StoredValue[] }[] = [];
    for (const [hex, values] of this.map) {
      const gone = [...values.values()].filter((e) => e.expiresAt <= now);
      if (gone.length === 0) continue;
      for (const e of gone) {
        values.delete(e.value.id);
        this.totalBytes -= e.raw.length;
      }
      if (values.size === 0) this.map.delete(hex);
      out.push({ key: Buffer.from(hex, 'hex'), values: gone });
    }
    return out;
  }
}
