import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type TokenScope = 'ADMIN' | 'USER' | 'DEVICE';

/** Opaque bearer tokens; only their SHA-256 is stored. */
@Entity('access_tokens')
export class AccessToken {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'token_hash', type: 'char', length: 64, unique: true })
  tokenHash: string;

  @Column({ type: 'varchar', length: 16 })
  scope: TokenScope;

  /** Admin id for ADMIN tokens, user id for USER and DEVICE tokens. */
  @Index('ix_access_tokens_subject')
  @Column({ name: 'subject_id', type: 'uuid' })
  subjectId: string;

  @Column({ name: 'device_id', type: 'char', length: 64, nullable: true })
  deviceId: string | null;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
