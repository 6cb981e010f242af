import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One audit row. Rows form a hash chain in id order (see audit-chain.ts): `hash` covers the row's content
 * and `prev_hash`, the previous row's hash. Rows are only ever inserted, by AuditService.record.
 */
@Entity('audit_events')
@Index('ix_audit_events_actor', ['actor', 'id'])
@Index('ix_audit_events_action', ['action', 'id'])
@Index('ix_audit_events_target', ['target', 'id'])
export class AuditEvent {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Index('ix_audit_events_at')
  @CreateDateColumn({ type: 'timestamptz' })
  at: Date;

  /** 'admin:<username>', 'system', 'user:<username>' */
  @Column({ type: 'varchar', length: 100 })
  actor: string;

  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  target: string | null;

  @Column({ type: 'jsonb', nullable: true })
  details: Record<string, unknown> | null;

  /** The changed object's state before the change (null for creations and for events that change nothing). */
  @Column({ type: 'jsonb', nullable: true })
  before: Record<string, unknown> | null;

  /** The changed object's state after the change (null for deletions). */
  @Column({ type: 'jsonb', nullable: true })
  after: Record<string, unknown> | null;

  /** The HTTP request's x-request-id; null for jobs and start-up work. */
  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;

  /** The HTTP request's source address; null outside a request. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  address: string | null;

  /** This row's previous row's hash (GENESIS_HASH for the first row). */
  @Column({ name: 'prev_hash', type: 'char', length: 64 })
  prevHash: string;

  /** SHA-256 (hex) over this row's content and prev_hash. */
  @Column({ type: 'char', length: 64 })
  hash: string;
}
