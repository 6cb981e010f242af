import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { AccountsService } from '../accounts/accounts.service';
import { AuditService } from '../audit/audit.service';
import { CaService } from '../ca/ca.service';
import { QueueName } from '../queue/queue-names';
import { QueueService } from '../queue/queue.service';
import { User } from '../users/user.entity';
import { ProvisioningRunDto } from './directory.dto';
import { ProvisioningRun } from './provisioning-run.entity';

export function toProvisioningDto(r: ProvisioningRun): ProvisioningRunDto {
  const elapsed = r.startedAt ? ((r.finishedAt ?? new Date()).getTime() - r.startedAt.getTime()) / 1000 : 0;
  const rate = elapsed > 0 ? r.done / elapsed : 0;
  const left = r.total - r.done - r.failed;
  return {
    id: r.id,
    status: r.status,
    total: r.total,
    done: r.done,
    failed: r.failed,
    rate: Math.round(rate * 100) / 100,
    etaSeconds: r.status === 'running' && rate > 0 ? Math.round(left / rate) : r.status === 'succeeded' ? 0 : null,
    errors: r.errors,
  };
}

/**
 * "Provision accounts for synced users": pre-issues the account key and certificate of every active user
 * who has none yet, in the worker (keys come from the pool or are generated on the thread pool).
 */
@Injectable()
export class ProvisioningService {
  private readonly logger = new Logger(ProvisioningService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly accounts: AccountsService,
    private readonly ca: CaService,
    private readonly queues: QueueService,
    private readonly audit: AuditService,
  ) {}

  private pending(): Promise<{ id: string }[]> {
    return this.dataSource.query(
      `SELECT u.id FROM users u WHERE u.status = 'active'
         AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.user_id = u.id AND a.revoked_at IS NULL) ORDER BY u.username`,
    );
  }

  async start(actor: string): Promise<ProvisioningRun> {
    await this.ca.requireActive();
    const total = (await this.pending()).length;
    const run = await this.dataSource.transaction(async (m) => {
      const saved = await m.save(m.create(ProvisioningRun, { status: 'queued', total, errors: [] }));
      await this.audit.record(
        { actor, action: 'directory.provisioning_started', details: { runId: saved.id, users: total } },
        m,
      );
      return saved;
    });
    await this.queues.queue(QueueName.Provisioning).add('provision', { runId: run.id }, { attempts: 1 });
    return run;
  }

  async get(id: string): Promise<ProvisioningRun> {
    const run = /^[0-9a-f-]{36}$/.test(id)
      ? await this.dataSource.getRepository(ProvisioningRun).findOne({ where: { id } })
      : null;
    if (!run) throw new AppError(ErrorCode.NOT_FOUND, `No provisioning run ${id.slice(0, 40)}`);
    return run;
  }

  /** The worker's job: two accounts at a time (one per core), progress saved as it goes. */
  async execute(runId: string, concurrency = 2): Promise<ProvisioningRun> {
    const repo = this.dataSource.getRepository(ProvisioningRun);
    const run = await repo.findOneOrFail({ where: { id: runId } });
    const ca = await this.ca.requireActive();
    const queue = (await this.pending()).map((r) => r.id);
    run.status = 'running';
    run.startedAt = new Date();
    run.total = queue.length;
    await repo.save(run);
    let lastSave = Date.now();
    const worker = async () => {
      for (let id = queue.shift(); id; id = queue.shift()) {
        try {
          await this.dataSource.transaction(async (m) => {
            const user = await m.findOneOrFail(User, { where: { id } });
            await this.accounts.getOrCreate(user, ca, m);
          });
          run.done++;
        } catch (err) {
          run.failed++;
          if (run.errors.length < 100) run.errors.push(`${id}: ${(err as Error).message}`);
        }
        if (Date.now() - lastSave > 500) {
          lastSave = Date.now();
          await repo.update({ id: run.id }, { done: run.done, failed: run.failed });
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    run.status = run.failed ? 'failed' : 'succeeded';
    run.finishedAt = new Date();
    this.logger.log({ runId, done: run.done, failed: run.failed }, 'provisioning finished');
    return this.dataSource.transaction(async (m) => {
      const saved = await m.save(run);
      await this.audit.record(
        {
          actor: 'system:provisioning',
          action: 'directory.provisioning_finished',
          details: { runId, status: run.status, total: run.total, done: run.done, failed: run.failed },
        },
        m,
      );
      return saved;
    });
  }
}
