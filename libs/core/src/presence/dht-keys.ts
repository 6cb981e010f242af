import { infoHash } from '../dht/info-hash';

/**
 * Where Jami keeps things on the DHT (opendht-wire.md §6). Account and device ids are 40 hex (SHA-1 key ids).
 */

/** The account's device announcements and CRLs: the raw account id, not hashed. */
export const accountKey = (accountId: string): Buffer => Buffer.from(accountId, 'hex');

/** A device's certificate chain (type 8, value id 1): its key id, raw. */
export const certificateKey = (deviceShortId: string): Buffer => Buffer.from(deviceShortId, 'hex');

/** Messages and requests encrypted to a device. */
export const inboxKey = (deviceShortId: string): Buffer => infoHash(`inbox:${deviceShortId}`);

/** Connection requests (ICE offers and answers) encrypted to a device. */
export const peerKey = (deviceShortId: string): Buffer => infoHash(`peer:${deviceShortId}`);
