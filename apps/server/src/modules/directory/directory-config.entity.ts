import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type DirectoryType = 'local' | 'ldap' | 'ad';

export interface AttributeMap {
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  photo: string;
}

/** The organization's user directory (one row, id 1). The bind password is sealed with the master key. */
@Entity('directory_config')
export class DirectoryConfig {
  @PrimaryColumn({ type: 'smallint', default: 1 })
  id: number;

  @Column({ type: 'varchar', length: 8, default: 'local' })
  type: DirectoryType;

  @Column({ type: 'text', default: '' })
  url: string;

  @Column({ name: 'start_tls', type: 'boolean', default: false })
  startTls: boolean;

  @Column({ name: 'ca_cert_pem', type: 'text', nullable: true })
  caCertPem: string | null;

  @Column({ name: 'bind_dn', type: 'text', default: '' })
  bindDn: string;

  @Column({ name: 'bind_password_sealed', type: 'text', nullable: true })
  bindPasswordSealed: string | null;

  @Column({ name: 'base_dn', type: 'text', default: '' })
  baseDn: string;

  @Column({ name: 'user_filter', type: 'text', default: '' })
  userFilter: string;

  @Column({ name: 'username_attribute', type: 'varchar', length: 64, default: '' })
  usernameAttribute: string;

  @Column({ name: 'attribute_map', type: 'jsonb', default: {} })
  attributeMap: AttributeMap;

  @Column({ name: 'group_base_dn', type: 'text', nullable: true })
  groupBaseDn: string | null;

  @Column({ name: 'group_filter', type: 'text', nullable: true })
  groupFilter: string | null;

  /** Minutes between scheduled syncs; 0 turns the schedule off. */
  @Column({ name: 'sync_interval_minutes', type: 'integer', default: 60 })
  syncIntervalMinutes: number;

  /** Hours between full syncs; scheduled runs in between are incremental. */
  @Column({ name: 'full_sync_hours', type: 'integer', default: 24 })
  fullSyncHours: number;

  /** Largest share of directory users one sync may suspend without an admin's confirmation (percent). */
  @Column({ name: 'brake_percent', type: 'integer', default: 10 })
  brakePercent: number;

  /** Highest modifyTimestamp (LDAP) / uSNChanged (AD) seen: where the next incremental sync starts. */
  @Column({ name: 'sync_watermark', type: 'text', nullable: true })
  syncWatermark: string | null;

  @Column({ name: 'last_full_sync_at', type: 'timestamptz', nullable: true })
  lastFullSyncAt: Date | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
