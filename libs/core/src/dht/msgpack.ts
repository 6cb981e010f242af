import { decode } from '@msgpack/msgpack';

/**
 * The msgpack layer of the DHT wire format.
 *
 * Encoding is our own small writer rather than @msgpack/msgpack's encoder because OpenDHT needs three things
 * that encoder cannot do: integer map keys (value parts `p:{0:{o,d}}`), splicing bytes that are already
 * msgpack verbatim (received values whose signatures cover their exact bytes), and uint64 value ids written
 * with the smallest integer encoding, as msgpack-c does. For the types both support, the output is
 * byte-identical to @msgpack/msgpack's (smallest ints, str8 for 32..255-byte strings, bin for byte arrays,
 * map keys in insertion order), which is what OpenDHT's signatures need.
 *
 * Decoding uses @msgpack/msgpack with `useBigInt64`, so uint64/int64 become bigint (value ids lose precision
 * as JS numbers), and a raw slicer finds the exact byte range of nested objects.
 */

/** Bytes that already are one msgpack object; pack() copies them verbatim. */
export class RawMsgpack {
  constructor(readonly bytes: Uint8Array) {}
}

export type Packable =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | RawMsgpack
  | readonly Packable[]
  | ReadonlyMap<string | number, Packable>
  | { readonly [key: string]: Packable | undefined };

const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);

class Writer {
  private buf = Buffer.allocUnsafe(256);
  private len = 0;

  private ensure(n: number) {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number) {
    this.ensure(1);
    this.buf[this.len++] = v;
  }

  u16(v: number) {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.len);
    this.len += 2;
  }

  u32(v: number) {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.len);
    this.len += 4;
  }

  bytes(b: Uint8Array) {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }

  value(v: Packable | undefined): void {
    if (v === null || v === undefined) return this.u8(0xc0);
    if (typeof v === 'boolean') return this.u8(v ? 0xc3 : 0xc2);
    if (typeof v === 'number') return this.number(v);
    if (typeof v === 'bigint') return this.bigint(v);
    if (typeof v === 'string') return this.string(v);
    if (v instanceof RawMsgpack) return this.bytes(v.bytes);
    if (v instanceof Uint8Array) return this.bin(v);
    if (Array.isArray(v)) {
      const arr = v as readonly Packable[];
      this.header(arr.length, 0x90, 0xdc, 0xdd);
      for (const item of arr) this.value(item);
      return;
    }
    if (v instanceof Map) {
      const map = v as ReadonlyMap<string | number, Packable>;
      this.header(map.size, 0x80, 0xde, 0xdf);
      for (const [k, item] of map) {
        this.value(k);
        this.value(item);
      }
      return;
    }
    const entries = Object.entries(v as Record<string, Packable | undefined>).filter(([, item]) => item !== undefined);
    this.header(entries.length, 0x80, 0xde, 0xdf);
    for (const [k, item] of entries) {
      this.string(k);
      this.value(item);
    }
  }

  private header(n: number, fix: number, h16: number, h32: number) {
    if (n < 16) this.u8(fix | n);
    else if (n <= 0xffff) {
      this.u8(h16);
      this.u16(n);
    } else {
      this.u8(h32);
      this.u32(n);
    }
  }

  private number(v: number) {
    if (!Number.isSafeInteger(v)) {
      this.ensure(9);
      this.buf[this.len++] = 0xcb;
      this.buf.writeDoubleBE(v, this.len);
      this.len += 8;
      return;
    }
    if (v >= 0) {
      if (v < 0x80) this.u8(v);
      else if (v <= 0xff) {
        this.u8(0xcc);
        this.u8(v);
      } else if (v <= 0xffff) {
        this.u8(0xcd);
        this.u16(v);
      } else if (v <= 0xffffffff) {
        this.u8(0xce);
        this.u32(v);
      } else this.u64(BigInt(v));
      return;
    }
    if (v >= -32) this.u8(v & 0xff);
    else if (v >= -0x80) {
      this.u8(0xd0);
      this.u8(v & 0xff);
    } else if (v >= -0x8000) {
      this.u8(0xd1);
      this.u16(v & 0xffff);
    } else if (v >= -0x80000000) {
      this.u8(0xd2);
      this.u32(v >>> 0);
    } else this.i64(BigInt(v));
  }

  private bigint(v: bigint) {
    if (v >= -0x80000000n && v <= 0xffffffffn) return this.number(Number(v));
    if (v > UINT64_MAX || v < INT64_MIN) throw new RangeError(`integer out of 64-bit range: ${v}`);
    if (v > 0n) this.u64(v);
    else this.i64(v);
  }

  private u64(v: bigint) {
    this.ensure(9);
    this.buf[this.len++] = 0xcf;
    this.buf.writeBigUInt64BE(v, this.len);
    this.len += 8;
  }

  private i64(v: bigint) {
    this.ensure(9);
    this.buf[this.len++] = 0xd3;
    this.buf.writeBigInt64BE(v, this.len);
    this.len += 8;
  }

  private string(s: string) {
    const b = Buffer.from(s, 'utf8');
    if (b.length < 32) this.u8(0xa0 | b.length);
    else if (b.length <= 0xff) {
      this.u8(0xd9);
      this.u8(b.length);
    } else if (b.length <= 0xffff) {
      this.u8(0xda);
      this.u16(b.length);
    } else {
      this.u8(0xdb);
      this.u32(b.length);
    }
    this.bytes(b);
  }

  private bin(b: Uint8Array) {
    if (b.length <= 0xff) {
      this.u8(0xc4);
      this.u8(b.length);
    } else if (b.length <= 0xffff) {
      this.u8(0xc5);
      this.u16(b.length);
    } else {
      this.u8(0xc6);
      this.u32(b.length);
    }
    this.bytes(b);
  }
}

