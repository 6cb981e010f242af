/** Every BullMQ queue Enclave uses. */
export enum QueueName {
  /** Keeps a pool of pre-generated RSA-4096 account keys so a first enrollment costs one signature. */
  KeyPool = 'key-pool',
  /** Periodic upkeep: CRL regeneration before nextUpdate, expired token cleanup. */
  Maintenance = 'maintenance',
}
