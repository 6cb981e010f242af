import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { withSessionLock } from '../../database/advisory-lock';
import { DATABASE_URL } from '../../database/database.tokens';
import { AccountsService } from '../accounts/accounts.service';
import { AuditService } from '../audit/audit.service';
import { DirectoryGroup, GroupMirrorService } from '../groups/group-mirror.service';
import { QueueName } from '../queue/queue-names';
import { QueueService } from '../queue/queue.service';
import { USERNAME_PATTERN } from '../users/username';
import { UsersRepository } from '../users/users.repository';
import { DirectoryConfig } from './directory-config.entity';
import { DirectoryUser, toDirectoryUser, userAttributes } from './directory-schema';
import { SyncRunDto } from './directory.dto';
import { DirectoryService } from './directory.service';
import { LdapConnection } from './ldap-connection';
import { DirectorySyncRun, SyncMode } from './sync-run.entity';

const SYNC_LOCK = 'enclave:directory-sync';
const MAX_ERRORS_KEPT = 200;

interface RunState {
  run: DirectorySyncRun;
  seen: Set<string>;
  toSuspend: Set<string>;
  toReactivate: Set<string>;
  watermark: string | null;
}

export function toSyncRunDto(r: DirectorySyncRun): SyncRunDto {
  return {
    id: r.id,
    mode: r.mode,
    status: r.status,
    trigger: r.trigger,
    startedAt: r.startedAt?.toISOString() ?? null,
    finishedAt: r.finishedAt?.toISOString() ?? null,
    seen: r.seen,
    added: r.added,
    updated: r.updated,
    suspended: r.suspended,
    reactivated: r.reactivated,
    errors: r.errors,
    pendingSuspensions: r.pendingSuspensions?.length ?? 0,
  };
}

function newerVersion(type: 'ldap' | 'ad', a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  if (type === 'ad') return BigInt(a) >= BigInt(b) ? a : b;
  return a >= b ? a : b;
}

/**
 * Directory sync: paged searches keyed on entryUUID / objectGUID, batched upserts per page, group mirroring,
 * and deprovisioning (suspend + revoke) of users disabled in or gone from the directory, behind a
 * mass-deletion brake. Only one sync runs at a time (advisory lock).
 */
@Injectable()
export class DirectorySyncService {
  private readonly logger = new Logger(DirectorySyncService.name);

  constructor(
    @Inject(DATABASE_URL) private readonly databaseUrl: string,
    @InjectRepository(DirectorySyncRun) private readonly runs: Repository<DirectorySyncRun>,
    @InjectRepository(DirectoryConfig) private readonly configs: Repository<DirectoryConfig>,
    private readonly users: UsersRepository,
    private readonly groups: GroupMirrorService,
    private readonly directory: DirectoryService,
    private readonly accounts: AccountsService,
    private readonly queues: QueueService,
    private readonly audit: AuditService,
  ) {}

  /** Records a queued run and hands it to the workers. */
  async enqueue(mode: SyncMode, trigger: string): Promise<DirectorySyncRun> {
    const config = await this.directory.config();
    if (config.type === 'local') {
      throw new AppError(ErrorCode.VALIDATION_FAILED, 'Configure an LDAP or Active Directory directory before syncing');
    }
    const run = await this.runs.save(this.runs.create({ mode, status: 'queued', trigger, errors: [] }));
    await this.queues.queue(QueueName.DirectorySync).add('sync', { runId: run.id }, { attempts: 1 });
    await this.audit.record({ actor: trigger, action: 'directory.sync_requested', details: { runId: run.id, mode } });
    return run;
  }

  /** The scheduled job: a full sync when the last one is older than fullSyncHours, else incremental. */
  async scheduled(): Promise<DirectorySyncRun | null> {
    const config = await this.directory.config();
    if (config.type === 'local' || config.syncIntervalMinutes === 0) return null;
    const fullDue =
      !config.lastFullSyncAt || Date.now() - config.lastFullSyncAt.getTime() > config.fullSyncHours * 3600_000;
    const run = await this.runs.save(
      this.runs.create({
        mode: fullDue || !config.syncWatermark ? 'full' : 'incremental',
        status: 'queued',
        trigger: 'schedule',
        errors: [],
      }),
    );
    return this.execute(run.id);
  }

