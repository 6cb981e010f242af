import { bytesToIp, Endpoint, Family, ipToBytes } from './address';
import { HASH_LEN } from './info-hash';
import { arrayItems, pack, Packable, rawPath, RawMsgpack, unpack } from './msgpack';
import { parseQuery, Query } from './query';

/**
 * The OpenDHT 2.4.12 envelope: one msgpack map per UDP datagram,
 *   query  {a:{id,…}, q:method, t, y:"q", v, [n]}
 *   reply  {r:{id,…}, t, y:"r", v, [n]}
 *   error  {e:[code, message], r:{id}, t, y:"e", v, [n]}
 *   part   {[n], y:"p", t, p:{<int index>: {o: offset, d: bin}}}
 * Ids and keys are 20-byte bins; `t` is a uint32; `n` (network id) is sent only when non-zero.
 */

export type Method = 'ping' | 'find' | 'get' | 'put' | 'listen' | 'refresh' | 'update';
const METHODS = new Set<string>(['ping', 'find', 'get', 'put', 'listen', 'refresh', 'update']);

export const USER_AGENT = 'RNG1';
/** Values whose packed size totals at least this many bytes go as sizes + value parts. */
export const MAX_PACKET_VALUE_SIZE = 600;
/** …as do this many values or more. */
export const MAX_INLINE_VALUES = 50;
/** Bytes of value data per part datagram. */
export const PART_SIZE = 1280;
const NODE4_LEN = HASH_LEN + 4 + 2;
const NODE6_LEN = HASH_LEN + 16 + 2;

export const ErrorCode = {
  /** Missing `h`, or value id 0. */
  NON_AUTHORITATIVE: 203,
  /** Bad token on put, listen or refresh. */
  UNAUTHORIZED: 401,
  /** Refresh of a value this node does not store. */
  NOT_FOUND: 404,
} as const;

export interface CompactNode extends Endpoint {
  id: Buffer;
}

export interface ValuePart {
  index: number;
  offset: number;
  data: Buffer;
}

/** The members of `a` (queries) or `r` (replies) this implementation understands. */
export interface MessageBody {
  id?: Buffer;
  h?: Buffer;
  target?: Buffer;
  token?: Buffer;
  vid?: bigint;
  nodes4: CompactNode[];
  nodes6: CompactNode[];
  /** The requester's address as the replier saw it (IP only). */
  sa?: string;
  /** Creation time of put values, unix seconds. */
  created?: number;
  /** Packed values sent inline. */
  values?: Buffer[];
  /** Sizes of values that follow as `y:"p"` parts. */
  valueSizes?: number[];
  /** Select reply: `fileds` on the wire. */
  fields?: { fields: number[]; values: unknown[] };
  expired?: bigint[];
  refreshed?: bigint[];
  want?: number[];
  version?: number;
  sid?: number;
  query?: Query;
}

export interface WireMessage {
  kind: 'query' | 'reply' | 'error' | 'part';
  tid: number;
  network: number;
  method?: Method;
  body: MessageBody;
  error?: { code: number; message: string };
  parts?: ValuePart[];
}

/** Thrown for a datagram OpenDHT would fail to parse: it is dropped, never answered. */
export class MalformedMessage extends Error {}

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !(x instanceof Uint8Array) && !Array.isArray(x);

const asUint = (x: unknown, what: string, max = 0xffffffff): number => {
  const n = typeof x === 'bigint' ? Number(x) : x;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) throw new MalformedMessage(`bad ${what}`);
  return n;
};

const asU64 = (x: unknown, what: string): bigint => {
  if (typeof x === 'bigint' && x >= 0n) return x;
  if (typeof x === 'number' && Number.isInteger(x) && x >= 0) return BigInt(x);
  throw new MalformedMessage(`bad ${what}`);
};

const asHash = (x: unknown, what: string): Buffer => {
  if (!(x instanceof Uint8Array) || x.length !== HASH_LEN) throw new MalformedMessage(`${what} is not a 20-byte bin`);
  return Buffer.from(x);
};

const asBin = (x: unknown, what: string): Buffer => {
  if (!(x instanceof Uint8Array)) throw new MalformedMessage(`${what} is not a bin`);
  return Buffer.from(x);
};

function parseTid(t: unknown): number {
  if (t instanceof Uint8Array || typeof t === 'string') {
    const b = typeof t === 'string' ? Buffer.from(t, 'latin1') : Buffer.from(t);
    if (b.length !== 4) throw new MalformedMessage('bad transaction id size');
    return b.readUInt32BE();
  }
  return asUint(t, 'transaction id');
}

