export {
  signDeviceAnnouncement,
  verifyDeviceAnnouncement,
  type DeviceAnnouncement,
  type ParsedAnnouncement,
  type SignedAnnouncement,
} from './identity/device-announcement';
export { issueDeviceReceipt, verifyReceiptSignature, type DeviceReceipt } from './identity/receipt';
export {
  DhtNode,
  DhtRequestError,
  DhtTimeoutError,
  type DhtNodeEvents,
  type DhtNodeStats,
  type DhtNodeOptions,
  type EncryptedPutOptions,
  type GetOptions,
  type ListenCallback,
  type PutOptions,
  type PutResult,
  type SignedPutOptions,
  type ValueRejectedEvent,
} from './dht/dht-node';
export { infoHash, keyId, longKeyId, spkiOf, type KeyInput } from './dht/info-hash';
export {
  createValue,
  decodeValue,
  encodeValue,
  isEncrypted,
  isSigned,
  ownerId,
  packBody,
  randomValueId,
  signValue,
  valueExpiryMs,
  ValueFormatError,
  ValueType,
  verifyValue,
  type DhtValue,
  type ValueInit,
} from './dht/value';
export { decryptValue, DecryptionError, EncryptedValueRejected, encryptValue } from './dht/value-crypto';
export { ValueField, type Query, type WhereClause } from './dht/query';
export { type NodeInfo } from './dht/routing-table';
export { type Endpoint } from './dht/address';
export { type StorageLimits, type RejectReason } from './dht/storage';
