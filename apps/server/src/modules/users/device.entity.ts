import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { IssuedCertificate } from '../ca/issued-certificate.entity';
import { User } from './user.entity';

/** A device enrolled by a user: its certificate was issued from the device's CSR, signed by the account key. */
@Entity('devices')
export class Device {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('ix_devices_user')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

  /** SHA-256 of the device key's SubjectPublicKeyInfo (64 hex), as Jami clients show it. */
  @Column({ name: 'device_id', type: 'char', length: 64, unique: true })
  deviceId: string;

  @Column({ type: 'varchar', length: 128 })
  name: string;

  @Index('ix_devices_certificate')
  @Column({ name: 'certificate_id', type: 'uuid' })
  certificateId: string;

  @ManyToOne(() => IssuedCertificate, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'certificate_id' })
  certificate?: Relation<IssuedCertificate>;

  /** Enrollment time (the admin device list pages on created_at, id). */
  @Index('ix_devices_created')
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Last DEVICE token issued (mTLS POST /api/login); written at most once a minute per device. */
  @Column({ name: 'last_login_at', type: 'timestamptz', nullable: true })
  lastLoginAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
