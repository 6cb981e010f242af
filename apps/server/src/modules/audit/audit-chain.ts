import { createHash } from 'node:crypto';

/**
 * The audit log's hash chain. Each row stores `hash` = SHA-256 (hex) over the canonical serialisation of
 * its content and of the previous row's hash (`prev_hash`; GENESIS_HASH for the first row). Changing,
 * removing or inserting a row breaks the chain at that row or at the row after it.
 *
 * This file is pure (no Nest, no TypeORM): the migration that introduced the chain hashes the rows that
 * existed before it with these same functions.
 */
export const GENESIS_HASH = '0'.repeat(64);

/** Version tag inside every serialisation, so a future format can coexist with this one. */
const FORMAT = 'enclave-audit-v1';

export interface ChainedContent {
  /** bigint as its decimal text */
  id: string;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  details: unknown;
  before: unknown;
  after: unknown;
  requestId: string | null;
  address: string | null;
}

/** JSON with object keys sorted at every depth: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The exact text that is hashed for a row. */
export function serializeForChain(row: ChainedContent, prevHash: string): string {
  return canonicalJson([
    FORMAT,
    row.id,
    row.at.toISOString(),
    row.actor,
    row.action,
    row.target,
    row.details ?? null,
    row.before ?? null,
    row.after ?? null,
    row.requestId,
    row.address,
    prevHash,
  ]);
}

export function chainHash(row: ChainedContent, prevHash: string): string {
  return createHash('sha256').update(serializeForChain(row, prevHash), 'utf8').digest('hex');
}

// Lone UTF-16 surrogates and NUL cannot be stored in PostgreSQL text or jsonb.
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A string PostgreSQL can store: NUL and lone surrogates become U+FFFD. */
export function storableText(s: string): string {
  return s.replace(UNSTORABLE, '\uFFFD');
}

/**
 * The JSON value as it will read back from a jsonb column: undefined members dropped, Dates as ISO text,
 * non-finite numbers as null, strings storable. Hashing this form makes the stored row verify.
 */
export function storableJson(value: unknown): unknown {
  if (value === undefined) return undefined;
  const parsed: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
  const clean = (v: unknown): unknown => {
    if (typeof v === 'string') return storableText(v);
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [storableText(k), clean(x)]));
    }
    return v;
  };
  return clean(parsed);
}
