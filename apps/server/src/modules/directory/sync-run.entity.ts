import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type SyncRunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'awaiting_confirmation' | 'confirmed';
export type SyncMode = 'full' | 'incremental';

/** One directory sync: what it did, or why it stopped. */
@Entity('directory_sync_runs')
export class DirectorySyncRun {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 12 })
  mode: SyncMode;

  @Column({ type: 'varchar', length: 24 })
  status: SyncRunStatus;

  @Column({ type: 'varchar', length: 100 })
  trigger: string;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @Column({ type: 'integer', default: 0 })
  seen: number;

  @Column({ type: 'integer', default: 0 })
  added: number;

  @Column({ type: 'integer', default: 0 })
  updated: number;

  @Column({ type: 'integer', default: 0 })
  suspended: number;

  @Column({ type: 'integer', default: 0 })
  reactivated: number;

  @Column({ type: 'jsonb', default: [] })
  errors: string[];

  /** User ids a braked run would suspend, waiting for an admin's confirmation. */
  @Column({ name: 'pending_suspensions', type: 'jsonb', nullable: true })
  pendingSuspensions: string[] | null;
}
