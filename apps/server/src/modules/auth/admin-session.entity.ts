import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Admin } from './admin.entity';
import { AdminRole } from './roles';

export type AdminCredentialKind = 'session' | 'token';

/**
 * Admin credentials: interactive sessions (from POST /api/admin/login; idle timeout and absolute lifetime
 * from the admin settings) and personal API tokens (named, with their own role and expiry; never idle
 * out). Only the SHA-256 of the bearer is stored.
 */
@Entity('admin_sessions')
export class AdminSession {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('ix_admin_sessions_admin')
  @Column({ name: 'admin_id', type: 'uuid' })
  adminId: string;

  @ManyToOne(() => Admin, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'admin_id' })
  admin?: Admin;

  @Column({ type: 'varchar', length: 16 })
  kind: AdminCredentialKind;

  @Column({ name: 'token_hash', type: 'char', length: 64, unique: true })
  tokenHash: string;

  /** API tokens: the name given at creation. */
  @Column({ type: 'varchar', length: 100, nullable: true })
  name: string | null;

  /** API tokens: the role granted (never above the admin's current role). Sessions act with the admin's role. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  role: AdminRole | null;

  /** API tokens: the expiry chosen at creation. Sessions expire from createdAt/lastUsedAt and the settings. */
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Refreshed at most once a minute. */
  @Column({ name: 'last_used_at', type: 'timestamptz' })
  lastUsedAt: Date;

  /** Last password (+ TOTP) confirmation: login or POST /api/admin/me/reauth. */
  @Column({ name: 'reauth_at', type: 'timestamptz', nullable: true })
  reauthAt: Date | null;

  /** Signed in while MFA is required but not enrolled: only /me, /me/mfa/* and logout are allowed. */
  @Column({ name: 'mfa_setup_required', type: 'boolean', default: false })
  mfaSetupRequired: boolean;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 200, nullable: true })
  userAgent: string | null;
}