/** Encodes one value as msgpack. Object keys keep their insertion order; `undefined` members are left out. */
export function pack(value: Packable): Buffer {
  const w = new Writer();
  w.value(value);
  return w.result();
}

/** Decodes one msgpack object; 64-bit integers come back as bigint, `bin` as Uint8Array views. */
export function unpack(bytes: Uint8Array): unknown {
  return decode(bytes, { useBigInt64: true });
}

/** The map packed in `bytes`, or undefined when they do not decode to a msgpack map. */
export function unpackMap(bytes: Uint8Array): Record<string, unknown> | undefined {
  let m: unknown;
  try {
    m = unpack(bytes);
  } catch {
    return undefined;
  }
  return m && typeof m === 'object' ? (m as Record<string, unknown>) : undefined;
}

/** A decoded msgpack integer (a number, or a bigint past 2^53) as a bigint; undefined for anything else. */
export const asBigInt = (x: unknown): bigint | undefined =>
  typeof x === 'bigint' ? x : typeof x === 'number' ? BigInt(x) : undefined;

/** A decoded msgpack integer as a number; undefined for anything else. */
export const asNumber = (x: unknown): number | undefined =>
  typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : undefined;

/** A decoded msgpack str, or a bin holding UTF-8, as a string; anything else as it is. */
export const asText = (x: unknown): unknown => (x instanceof Uint8Array ? Buffer.from(x).toString('utf8') : x);

/** Thrown by the raw slicer on truncated or invalid msgpack. */
export class MsgpackFormatError extends Error {}

