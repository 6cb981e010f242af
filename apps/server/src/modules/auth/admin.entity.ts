import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { AdminRole } from './roles';

@Entity('admins')
export class Admin {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 64, unique: true })
  username: string;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash: string;

  /** owner | admin | helpdesk | auditor; the first admin (setup or unattended start) is an owner. */
  @Column({ type: 'varchar', length: 16, default: AdminRole.ADMIN })
  role: AdminRole;

  /** A disabled admin cannot sign in; its sessions and API tokens were ended when it was disabled. */
  @Column({ type: 'boolean', default: false })
  disabled: boolean;

  /** TOTP secret sealed with SecretBox (purpose `admin-totp:<id>`); set at enrolment, before confirmation. */
  @Column({ name: 'totp_secret_sealed', type: 'text', nullable: true })
  totpSecretSealed: string | null;

  /** Set once the enrolment was confirmed with a code: from then on, login needs a second factor. */
  @Column({ name: 'totp_enabled_at', type: 'timestamptz', nullable: true })
  totpEnabledAt: Date | null;

  /** The last TOTP time step accepted: a code for this step or an earlier one is refused (no replay). */
  @Column({ name: 'totp_last_step', type: 'bigint', nullable: true })
  totpLastStep: string | null;

  /** SHA-256 of the unused one-time recovery codes. */
  @Column({ name: 'recovery_code_hashes', type: 'jsonb', default: () => "'[]'" })
  recoveryCodeHashes: string[];

  @Column({ name: 'last_login_at', type: 'timestamptz', nullable: true })
  lastLoginAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