  async get(id: string): Promise<DirectorySyncRun> {
    const run = /^[0-9a-f-]{36}$/.test(id) ? await this.runs.findOne({ where: { id } }) : null;
    if (!run) throw new AppError(ErrorCode.SYNC_RUN_NOT_FOUND, `No sync run ${id.slice(0, 40)}`);
    return run;
  }

  list(limit = 50): Promise<DirectorySyncRun[]> {
    return this.runs.find({ order: { startedAt: { direction: 'DESC', nulls: 'FIRST' } }, take: limit });
  }

  /** Runs a queued sync (the worker's job). Failures end the run cleanly; the next run starts afresh. */
  async execute(runId: string): Promise<DirectorySyncRun> {
    const run = await this.runs.findOneOrFail({ where: { id: runId } });
    const locked = await withSessionLock(this.databaseUrl, SYNC_LOCK, () => this.executeLocked(run), {
      wait: false,
    });
    return locked.acquired ? locked.value : this.finish(run, 'failed', ['another directory sync is running']);
  }

  private async executeLocked(run: DirectorySyncRun): Promise<DirectorySyncRun> {
    const runId = run.id;
    run.status = 'running';
    run.startedAt = new Date();
    await this.runs.save(run);
    const config = await this.directory.config();
    const state: RunState = { run, seen: new Set(), toSuspend: new Set(), toReactivate: new Set(), watermark: null };
    let conn: LdapConnection | undefined;
    try {
      conn = await this.directory.connect(config);
      await this.syncUsers(conn, config, state);
      if (run.mode === 'full') {
        await this.collectGone(config, state);
        if (config.groupBaseDn) await this.syncGroups(conn, config, state);
      }
    } catch (err) {
      this.logger.warn({ err, runId }, 'directory sync failed');
      return this.finish(run, 'failed', [...run.errors, `sync stopped: ${(err as Error).message}`]);
    } finally {
      await conn?.close();
    }
    await this.reactivate(state);
    const activeBefore = await this.users.countActiveFromSource(config.type as 'ldap' | 'ad');
    const braked = state.toSuspend.size > 0 && state.toSuspend.size > (activeBefore * config.brakePercent) / 100;
    const watermark = newerVersion(config.type as 'ldap' | 'ad', config.syncWatermark, state.watermark);
    await this.configs.update(
      { id: 1 },
      { syncWatermark: watermark, ...(run.mode === 'full' ? { lastFullSyncAt: new Date() } : {}) },
    );
    if (braked) {
      run.pendingSuspensions = [...state.toSuspend];
      await this.audit.record({
        actor: 'system:directory-sync',
        action: 'directory.sync_braked',
        details: {
          runId,
          wouldSuspend: state.toSuspend.size,
          activeUsers: activeBefore,
          brakePercent: config.brakePercent,
        },
      });
      return this.finish(run, 'awaiting_confirmation', run.errors);
    }
    run.suspended = await this.suspend([...state.toSuspend], runId);
    return this.finish(run, 'succeeded', run.errors);
  }

  /** An admin confirms a braked run: its pending suspensions are applied. */
  async confirm(runId: string, actor: string): Promise<DirectorySyncRun> {
    const run = await this.get(runId);
    if (run.status !== 'awaiting_confirmation' || !run.pendingSuspensions) {
      throw new AppError(
        ErrorCode.SYNC_NOT_CONFIRMABLE,
        `Sync run ${runId} is ${run.status}, not awaiting confirmation`,
      );
    }
    await this.audit.record({
      actor,
      action: 'directory.sync_confirmed',
      details: { runId, suspensions: run.pendingSuspensions.length },
    });
    run.suspended = await this.suspend(run.pendingSuspensions, runId, actor);
    run.pendingSuspensions = null;
    run.status = 'confirmed';
    return this.runs.save(run);
  }

