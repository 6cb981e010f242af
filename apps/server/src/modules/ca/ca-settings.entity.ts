import { Check, Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Certificate lifetimes and renewal window, edited by owners (the environment only seeds the first row). */
@Entity('ca_settings')
@Check('ck_ca_settings_singleton', 'id = 1')
export class CaSettings {
  @PrimaryColumn({ type: 'smallint' })
  id: number;

  @Column({ name: 'account_cert_days', type: 'integer' })
  accountCertDays: number;

  @Column({ name: 'device_cert_days', type: 'integer' })
  deviceCertDays: number;

  @Column({ name: 'crl_hours', type: 'integer' })
  crlHours: number;

  /** Account and device certificates expiring within this many days are renewed by the renewal job. */
  @Column({ name: 'renew_before_days', type: 'integer' })
  renewBeforeDays: number;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
