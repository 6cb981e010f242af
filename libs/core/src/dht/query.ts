import { keyId } from './info-hash';
import { Packable } from './msgpack';
import { DhtValue } from './value';

/**
 * OpenDHT's Query (value.h): `{s: Select, w: Where}`. Select is an array of field ids, Where an array of
 * `{f: field, v: value}`. A get with a non-empty Select is answered with `fileds: {f, v}` (sic) instead of
 * values; dhtnode paginates this way ("SELECT id", then one get per id).
 */
export const ValueField = {
  ID: 1,
  VALUE_TYPE: 2,
  OWNER_PK: 3,
  SEQ_NUM: 4,
  USER_TYPE: 5,
} as const;

export interface WhereClause {
  field: number;
  /** uint64 for ID/VALUE_TYPE/SEQ_NUM, 20-byte owner key id for OWNER_PK, bytes for USER_TYPE. */
  value: bigint | Buffer;
}

export interface Query {
  select: number[];
  where: WhereClause[];
}

const KNOWN_FIELDS = new Set<number>(Object.values(ValueField));

/** Parses an `a.q` object; throws on an unknown shape. */
export function parseQuery(raw: unknown): Query {
  if (!raw || typeof raw !== 'object') throw new TypeError('query is not a map');
  const { s, w } = raw as { s?: unknown; w?: unknown };
  const select = Array.isArray(s) ? s.map((f) => Number(f)) : [];
  const where: WhereClause[] = [];
  if (Array.isArray(w)) {
    for (const item of w) {
      const { f, v } = (item ?? {}) as { f?: unknown; v?: unknown };
      const field = Number(f);
      if (!KNOWN_FIELDS.has(field)) throw new TypeError(`unknown query field ${String(f)}`);
      if (typeof v === 'number' || typeof v === 'bigint') where.push({ field, value: BigInt(v) });
      else if (v instanceof Uint8Array) where.push({ field, value: Buffer.from(v) });
      else if (typeof v === 'string') where.push({ field, value: Buffer.from(v, 'utf8') });
      else throw new TypeError('unsupported query value');
    }
  }
  if (select.some((f) => !KNOWN_FIELDS.has(f))) throw new TypeError('unknown select field');
  return { select, where };
}

export function packQuery(q: Query): Packable {
  return { s: q.select, w: q.where.map((c) => ({ f: c.field, v: c.value })) };
}

const NO_OWNER = Buffer.alloc(20);

/** The field as OpenDHT compares and reports it. */
function fieldOf(v: DhtValue, field: number): bigint | Buffer {
  switch (field) {
    case ValueField.ID:
      return v.id;
    case ValueField.VALUE_TYPE:
      return BigInt(v.type);
    case ValueField.SEQ_NUM:
      return BigInt(v.seq ?? 0);
    case ValueField.OWNER_PK:
      return v.owner ? keyId(v.owner) : NO_OWNER;
    default:
      return Buffer.from(v.utype ?? '', 'utf8');
  }
}

export function matchesWhere(v: DhtValue, where: readonly WhereClause[]): boolean {
  return where.every((c) => {
    const actual = fieldOf(v, c.field);
    if (typeof actual === 'bigint') return typeof c.value === 'bigint' && actual === c.value;
    return Buffer.isBuffer(c.value) && actual.equals(c.value);
  });
}

/** The `fileds` reply body: sorted field ids, then the selected fields of each value, flattened. */
export function selectFields(values: readonly DhtValue[], select: readonly number[]): { f: number[]; v: Packable[] } {
  const f = [...new Set(select)].sort((a, b) => a - b);
  const v: Packable[] = [];
  for (const value of values) for (const field of f) v.push(fieldOf(value, field));
  return { f, v };
}