  private async finish(
    run: DirectorySyncRun,
    status: DirectorySyncRun['status'],
    errors: string[],
  ): Promise<DirectorySyncRun> {
    // What the run changed (users added/updated/suspended/reactivated), scheduled and requested runs alike.
    await this.audit.record({
      actor: 'system:directory-sync',
      action: 'directory.sync_finished',
      details: {
        runId: run.id,
        mode: run.mode,
        trigger: run.trigger,
        status,
        seen: run.seen,
        added: run.added,
        updated: run.updated,
        suspended: run.suspended,
        reactivated: run.reactivated,
        errors: errors.length,
      },
    });
    run.status = status;
    run.finishedAt = new Date();
    run.errors = errors.slice(0, MAX_ERRORS_KEPT);
    return this.runs.save(run);
  }

  private async syncUsers(conn: LdapConnection, config: DirectoryConfig, state: RunState): Promise<void> {
    const flavor = this.directory.flavor(config);
    let filter = config.userFilter;
    if (state.run.mode === 'incremental' && config.syncWatermark) {
      filter =
        config.type === 'ad'
          ? `(&${config.userFilter}(${flavor.versionAttribute}>=${BigInt(config.syncWatermark) + 1n}))`
          : `(&${config.userFilter}(${flavor.versionAttribute}>=${config.syncWatermark}))`;
    }
    await conn.pagedSearch(
      config.baseDn,
      { filter, attributes: userAttributes(config), pageSize: 1000 },
      async (entries) => {
        const users: DirectoryUser[] = [];
        for (const e of entries) {
          const mapped = toDirectoryUser(config, e);
          if ('error' in mapped) state.run.errors.push(mapped.error);
          else users.push(mapped.user);
        }
        await this.upsertBatch(config, users, state);
        state.run.seen += entries.length;
        await this.runs.update(
          { id: state.run.id },
          { seen: state.run.seen, added: state.run.added, updated: state.run.updated },
        );
      },
    );
  }

  /** One statement per page: new users inserted, changed ones updated, unchanged ones untouched. */
  private async upsertBatch(config: DirectoryConfig, batch: DirectoryUser[], state: RunState): Promise<void> {
    const valid: DirectoryUser[] = [];
    const names = new Set<string>();
    for (const u of batch) {
      const username = u.username.toLowerCase();
      state.seen.add(u.externalId);
      state.watermark = newerVersion(config.type as 'ldap' | 'ad', state.watermark, u.version);
      if (!USERNAME_PATTERN.test(username)) {
        state.run.errors.push(`${u.dn}: "${u.username}" does not fit Jami's name rules ([a-z0-9_-]{3,32})`);
        continue;
      }
      if (names.has(username)) {
        state.run.errors.push(`${u.dn}: username "${username}" appears twice`);
        continue;
      }
      names.add(username);
      valid.push({ ...u, username });
    }
    if (!valid.length) return;
    const owner = await this.users.nameOwners(valid.map((u) => u.username));
    const rows = valid.filter((u) => {
      const o = owner.get(u.username);
      if (o?.deleted) {
        state.run.errors.push(`${u.dn}: username "${u.username}" is reserved by a deleted user`);
        return false;
      }
      if (o !== undefined && o.externalId !== u.externalId) {
        state.run.errors.push(`${u.dn}: username "${u.username}" belongs to another user`);
        return false;
      }
      return true;
    });
    if (!rows.length) return;
    const counts = await this.users.upsertDirectoryUsers(config.type as 'ldap' | 'ad', rows);
    state.run.added += counts.inserted;
    state.run.updated += counts.updated;
    // Status follows the directory: disabled → suspend (if active); enabled again → reactivate what the
    // directory had suspended.
    const current = await this.users.byExternalIds(rows.map((u) => u.externalId));
    const disabled = new Set(rows.filter((u) => u.disabled).map((u) => u.externalId));
    for (const c of current) {
      if (disabled.has(c.external_id) && c.status === 'active') state.toSuspend.add(c.id);
      if (!disabled.has(c.external_id) && c.status === 'suspended' && c.suspended_reason === 'directory') {
        state.toReactivate.add(c.id);
      }
    }
  }