/** Decodes compact node info: 26-byte (IPv4) or 38-byte (IPv6) entries. */
export function decodeNodes(bytes: Uint8Array, family: Family): CompactNode[] {
  const len = family === 4 ? NODE4_LEN : NODE6_LEN;
  if (bytes.length % len !== 0)
    throw new MalformedMessage(`n${family} length ${bytes.length} is not a multiple of ${len}`);
  const b = Buffer.from(bytes);
  const nodes: CompactNode[] = [];
  for (let off = 0; off < b.length; off += len) {
    const ipLen = len - HASH_LEN - 2;
    nodes.push({
      id: Buffer.from(b.subarray(off, off + HASH_LEN)),
      host: bytesToIp(b.subarray(off + HASH_LEN, off + HASH_LEN + ipLen)),
      port: b.readUInt16BE(off + len - 2),
    });
  }
  return nodes;
}

export function encodeNodes(nodes: readonly CompactNode[]): Buffer {
  return Buffer.concat(
    nodes.map((n) => {
      const port = Buffer.alloc(2);
      port.writeUInt16BE(n.port);
      return Buffer.concat([n.id, ipToBytes(n.host), port]);
    }),
  );
}

function parseBody(raw: Record<string, unknown>): MessageBody {
  const body: MessageBody = { nodes4: [], nodes6: [] };
  if (raw.id !== undefined) body.id = asHash(raw.id, 'id');
  if (raw.h !== undefined) body.h = asHash(raw.h, 'h');
  if (raw.target !== undefined) body.target = asHash(raw.target, 'target');
  if (raw.token !== undefined) body.token = asBin(raw.token, 'token');
  if (raw.vid !== undefined) body.vid = asU64(raw.vid, 'vid');
  if (raw.n4 !== undefined) body.nodes4 = decodeNodes(asBin(raw.n4, 'n4'), 4);
  if (raw.n6 !== undefined) body.nodes6 = decodeNodes(asBin(raw.n6, 'n6'), 6);
  if (raw.sa instanceof Uint8Array && (raw.sa.length === 4 || raw.sa.length === 16)) body.sa = bytesToIp(raw.sa);
  if (raw.c !== undefined) body.created = asUint(raw.c, 'creation time', Number.MAX_SAFE_INTEGER);
  if (Array.isArray(raw.exp)) body.expired = raw.exp.map((x) => asU64(x, 'expired id'));
  if (Array.isArray(raw.re)) body.refreshed = raw.re.map((x) => asU64(x, 'refreshed id'));
  if (Array.isArray(raw.w)) body.want = raw.w.map((x) => asUint(x, 'want', 0xffff));
  if (raw.ve !== undefined) body.version = asUint(raw.ve, 'listen version');
  if (raw.sid !== undefined) body.sid = asUint(raw.sid, 'socket id');
  if (raw.q !== undefined) {
    try {
      body.query = parseQuery(raw.q);
    } catch (err) {
      throw new MalformedMessage(`bad query: ${(err as Error).message}`);
    }
  }
  if (raw.fileds !== undefined) {
    const f = raw.fileds as { f?: unknown; v?: unknown };
    if (!isRecord(f) || !Array.isArray(f.f) || !Array.isArray(f.v)) throw new MalformedMessage('bad fileds');
    body.fields = { fields: f.f.map((x) => asUint(x, 'field')), values: f.v };
  }
  return body;
}

/** Fills body.values / body.valueSizes from the raw bytes of `values` (each value's exact bytes are kept). */
function parseValues(buf: Buffer, container: 'a' | 'r', body: MessageBody) {
  const range = rawPath(buf, [container, 'values']);
  if (!range) return;
  const { items } = arrayItems(buf, range.start);
  const decodedSizes: number[] = [];
  const raws: Buffer[] = [];
  for (const item of items) {
    const first = buf[item.start];
    const isMapByte = (first >= 0x80 && first <= 0x8f) || first === 0xde || first === 0xdf;
    if (isMapByte) raws.push(Buffer.from(buf.subarray(item.start, item.end)));
    else decodedSizes.push(asUint(unpack(buf.subarray(item.start, item.end)), 'value size'));
  }
  if (raws.length > 0 && decodedSizes.length > 0) throw new MalformedMessage('values mixes values and sizes');
  if (decodedSizes.length > 0) body.valueSizes = decodedSizes;
  else body.values = raws;
}

