import type { EventEmitter } from 'node:events';
import type { DhtNodeEvents, EncryptedPutOptions, GetOptions, ListenCallback, PutOptions, PutResult } from './dht-node';
import type { KeyInput } from './info-hash';
import type { DhtValue } from './value';

/**
 * What the peer core needs from the DHT, whichever way it reaches it: its own UDP node (DhtNode) or an
 * OpenDHT REST proxy (DhtProxyClient, when the organization's policy sets Account.proxyEnabled/proxyServer).
 * Values are signed, encrypted, decrypted and checked locally in both cases.
 */
export interface DhtApi extends Pick<EventEmitter<DhtNodeEvents>, 'on' | 'off' | 'once'> {
  get(key: KeyInput, opts?: GetOptions): Promise<DhtValue[]>;
  put(key: KeyInput, value: DhtValue | Uint8Array | string, opts?: PutOptions): Promise<PutResult>;
  putEncrypted(
    key: KeyInput,
    data: Uint8Array | string,
    recipientPublicKeyPem: string,
    opts?: EncryptedPutOptions,
  ): Promise<PutResult>;
  cancelPut(key: KeyInput, id: bigint): boolean;
  listen(key: KeyInput, cb: ListenCallback, opts?: { filter?: (value: DhtValue) => boolean }): Promise<() => void>;
}
