import { asBigInt, asNumber, asText, pack, unpackMap } from '../dht/msgpack';

/** utype of connection requests (opendht-wire.md §6). */
export const PEER_REQUEST_UTYPE = 'peer_request';
/** Our connType: the ICE message is a full SDP for a WebRTC data-channel transport (DTLS + SCTP). */
export const ENCLAVE_CONN_TYPE = 'enclave-dc';

/**
 * Jami's PeerConnectionRequest map `{id, ice_msg, isAnswer, connType}`, encrypted to the device at
 * h("peer:"+device). Ours carries an SDP in `ice_msg` (ICE credentials, candidates and the DTLS certificate
 * fingerprint) and adds `ts` (the sender's clock, ms since the epoch; informative only: clocks differ).
 */
export interface PeerRequest {
  id: bigint;
  iceMsg: string;
  isAnswer: boolean;
  connType: string;
  ts?: number;
}

export function encodePeerRequest(r: PeerRequest): Buffer {
  return pack({ id: r.id, ice_msg: r.iceMsg, isAnswer: r.isAnswer, connType: r.connType, ts: r.ts });
}

/** Decodes a request; undefined when the bytes are not one. */
export function decodePeerRequest(data: Buffer): PeerRequest | undefined {
  const m = unpackMap(data);
  if (!m) return undefined;
  const id = asBigInt(m.id);
  const iceMsg = asText(m.ice_msg);
  if (id === undefined || typeof iceMsg !== 'string' || typeof m.isAnswer !== 'boolean') return undefined;
  return {
    id,
    iceMsg,
    isAnswer: m.isAnswer,
    connType: typeof m.connType === 'string' ? m.connType : '',
    ts: asNumber(m.ts),
  };
}

/** The DTLS fingerprint an SDP announces ("AB:CD:…", upper case), or undefined. */
export function sdpFingerprint(sdp: string): string | undefined {
  return /^a=fingerprint:sha-256 ([0-9A-Fa-f:]+)\s*$/m.exec(sdp)?.[1].toUpperCase();
}
