/** Every BullMQ queue Enclave uses. */
export enum QueueName {
  /** Keeps a pool of pre-generated RSA-4096 account keys so a first enrollment costs one signature. */
  KeyPool = 'key-pool',
  /**
   * Periodic upkeep: CRL regeneration before nextUpdate, expired token cleanup, certificate renewal (and
   * retirement of the previous CA once a rotation's overlap has ended).
   */
  Maintenance = 'maintenance',
  /** Directory (LDAP / AD) syncs: scheduled and "sync now". */
  DirectorySync = 'directory-sync',
  /** Eager provisioning: account keys and certificates for synced users. */
  Provisioning = 'provisioning',
}