/** Decodes one datagram. Throws MalformedMessage for anything OpenDHT would drop as unparseable. */
export function decodeMessage(datagram: Uint8Array): WireMessage {
  const buf = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  let top: unknown;
  try {
    top = unpack(buf);
  } catch (err) {
    throw new MalformedMessage(`not msgpack: ${(err as Error).message}`);
  }
  if (!isRecord(top)) throw new MalformedMessage('not a msgpack map');
  const network = top.n === undefined ? 0 : asUint(top.n, 'network id');
  const tid = top.t === undefined ? 0 : parseTid(top.t);
  try {
    if (top.e !== undefined) {
      const e = top.e;
      if (!Array.isArray(e) || e.length < 1) throw new MalformedMessage('bad error');
      const body = isRecord(top.r) ? parseBody(top.r) : { nodes4: [], nodes6: [] };
      return {
        kind: 'error',
        tid,
        network,
        body,
        error: { code: asUint(e[0], 'error code', 0xffff), message: typeof e[1] === 'string' ? e[1] : '' },
      };
    }
    if (top.r !== undefined) {
      if (!isRecord(top.r)) throw new MalformedMessage('r is not a map');
      const body = parseBody(top.r);
      parseValues(buf, 'r', body);
      return { kind: 'reply', tid, network, body };
    }
    if (top.p !== undefined) {
      if (!isRecord(top.p)) throw new MalformedMessage('p is not a map');
      const parts: ValuePart[] = [];
      for (const [k, v] of Object.entries(top.p)) {
        const index = Number(k);
        if (!/^\d+$/.test(k) || !isRecord(v)) throw new MalformedMessage('bad value part');
        parts.push({ index, offset: asUint(v.o, 'part offset'), data: asBin(v.d, 'part data') });
      }
      return { kind: 'part', tid, network, body: { nodes4: [], nodes6: [] }, parts };
    }
    if (top.y !== 'q' || typeof top.q !== 'string' || !METHODS.has(top.q) || !isRecord(top.a)) {
      throw new MalformedMessage('not a query, reply, error or value part');
    }
    const body = parseBody(top.a);
    parseValues(buf, 'a', body);
    return { kind: 'query', tid, network, method: top.q as Method, body };
  } catch (err) {
    if (err instanceof MalformedMessage) throw err;
    throw new MalformedMessage((err as Error).message);
  }
}

type Args = Record<string, Packable | undefined>;

const envelope = (network: number, fields: Args): Buffer => pack({ ...fields, v: USER_AGENT, n: network || undefined });

export function encodeQuery(tid: number, method: Method, args: Args, network = 0): Buffer {
  return envelope(network, { a: args, q: method, t: tid, y: 'q' });
}

export function encodeReply(tid: number, body: Args, network = 0): Buffer {
  return envelope(network, { r: body, t: tid, y: 'r' });
}

export function encodeError(tid: number, code: number, message: string, ownId: Buffer, network = 0): Buffer {
  return envelope(network, { e: [code, message], r: { id: ownId }, t: tid, y: 'e' });
}

/** True when these packed values must go as sizes plus parts rather than inline. */
export function needsParts(values: readonly Buffer[]): boolean {
  const total = values.reduce((n, v) => n + v.length, 0);
  return values.length >= MAX_INLINE_VALUES || total >= MAX_PACKET_VALUE_SIZE;
}

/** The `values` member: the packed values spliced verbatim, or their sizes when they go as parts. */
export function valuesField(values: readonly Buffer[]): Packable {
  return needsParts(values) ? values.map((v) => v.length) : values.map((v) => new RawMsgpack(v));
}

/**
 * The `y:"p"` datagrams that carry the values after a header whose `values` holds their sizes: one per
 * ≤ 1280-byte chunk, in order, integer index keys (a string key makes msgpack-c drop the datagram).
 */
export function encodeParts(tid: number, values: readonly Buffer[], network = 0): Buffer[] {
  const out: Buffer[] = [];
  values.forEach((value, index) => {
    for (let o = 0; o < value.length; o += PART_SIZE) {
      const p = new Map<number, Packable>([[index, { o, d: value.subarray(o, o + PART_SIZE) }]]);
      out.push(pack({ n: network || undefined, y: 'p', t: tid, p }));
    }
  });
  return out;
}
