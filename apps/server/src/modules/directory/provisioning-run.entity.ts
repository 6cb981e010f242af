import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Eager provisioning: account keys and certificates pre-issued for synced users. */
@Entity('provisioning_runs')
export class ProvisioningRun {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 16 })
  status: 'queued' | 'running' | 'succeeded' | 'failed';

  @Column({ type: 'integer', default: 0 })
  total: number;

  @Column({ type: 'integer', default: 0 })
  done: number;

  @Column({ type: 'integer', default: 0 })
  failed: number;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @Column({ type: 'jsonb', default: [] })
  errors: string[];
}
