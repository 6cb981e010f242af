/**
 * Minimal DER element reader: just enough to find element boundaries (trailing garbage, raw sub-element
 * bytes such as a certificate's subject Name) without trusting a full ASN.1 parser to preserve bytes.
 */
export interface DerElement {
  /** Identifier octet(s) as read (single-byte tags only: enough for X.509/PKCS#10/OCSP structures). */
  tag: number;
  /** Offset of the first identifier octet. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just past the last content octet. */
  end: number;
}

export const DER_TAG_INTEGER = 0x02;
export const DER_TAG_BIT_STRING = 0x03;
export const DER_TAG_OCTET_STRING = 0x04;
export const DER_TAG_SEQUENCE = 0x30;
export const DER_TAG_CONTEXT_0_CONSTRUCTED = 0xa0;

const MAX_LENGTH_OCTETS = 4;

/** Reads the element starting at `offset`; null when it is truncated, uses indefinite length or a multi-byte tag. */
export function readDerElement(buf: Uint8Array, offset = 0): DerElement | null {
  if (offset + 2 > buf.length) return null;
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) return null;
  const first = buf[offset + 1];
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = offset + 2;
  } else {
    const count = first & 0x7f;
    if (count === 0 || count > MAX_LENGTH_OCTETS || offset + 2 + count > buf.length) return null;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i];
    contentStart = offset + 2 + count;
  }
  const end = contentStart + length;
  if (end > buf.length) return null;
  return { tag, start: offset, contentStart, end };
}

/** True when `buf` holds exactly one complete DER element with the given tag and nothing after it. */
export function isSingleDerElement(buf: Uint8Array, tag: number): boolean {
  const element = readDerElement(buf);
  return element !== null && element.tag === tag && element.end === buf.length;
}

/** The direct children of a constructed element; null when any child is malformed or they overrun the parent. */
export function readDerChildren(buf: Uint8Array, parent: DerElement): DerElement[] | null {
  const children: DerElement[] = [];
  let offset = parent.contentStart;
  while (offset < parent.end) {
    const child = readDerElement(buf, offset);
    if (!child || child.end > parent.end) return null;
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** DER INTEGER for a non-negative value (< 2^1000, far more than any CRL number needs). */
export function encodeDerUnsignedInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let content = Buffer.from(hex, 'hex');
  if (content[0] & 0x80) content = Buffer.concat([Buffer.from([0]), content]);
  return encodeDerElement(DER_TAG_INTEGER, content);
}

/** One DER element: tag, minimal length, then the concatenated contents. */
export function encodeDerElement(tag: number, ...contents: Uint8Array[]): Buffer {
  const content = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), encodeDerLength(content.length), content]);
}

function encodeDerLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}
