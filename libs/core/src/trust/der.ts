/**
 * The little DER the peer core needs: building a PKCS#10 request and an OCSP request, and walking CRLs,
 * certificates and OCSP responses by element boundaries (signatures cover exact byte ranges, so elements are
 * kept as slices of the input, never re-encoded).
 */

export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
} as const;

/** Context-specific tag number n, constructed (`[n] EXPLICIT` / constructed IMPLICIT). */
export const ctx = (n: number): number => 0xa0 | n;
/** Context-specific tag number n, primitive (`[n] IMPLICIT` of a primitive type). */
export const ctxPrimitive = (n: number): number => 0x80 | n;

export class DerError extends Error {}

/** One element: its tag, and its bytes (whole element and content) as views of the input. */
export interface Der {
  tag: number;
  /** The whole element, header included. */
  bytes: Buffer;
  content: Buffer;
}

/** Reads the element at `offset`. Single-byte tags, definite lengths (DER). */
export function readDer(buf: Buffer, offset = 0): Der {
  if (offset + 2 > buf.length) throw new DerError('truncated DER element');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  let length = buf[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported DER length');
    if (start + n > buf.length) throw new DerError('truncated DER length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[start + i];
    start += n;
  }
  const end = start + length;
  if (end > buf.length) throw new DerError('DER element overruns its container');
  return { tag, bytes: buf.subarray(offset, end), content: buf.subarray(start, end) };
}

/** Reads exactly one element filling `buf`. */
export function readSingleDer(buf: Buffer, expectedTag?: number): Der {
  const el = readDer(buf, 0);
  if (el.bytes.length !== buf.length) throw new DerError('trailing bytes after DER element');
  if (expectedTag !== undefined && el.tag !== expectedTag) {
    throw new DerError(`expected DER tag 0x${expectedTag.toString(16)}, got 0x${el.tag.toString(16)}`);
  }
  return el;
}

/** The children of a constructed element. */
export function children(el: Der): Der[] {
  const out: Der[] = [];
  let offset = 0;
  while (offset < el.content.length) {
    const child = readDer(el.content, offset);
    out.push(child);
    offset += child.bytes.length;
  }
  return out;
}

export function expectTag(el: Der | undefined, tag: number, what: string): Der {
  if (!el || el.tag !== tag) throw new DerError(`${what}: unexpected structure`);
  return el;
}

export function decodeOid(el: Der): string {
  const b = el.content;
  if (b.length === 0) throw new DerError('empty OID');
  const parts: number[] = [Math.min(2, Math.floor(b[0] / 40)), b[0] - Math.min(2, Math.floor(b[0] / 40)) * 40];
  let acc = 0;
  for (let i = 1; i < b.length; i++) {
    acc = acc * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      parts.push(acc);
      acc = 0;
    }
  }
  return parts.join('.');
}

/** An INTEGER's magnitude as lowercase hex without leading zeros ("0" for zero): how serials are compared. */
export function integerHex(el: Der): string {
  return normalizeSerial(el.content.toString('hex'));
}

export function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+/, '') || '0';
}

export function decodeTime(el: Der): Date {
  const s = el.content.toString('latin1');
  let m: RegExpExecArray | null;
  if (el.tag === Tag.UTC_TIME && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    const yy = Number(m[1]);
    return new Date(Date.UTC(yy >= 50 ? 1900 + yy : 2000 + yy, +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  }
  if (el.tag === Tag.GENERALIZED_TIME && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(s))) {
    return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  }
  throw new DerError(`unsupported time "${s}"`);
}

// ---------------------------------------------------------------- writing

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const octets: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

export function der(tag: number, ...contents: Uint8Array[]): Buffer {
  const content = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(content.length), content]);
}

export const seq = (...items: Uint8Array[]): Buffer => der(Tag.SEQUENCE, ...items);
export const set = (...items: Uint8Array[]): Buffer => der(Tag.SET, ...items);
export const nullDer = (): Buffer => Buffer.from([Tag.NULL, 0]);
export const octetString = (b: Uint8Array): Buffer => der(Tag.OCTET_STRING, b);
export const utf8String = (s: string): Buffer => der(Tag.UTF8_STRING, Buffer.from(s, 'utf8'));
/** BIT STRING with no unused bits. */
export const bitString = (b: Uint8Array): Buffer => der(Tag.BIT_STRING, Buffer.from([0]), b);

/** INTEGER from unsigned magnitude bytes (leading zeros trimmed, a 0x00 added when the top bit is set). */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let b = Buffer.from(magnitude);
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  if (b.length === 0) b = Buffer.from([0]);
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return der(Tag.INTEGER, b);
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [parts[0] * 40 + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let rest = Math.floor(p / 128); rest > 0; rest = Math.floor(rest / 128)) chunk.unshift((rest & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(Tag.OID, Buffer.from(bytes));
}

// ---------------------------------------------------------------- PEM

export function toPem(label: string, derBytes: Buffer): string {
  const b64 = derBytes.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64.replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

/** Every PEM block with the label, as DER. */
export function pemBlocks(text: string, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
}