/** Offset just past the msgpack object that starts at `offset`. */
export function skip(buf: Uint8Array, offset: number): number {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = offset;
  let remaining = 1;
  const need = (n: number) => {
    if (pos + n > buf.length) throw new MsgpackFormatError('truncated msgpack');
  };
  while (remaining > 0) {
    remaining--;
    need(1);
    const b = buf[pos++];
    let len = 0; // payload bytes after the header
    let children = 0;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) len = 0;
    else if (b <= 0x8f) children = (b & 0x0f) * 2;
    else if (b <= 0x9f) children = b & 0x0f;
    else if (b <= 0xbf) len = b & 0x1f;
    else {
      switch (b) {
        case 0xc4:
        case 0xd9:
          need(1);
          len = buf[pos];
          pos += 1;
          break;
        case 0xc5:
        case 0xda:
          need(2);
          len = view.getUint16(pos);
          pos += 2;
          break;
        case 0xc6:
        case 0xdb:
          need(4);
          len = view.getUint32(pos);
          pos += 4;
          break;
        case 0xc7:
          need(1);
          len = buf[pos] + 1;
          pos += 1;
          break;
        case 0xc8:
          need(2);
          len = view.getUint16(pos) + 1;
          pos += 2;
          break;
        case 0xc9:
          need(4);
          len = view.getUint32(pos) + 1;
          pos += 4;
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          len = 4;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          len = 8;
          break;
        case 0xcc:
        case 0xd0:
          len = 1;
          break;
        case 0xcd:
        case 0xd1:
          len = 2;
          break;
        case 0xd4:
          len = 2;
          break;
        case 0xd5:
          len = 3;
          break;
        case 0xd6:
          len = 5;
          break;
        case 0xd7:
          len = 9;
          break;
        case 0xd8:
          len = 17;
          break;
        case 0xdc:
          need(2);
          children = view.getUint16(pos);
          pos += 2;
          break;
        case 0xdd:
          need(4);
          children = view.getUint32(pos);
          pos += 4;
          break;
        case 0xde:
          need(2);
          children = view.getUint16(pos) * 2;
          pos += 2;
          break;
        case 0xdf:
          need(4);
          children = view.getUint32(pos) * 2;
          pos += 4;
          break;
        default:
          throw new MsgpackFormatError(`invalid msgpack byte 0x${b.toString(16)}`);
      }
    }
    need(len);
    pos += len;
    remaining += children;
    // Each child needs at least one byte: reject absurd counts before looping over them.
    if (remaining > buf.length - pos) throw new MsgpackFormatError('truncated msgpack');
  }
  return pos;
}

/** Where a value sits inside a buffer. */
export interface RawRange {
  start: number;
  end: number;
}

export interface RawMapEntry extends RawRange {
  key: string | number;
}

function readHeader(buf: Uint8Array, offset: number, kind: 'map' | 'array'): { count: number; pos: number } {
  if (offset >= buf.length) throw new MsgpackFormatError('truncated msgpack');
  const b = buf[offset];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const [fixLo, fixHi, h16, h32] = kind === 'map' ? [0x80, 0x8f, 0xde, 0xdf] : [0x90, 0x9f, 0xdc, 0xdd];
  if (b >= fixLo && b <= fixHi) return { count: b & 0x0f, pos: offset + 1 };
  if (b === h16 && offset + 3 <= buf.length) return { count: view.getUint16(offset + 1), pos: offset + 3 };
  if (b === h32 && offset + 5 <= buf.length) return { count: view.getUint32(offset + 1), pos: offset + 5 };
  throw new MsgpackFormatError(`expected a msgpack ${kind}`);
}

/** True when the object at `offset` is a msgpack map. */
export function isMap(buf: Uint8Array, offset = 0): boolean {
  const b = buf[offset];
  return (b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf;
}

/** The entries of the map at `offset`, each with its decoded key and the byte range of its value. */
export function mapEntries(buf: Uint8Array, offset = 0): { entries: RawMapEntry[]; end: number } {
  const { count, pos: first } = readHeader(buf, offset, 'map');
  const entries: RawMapEntry[] = [];
  let pos = first;
  for (let i = 0; i < count; i++) {
    const keyEnd = skip(buf, pos);
    const key = unpack(buf.subarray(pos, keyEnd));
    if (typeof key !== 'string' && typeof key !== 'number') throw new MsgpackFormatError('unsupported map key type');
    const end = skip(buf, keyEnd);
    entries.push({ key, start: keyEnd, end });
    pos = end;
  }
  return { entries, end: pos };
}

/** The byte ranges of the items of the array at `offset`. */
export function arrayItems(buf: Uint8Array, offset = 0): { items: RawRange[]; end: number } {
  const { count, pos: first } = readHeader(buf, offset, 'array');
  const items: RawRange[] = [];
  let pos = first;
  for (let i = 0; i < count; i++) {
    const end = skip(buf, pos);
    items.push({ start: pos, end });
    pos = end;
  }
  return { items, end: pos };
}

/** Range of `map[k0][k1]…` (string keys), or undefined when a step is missing or not a map. */
export function rawPath(buf: Uint8Array, path: readonly string[], offset = 0): RawRange | undefined {
  let range: RawRange = { start: offset, end: -1 };
  for (const key of path) {
    if (!isMap(buf, range.start)) return undefined;
    const found = mapEntries(buf, range.start).entries.find((e) => e.key === key);
    if (!found) return undefined;
    range = found;
  }
  return range.end === -1 ? { start: offset, end: skip(buf, offset) } : range;
}