  /** Full sync only: directory users not seen in this traversal are gone (set difference in memory: O(n)). */
  private async collectGone(config: DirectoryConfig, state: RunState): Promise<void> {
    const active = await this.users.activeFromSource(config.type as 'ldap' | 'ad');
    for (const u of active) if (!state.seen.has(u.external_id)) state.toSuspend.add(u.id);
  }

  private async reactivate(state: RunState): Promise<void> {
    if (!state.toReactivate.size) return;
    const ids = [...state.toReactivate];
    await this.users.reactivate(ids);
    state.run.reactivated = ids.length;
    await this.audit.record({
      actor: 'system:directory-sync',
      action: 'users.reactivated',
      details: { runId: state.run.id, count: ids.length },
    });
  }

  /** Suspends users and revokes their account and devices (CRL + OCSP), one audit entry each. */
  private async suspend(userIds: string[], runId: string, actor = 'system:directory-sync'): Promise<number> {
    let n = 0;
    for (const id of userIds) {
      const user = await this.users.byId(id);
      if (!user || user.status !== 'active') continue;
      await this.accounts.revokeAccount(user, actor, {
        reason: 'directory',
        action: 'user.deprovisioned',
        details: { runId },
      });
      n++;
    }
    return n;
  }

  /** Mirrors directory groups (by stable id) and their members (by member DN). */
  private async syncGroups(conn: LdapConnection, config: DirectoryConfig, state: RunState): Promise<void> {
    const flavor = this.directory.flavor(config);
    const groups: DirectoryGroup[] = [];
    await conn.pagedSearch(
      config.groupBaseDn as string,
      {
        filter: config.groupFilter ?? flavor.groupFilter,
        attributes: ['cn', 'member', flavor.idAttribute],
        pageSize: 500,
      },
      async (entries) => {
        for (const e of entries) {
          const idBytes = e.bytes[flavor.idAttribute.toLowerCase()]?.[0];
          const externalId =
            config.type === 'ad' ? idBytes?.toString('hex') : e.text[flavor.idAttribute.toLowerCase()]?.[0];
          const name = e.text.cn?.[0];
          if (!externalId || !name) {
            state.run.errors.push(`${e.dn}: group without ${flavor.idAttribute} or cn`);
            continue;
          }
          groups.push({ externalId: externalId.toLowerCase(), name, dn: e.dn, members: e.text.member ?? [] });
        }
      },
    );
    await this.groups.mirror(config.type as 'ldap' | 'ad', groups);
  }

  // --- Read model for /metrics (metrics work) ---

  /** Finished and pending runs per status, with their summed duration and the latest finished run. */
  async runStats(): Promise<{
    byStatus: { status: string; count: number; durationSeconds: number }[];
    last: { status: string; finishedAt: Date; durationSeconds: number } | null;
  }> {
    const repo = this.runs;
    const duration = 'COALESCE(EXTRACT(EPOCH FROM (r.finished_at - r.started_at)), 0)';
    const rows = await repo
      .createQueryBuilder('r')
      .select('r.status', 'status')
      .addSelect('COUNT(*)', 'count')
      .addSelect(`SUM(${duration})`, 'duration')
      .groupBy('r.status')
      .getRawMany<{ status: string; count: string; duration: string }>();
    const last = await repo
      .createQueryBuilder('r')
      .select('r.status', 'status')
      .addSelect('r.finished_at', 'finishedAt')
      .addSelect(duration, 'duration')
      .where('r.finished_at IS NOT NULL')
      .orderBy('r.finished_at', 'DESC')
      .limit(1)
      .getRawOne<{ status: string; finishedAt: Date; duration: string }>();
    return {
      byStatus: rows.map((r) => ({ status: r.status, count: Number(r.count), durationSeconds: Number(r.duration) })),
      last: last ? { status: last.status, finishedAt: last.finishedAt, durationSeconds: Number(last.duration) } : null,
    };
  }
}
