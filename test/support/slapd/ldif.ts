/**
 * LDIF in and out for the test slapd (test/support/slapd.ts): entries and change records written for
 * ldapadd / ldapmodify / slapadd, ldapsearch output parsed back, DN and filter escaping, {SSHA} hashes.
 * RFC 2849 (LDIF), RFC 4514 (DN strings), RFC 4515 (filter strings).
 */
import { createHash, randomBytes } from 'node:crypto';

export type AttrValue = string | number | Buffer;
export type AttrValues = AttrValue | readonly AttrValue[];
export type Attrs = Record<string, AttrValues | undefined>;

/** One modify request. Applied in this order: replace, add, delete. */
export interface Changes {
  /** New values; an empty array removes the attribute (no error when it is absent). */
  replace?: Attrs;
  add?: Attrs;
  /** Values to remove; null removes every value of the attribute. */
  delete?: Record<string, AttrValues | null>;
}

// RFC 2849 SAFE-STRING: ASCII without NUL/CR/LF, not starting with space, colon or '<', not ending with space.
// eslint-disable-next-line no-control-regex
const SAFE_STRING = /^(?:[\x01-\x09\x0b\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b\x0c\x0e-\x7f]*)?$/;

function valueList(v: AttrValues | null | undefined): AttrValue[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? [...(v as readonly AttrValue[])] : [v as AttrValue];
}

/** One `name: value` line (base64 `name:: ...` when the value is binary or not a safe string). */
export function ldifLine(name: string, value: AttrValue): string {
  if (Buffer.isBuffer(value)) return `${name}:: ${value.toString('base64')}\n`;
  const s = String(value);
  if (SAFE_STRING.test(s) && !s.endsWith(' ')) return `${name}: ${s}\n`;
  return `${name}:: ${Buffer.from(s, 'utf8').toString('base64')}\n`;
}

/** An entry for ldapadd or slapadd. Undefined values are skipped; records end with a blank line. */
export function ldifEntry(dn: string, attrs: Attrs): string {
  let out = ldifLine('dn', dn);
  for (const [name, v] of Object.entries(attrs)) for (const value of valueList(v)) out += ldifLine(name, value);
  return out + '\n';
}

/** A `changetype: modify` record for ldapmodify. */
export function ldifModify(dn: string, changes: Changes): string {
  let out = ldifLine('dn', dn) + 'changetype: modify\n';
  const ops: [string, Record<string, AttrValues | null | undefined> | undefined][] = [
    ['replace', changes.replace],
    ['add', changes.add],
    ['delete', changes.delete],
  ];
  for (const [op, attrs] of ops) {
    for (const [name, v] of Object.entries(attrs ?? {})) {
      if (v === undefined) continue;
      out += `${op}: ${name}\n`;
      for (const value of valueList(v)) out += ldifLine(name, value);
      out += '-\n';
    }
  }
  return out + '\n';
}

/** An entry read back from ldapsearch. Attribute names are matched case-insensitively. */
export class LdifEntry {
  /** Lower-cased attribute name → raw values (base64 values decoded). */
  readonly values = new Map<string, Buffer[]>();

  constructor(readonly dn: string) {}

  add(name: string, value: Buffer): void {
    const key = name.toLowerCase();
    const list = this.values.get(key);
    if (list) list.push(value);
    else this.values.set(key, [value]);
  }

  has(name: string): boolean {
    return this.values.has(name.toLowerCase());
  }

  /** Every value as UTF-8 text ([] when absent). */
  all(name: string): string[] {
    return (this.values.get(name.toLowerCase()) ?? []).map((b) => b.toString('utf8'));
  }

  /** The first value as UTF-8 text. */
  get(name: string): string | undefined {
    return this.all(name)[0];
  }

  /** The first value as bytes (objectGUID, jpegPhoto, thumbnailPhoto). */
  buffer(name: string): Buffer | undefined {
    return this.values.get(name.toLowerCase())?.[0];
  }
}

/** Parses LDIF as ldapsearch prints it (any -L level; folded lines are unfolded; comments skipped). */
export function parseLdif(text: string): LdifEntry[] {
  const entries: LdifEntry[] = [];
  for (const block of text.split(/\r?\n(?:\r?\n)+/)) {
    const lines: string[] = [];
    for (const raw of block.split(/\r?\n/)) {
      if (raw.startsWith(' ') && lines.length > 0) lines[lines.length - 1] += raw.slice(1);
      else if (raw !== '' && !raw.startsWith('#')) lines.push(raw);
    }
    let entry: LdifEntry | undefined;
    for (const line of lines) {
      const m = /^([^:]+)(::?|:<)\s?(.*)$/.exec(line);
      if (!m) continue;
      const [, name, sep, rest] = m;
      const value = sep === '::' ? Buffer.from(rest, 'base64') : Buffer.from(rest, 'utf8');
      if (!entry) {
        if (name.toLowerCase() !== 'dn') break; // "version: 1", search references, result lines
        entry = new LdifEntry(value.toString('utf8'));
        entries.push(entry);
      } else {
        entry.add(name, value);
      }
    }
  }
  return entries;
}

/** Escapes an attribute value for use in a DN (RFC 4514 §2.4). */
export function escapeDnValue(value: string): string {
  let out = value.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`).replace(/\0/g, '\\00');
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.length > 1 && out.endsWith(' ') && !out.endsWith('\\ ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** Escapes a value for use in a search filter (RFC 4515 §3); buffers are escaped byte by byte. */
export function escapeFilterValue(value: string | Buffer): string {
  if (Buffer.isBuffer(value)) return [...value].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\\*()\x00]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Index of the first comma that separates RDNs (not an escaped one), or -1. */
function rdnEnd(dn: string): number {
  for (let i = 0; i < dn.length; i++) {
    if (dn[i] === '\\') i++;
    else if (dn[i] === ',') return i;
  }
  return -1;
}

export function parentDn(dn: string): string {
  const i = rdnEnd(dn);
  return i < 0 ? '' : dn.slice(i + 1).trim();
}

export function firstRdn(dn: string): string {
  const i = rdnEnd(dn);
  return (i < 0 ? dn : dn.slice(0, i)).trim();
}

/** Good-enough DN normalisation for the harness's own comparisons: case and spacing around , and =. */
export function normalizeDn(dn: string): string {
  return dn
    .trim()
    .replace(/\s*([,=])\s*/g, '$1')
    .toLowerCase();
}

export function isUnder(dn: string, base: string): boolean {
  const d = normalizeDn(dn);
  const b = normalizeDn(base);
  return d === b || d.endsWith(`,${b}`);
}

/** The {SSHA} form of a password (salted SHA-1), slapd's default password-hash. */
export function sshaHash(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password, 'utf8').update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/** AD's GeneralizedTime form (whenCreated, whenChanged): YYYYMMDDHHMMSS.0Z. */
export function adTime(date = new Date()): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}.0Z`;
}
