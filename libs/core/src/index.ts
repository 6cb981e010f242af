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
export { type DhtApi } from './dht/dht-api';
export {
  DhtProxyClient,
  DhtProxyError,
  proxyUrl,
  type DhtProxyClientOptions,
  type DhtProxyErrorCode,
  type DhtProxyInfo,
} from './dht/dht-proxy-client';
export { valueFromProxyJson, valueToProxyJson, type ProxyValueJson } from './dht/proxy-json';
export { admitValue, type Admission, type AdmitReason } from './dht/admission';
export { infoHash, keyId, longKeyId, spkiOf, type KeyInput } from './dht/info-hash';
export {
  createValue,
  decodeValue,
  encodeValue,
  isEncrypted,
  isSigned,
  MAX_VALUE_SIZE,
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
export { RateLimiter, type RateLimitOptions } from './dht/rate-limiter';

// ---- trust: certificates, CSR, CRL, OCSP
export { createDeviceCsr } from './trust/csr';
export {
  certificateFingerprint,
  certificateKeyId,
  certificateLongKeyId,
  parseCertificates,
  type CertificateFields,
} from './trust/certificate';
export { verifyDeviceChain, type VerifiedDevice } from './trust/device-chain';
export { isNewerCrl, parseCrl, verifyCrl, type Crl } from './trust/crl';
export { createOcspRequest, readOcspResponse, type OcspRequest, type OcspStatus } from './trust/ocsp';
export {
  RevocationChecker,
  type CrlSource,
  type OcspQuery,
  type RevocationMode,
  type RevocationOptions,
  type RevocationStatus,
} from './trust/revocation';
export { TrustError, TrustErrorCode } from './trust/trust.errors';

// ---- account: the device identity, enrollment, policy
export {
  exportPrivateKey,
  IdentityError,
  IdentityErrorCode,
  isEncryptedKeyPem,
  loadDeviceIdentity,
  loadPrivateKey,
  type DeviceIdentity,
  type DeviceIdentityFiles,
} from './account/device-identity';
export {
  DEVICE_KEY_BITS,
  enrollDevice,
  generateDeviceKey,
  type EnrollOptions,
  type Enrollment,
  type EnrollmentPhase,
} from './account/enrollment';
export { networkPolicy, type NetworkPolicy, type PolicyData } from './account/policy';

// ---- JAMS client
export {
  JamsClient,
  MAX_CLOCK_SKEW_MS,
  type EnrollmentAnswer,
  type JamsClientOptions,
  type JamsDevice,
} from './jams/jams-client';
export { JamsError, JamsErrorCode } from './jams/jams.errors';

// ---- presence, connections, messaging
export { accountKey, certificateKey, inboxKey, peerKey } from './presence/dht-keys';
export {
  announcementsIn,
  crlsIn,
  crlValue,
  DeviceNotFoundError,
  findAccountDevices,
  Presence,
  type AnnouncedDevice,
} from './presence/presence';
export {
  decodePeerRequest,
  ENCLAVE_CONN_TYPE,
  encodePeerRequest,
  PEER_REQUEST_UTYPE,
  sdpFingerprint,
  type PeerRequest,
} from './connection/peer-request';
export { CONTROL_CHANNEL, MuxChannel, SecureConnection, type Route } from './connection/secure-connection';
export {
  ConnectionError,
  ConnectionManager,
  type ConnectionManagerOptions,
  type PeerVerifier,
  type RefusedPeer,
} from './connection/connection-manager';
export {
  decodeImMessage,
  encodeImMessage,
  RECEIPT_DATATYPE,
  TEXT_DATATYPE,
  type ImMessage,
} from './messaging/im-message';
export {
  MemoryMessageStore,
  MESSAGE_CHANNEL,
  Messenger,
  NoDeviceError,
  type DeliveryStatus,
  type MessageStore,
  type OutboxEntry,
  type ReceivedMessage,
  type SendResult,
} from './messaging/messenger';
export { EnclavePeer, type EnclavePeerOptions, type PeerLog } from './peer';
