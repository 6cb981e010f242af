import { asBigInt, asNumber, asText, pack, unpackMap } from '../dht/msgpack';

/** datatype of a text message. */
export const TEXT_DATATYPE = 'text/plain';
/** datatype of Enclave's delivery receipts (msg = the id of the message delivered). */
export const RECEIPT_DATATYPE = 'application/x-enclave-receipt';

/**
 * Jami's ImMessage (value type 3, encrypted to the device, at h("inbox:"+device)):
 * `{id: u64, msg: str, date: int (s), status: u8, datatype: str, metadatas: map}`.
 */
export interface ImMessage {
  id: bigint;
  msg: string;
  /** Seconds since the epoch. */
  date: number;
  status: number;
  datatype: string;
  metadatas: Record<string, string>;
}

export const messageIdHex = (id: bigint): string => id.toString(16).padStart(16, '0');

export function encodeImMessage(m: ImMessage): Buffer {
  return pack({
    id: m.id,
    msg: m.msg,
    date: m.date,
    status: m.status,
    datatype: m.datatype,
    metadatas: m.metadatas,
  });
}

export function decodeImMessage(data: Buffer): ImMessage | undefined {
  const m = unpackMap(data);
  if (!m) return undefined;
  const id = asBigInt(m.id);
  const msg = asText(m.msg);
  if (id === undefined || typeof msg !== 'string') return undefined;
  const metadatas: Record<string, string> = {};
  if (m.metadatas && typeof m.metadatas === 'object') {
    for (const [k, v] of Object.entries(m.metadatas as Record<string, unknown>)) {
      const s = asText(v);
      if (typeof s === 'string') metadatas[k] = s;
    }
  }
  const datatype = asText(m.datatype);
  return {
    id,
    msg,
    date: asNumber(m.date) ?? 0,
    status: typeof m.status === 'number' ? m.status : 0,
    datatype: typeof datatype === 'string' ? datatype : TEXT_DATATYPE,
    metadatas,
  };
}
