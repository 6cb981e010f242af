import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { AuditActionCount } from './audit-action-count.entity';
import { AuditEvent } from './audit-event.entity';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string;
  details?: Record<string, unknown>;
  /** The changed object's state before and after the change (omitted for creations / deletions). */
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

@Injectable()
export class AuditService {
  constructor(@InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>) {}

  /** Records an event, inside the caller's transaction when a manager is given. */
  async record(entry: AuditEntry, manager?: EntityManager): Promise<void> {
    const repo = manager ? manager.getRepository(AuditEvent) : this.events;
    await repo.save(
      repo.create({
        actor: entry.actor,
        action: entry.action,
        target: entry.target ?? null,
        details: entry.details ?? null,
      }),
    );
  }

  // --- Read model for /metrics (metrics work): counts kept by triggers, see AuditActionCount. ---

  /** How many audit events each action has, over the whole log (every replica's, since the first start). */
  async countByAction(): Promise<Map<string, number>> {
    const rows = await this.events.manager
      .getRepository(AuditActionCount)
      .createQueryBuilder('c')
      .select('c.action', 'action')
      .addSelect('SUM(c.count)', 'count')
      .groupBy('c.action')
      .getRawMany<{ action: string; count: string }>();
    return new Map(rows.map((r) => [r.action, Number(r.count)]));
  }
}
