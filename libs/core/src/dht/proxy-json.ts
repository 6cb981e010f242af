import { createPublicKey } from 'node:crypto';
import { DhtValue, ValueFormatError } from './value';

/**
 * A value as OpenDHT's REST proxy writes and reads it (opendht 2.4.12 `Value::toJson` / `Value(Json)`, seen on
 * Debian's `dhtnode --proxyserver`):
 *   { "id": "<uint64 in decimal>", "cypher": b64 }                               encrypted
 *   { "id", ["sig": b64, "seq": n, "owner": "<PEM SPKI>", ["to": hex]], "type": n, "data": b64, ["utype"] }
 *   ["prio": n], and on a put ["permanent": true]
 * The proxy answers GET with one such object per line.
 */
export interface ProxyValueJson {
  id: string;
  cypher?: string;
  sig?: string;
  seq?: number;
  owner?: string;
  to?: string;
  type?: number;
  data?: string;
  utype?: string;
  prio?: number;
  permanent?: boolean;
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function b64(x: unknown, what: string): Buffer {
  if (typeof x !== 'string' || !B64.test(x)) throw new ValueFormatError(`${what} is not base64`);
  return Buffer.from(x, 'base64');
}

function int(x: unknown, what: string, max: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > max) {
    throw new ValueFormatError(`${what} is not an integer in 0..${max}`);
  }
  return x;
}

export function valueToProxyJson(v: DhtValue, opts: { permanent?: boolean } = {}): ProxyValueJson {
  const j: ProxyValueJson = { id: v.id.toString() };
  if (v.cypher) j.cypher = v.cypher.toString('base64');
  else {
    if (v.owner) {
      if (v.signature) j.sig = v.signature.toString('base64');
      j.seq = v.seq ?? 0;
      j.owner = createPublicKey({ key: v.owner, format: 'der', type: 'spki' })
        .export({ type: 'spki', format: 'pem' })
        .toString();
      if (v.to) j.to = v.to.toString('hex');
    }
    j.type = v.type;
    j.data = v.data.toString('base64');
    if (v.utype !== undefined) j.utype = v.utype;
  }
  if (v.priority) j.prio = v.priority;
  if (opts.permanent) j.permanent = true;
  return j;
}

/** The value a proxy sent; its body is re-packed canonically (the signature is checked on those bytes). */
export function valueFromProxyJson(x: unknown): DhtValue {
  if (!x || typeof x !== 'object' || Array.isArray(x)) throw new ValueFormatError('proxy value is not an object');
  const j = x as Record<string, unknown>;
  if (typeof j.id !== 'string' || !/^\d{1,20}$/.test(j.id))
    throw new ValueFormatError('proxy value id is not a uint64');
  const id = BigInt(j.id);
  if (id > 0xffffffffffffffffn) throw new ValueFormatError('proxy value id is not a uint64');
  const v: DhtValue =
    j.cypher !== undefined
      ? { id, type: 0, data: Buffer.alloc(0), cypher: b64(j.cypher, 'cypher') }
      : { id, type: int(j.type ?? 0, 'type', 0xffff), data: b64(j.data ?? '', 'data') };
  if (j.cypher === undefined) {
    if (j.utype !== undefined) {
      if (typeof j.utype !== 'string') throw new ValueFormatError('utype is not a string');
      v.utype = j.utype;
    }
    if (j.owner !== undefined) {
      if (typeof j.owner !== 'string') throw new ValueFormatError('owner is not a string');
      try {
        // GnuTLS prints the PEM with a trailing NUL.
        v.owner = createPublicKey(j.owner.replace(/\0+$/, '')).export({ type: 'spki', format: 'der' });
      } catch {
        throw new ValueFormatError('owner is not a public key');
      }
      v.seq = int(j.seq ?? 0, 'seq', 0xffff);
      v.signature = b64(j.sig ?? '', 'sig');
      if (j.to !== undefined) {
        if (typeof j.to !== 'string' || !/^[0-9a-fA-F]{40}$/.test(j.to)) throw new ValueFormatError('to is not 40 hex');
        v.to = Buffer.from(j.to, 'hex');
      }
    }
  }
  if (j.prio !== undefined) v.priority = int(j.prio, 'prio', 0xffffffff);
  return v;
}
