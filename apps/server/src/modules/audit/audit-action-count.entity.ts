import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Running count of audit events per action, maintained by a trigger on audit_events (migration
 * AuditActionCounts): what /metrics reports as enrollments, logins and revocations, correct across restarts
 * and replicas, read in microseconds however long the log grows. Spread over a few shards (the inserting
 * backend's pid) so that concurrent transactions recording the same action do not queue on one row.
 */
@Entity('audit_action_counts')
export class AuditActionCount {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  action: string;

  @PrimaryColumn({ type: 'smallint' })
  shard: number;

  @Column({ type: 'bigint', default: 0 })
  count: string;
}
