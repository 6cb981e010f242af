import { KeyObject } from 'node:crypto';
import { decodeValue, DhtValue, verifyValue } from './value';
import { decryptValue, EncryptedValueRejected } from './value-crypto';

/** Why a received value was dropped. */
export type AdmitReason = 'malformed' | 'recipient-mismatch' | 'inner-signature' | 'bad-signature';

export type Admission = { ok: true; value: DhtValue } | { ok: false; reason: AdmitReason; value?: DhtValue };

/**
 * The checks every value received from the network goes through, whatever carried it (UDP from a DHT node,
 * JSON from a DHT proxy): it must decode; a signed value's signature must cover its exact body bytes; a value
 * encrypted to `identity` is decrypted and must be signed and addressed to us. Values encrypted to someone
 * else are admitted as they are (opaque).
 */
export function admitValue(raw: Buffer, identity?: KeyObject): Admission {
  let v: DhtValue;
  try {
    v = decodeValue(raw);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (v.cypher) {
    if (!identity) return { ok: true, value: v };
    try {
      return { ok: true, value: decryptValue(v, identity) };
    } catch (err) {
      if (!(err instanceof EncryptedValueRejected)) return { ok: true, value: v }; // not encrypted to us
      return {
        ok: false,
        reason: err.message === 'recipient mismatch' ? 'recipient-mismatch' : 'inner-signature',
        value: v,
      };
    }
  }
  if ((v.owner || v.signature) && !verifyValue(v)) return { ok: false, reason: 'bad-signature', value: v };
  return { ok: true, value: v };
}
