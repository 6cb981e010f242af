import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { routeTemplate } from '../../common/route-template';
import { poolStats } from '../../database/pool-stats';
import { AuditService } from '../audit/audit.service';
import { DirectorySyncService } from '../directory/directory-sync.service';
import { QueueName } from '../queue/queue-names';
import { QueueService } from '../queue/queue.service';
import { UsersService } from '../users/users.service';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
const QUEUE_TIMEOUT_MS = 2000;

/**
 * Audit actions behind the business counters. Logins: `<kind>.login` (or `<kind>.login_succeeded`) on
 * success, `<kind>.login_failed` / `<kind>.login_refused` on failure, kind being admin, device or user.
 */
const LOGIN_ACTION = /^(admin|device|user)\.login(?:_(succeeded|failed|refused))?$/;
const ENROLLMENT_ACTIONS: Record<string, string> = { 'device.enrolled': 'new', 'device.reenrolled': 'reenrolled' };
const REVOCATION_ACTIONS: Record<string, string> = {
  'device.revoked': 'device',
  'account.revoked': 'account',
  'user.deprovisioned': 'deprovisioned',
};
const LOGIN_KINDS = ['admin', 'device', 'user'];

interface DatabaseFigures {
  users: { status: string; source: string; count: number }[];
  devices: { active: number; revoked: number };
  actions: Map<string, number>;
  sync: Awaited<ReturnType<DirectorySyncService['runStats']>>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Prometheus metrics. Business figures (users, devices, enrollments, logins, revocations, sync runs) are read
 * from the database at scrape time, so every replica reports the same totals and a restart resets nothing;
 * audit-derived counters come from trigger-maintained per-action counts (cheap at any log size). HTTP
 * durations, the pool and the process are per instance, as Prometheus expects.
 */
@Injectable()
export class MetricsService {
  private readonly logger = new Logger(MetricsService.name);
  readonly registry = new Registry();

  private readonly httpDuration = new Histogram({
    name: 'enclave_http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status class',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly users = this.gauge('enclave_users', 'Users by status and source', ['status', 'source']);
  private readonly devices = this.gauge('enclave_devices', 'Enrolled devices by status', ['status']);
  private readonly enrollments = this.counter(
    'enclave_enrollments_total',
    'Device enrollments (new device, or a known device re-enrolling with its key)',
    ['kind'],
  );
  private readonly logins = this.counter('enclave_logins_total', 'Sign-ins by kind and outcome', ['kind', 'outcome']);
  private readonly revocations = this.counter(
    'enclave_revocations_total',
    'Revocations: single devices, whole accounts, directory deprovisioning',
    ['kind'],
  );
  private readonly auditEvents = this.counter('enclave_audit_events_total', 'Audit events by action', ['action']);
  private readonly syncRuns = this.counter('enclave_directory_sync_runs_total', 'Directory sync runs by outcome', [
    'outcome',
  ]);
  private readonly syncDuration = this.counter(
    'enclave_directory_sync_duration_seconds_total',
    'Summed duration of directory sync runs by outcome (divide by the runs for the mean)',
    ['outcome'],
  );
  private readonly syncLastDuration = this.gauge(
    'enclave_directory_sync_last_duration_seconds',
    'Duration of the last finished directory sync run',
    ['outcome'],
  );
  private readonly syncLastFinished = this.gauge(
    'enclave_directory_sync_last_finished_timestamp_seconds',
    'When the last directory sync run finished (Unix time)',
    ['outcome'],
  );
  private readonly queueJobs = this.gauge('enclave_queue_jobs', 'Jobs per queue and state', ['queue', 'state']);
  private readonly pool = this.gauge('enclave_db_pool_connections', 'Database pool connections', ['state']);
  private readonly poolMax = this.gauge('enclave_db_pool_max_connections', 'Database pool size limit', []);
  private readonly sourceUp = this.gauge(
    'enclave_metrics_source_up',
    '1 when the last scrape could read the source (database, queue)',
    ['source'],
  );

  constructor(
    private readonly usersService: UsersService,
    private readonly audit: AuditService,
    private readonly directorySync: DirectorySyncService,
    private readonly queues: QueueService,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    collectDefaultMetrics({ register: this.registry });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** Express middleware timing every request; the route label is the matched template. */
  httpMiddleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      const start = process.hrtime.bigint();
      res.once('finish', () => {
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        this.httpDuration.observe(
          { method: req.method, route: routeTemplate(req), status_class: `${Math.floor(res.statusCode / 100)}xx` },
          seconds,
        );
      });
      next();
    };
  }

  /** The text exposition, with the database and queue figures read now. */
  async render(): Promise<string> {
    const [db, queues] = await Promise.all([
      this.readDatabase().catch((err: unknown) => {
        this.logger.warn({ err }, 'metrics: the database figures could not be read');
        return null;
      }),
      this.readQueues().catch((err: unknown) => {
        this.logger.warn({ err }, 'metrics: the queue figures could not be read');
        return null;
      }),
    ]);
    // Applied synchronously: a concurrent scrape never sees half of one reading.
    this.sourceUp.set({ source: 'database' }, db ? 1 : 0);
    this.sourceUp.set({ source: 'queue' }, queues ? 1 : 0);
    if (db) this.applyDatabase(db);
    if (queues) {
      this.queueJobs.reset();
      for (const [queue, counts] of queues) {
        for (const state of QUEUE_STATES) this.queueJobs.set({ queue, state }, counts[state] ?? 0);
      }
    }
    const pool = poolStats(this.dataSource);
    if (pool) {
      this.pool.set({ state: 'total' }, pool.total);
      this.pool.set({ state: 'idle' }, pool.idle);
      this.pool.set({ state: 'waiting' }, pool.waiting);
      this.poolMax.set(pool.max);
    }
    return this.registry.metrics();
  }

  private async readDatabase(): Promise<DatabaseFigures> {
    const [users, devices, actions, sync] = await Promise.all([
      this.usersService.countByStatusAndSource(),
      this.usersService.countDevicesByStatus(),
      this.audit.countByAction(),
      this.directorySync.runStats(),
    ]);
    return { users, devices, actions, sync };
  }

  private async readQueues(): Promise<[string, Record<string, number>][]> {
    return Promise.all(
      Object.values(QueueName).map(async (name): Promise<[string, Record<string, number>]> => [
        name,
        await withTimeout(this.queues.queue(name).getJobCounts(...QUEUE_STATES), QUEUE_TIMEOUT_MS, `queue ${name}`),
      ]),
    );
  }

  private applyDatabase(db: DatabaseFigures): void {
    this.users.reset();
    for (const status of ['active', 'suspended']) {
      for (const source of ['local', 'ldap', 'ad']) this.users.set({ status, source }, 0);
    }
    for (const u of db.users) this.users.set({ status: u.status, source: u.source }, u.count);
    this.devices.set({ status: 'active' }, db.devices.active);
    this.devices.set({ status: 'revoked' }, db.devices.revoked);

    const total = (counter: Counter<string>, labels: Record<string, string>, value: number) =>
      counter.inc(labels, Math.max(0, value));
    for (const c of [this.enrollments, this.logins, this.revocations, this.auditEvents] as Counter<string>[]) c.reset();
    for (const kind of Object.values(ENROLLMENT_ACTIONS)) total(this.enrollments, { kind }, 0);
    for (const kind of Object.values(REVOCATION_ACTIONS)) total(this.revocations, { kind }, 0);
    for (const kind of LOGIN_KINDS) {
      for (const outcome of ['success', 'failure']) total(this.logins, { kind, outcome }, 0);
    }
    for (const [action, count] of db.actions) {
      total(this.auditEvents, { action }, count);
      if (ENROLLMENT_ACTIONS[action]) total(this.enrollments, { kind: ENROLLMENT_ACTIONS[action] }, count);
      if (REVOCATION_ACTIONS[action]) total(this.revocations, { kind: REVOCATION_ACTIONS[action] }, count);
      const login = LOGIN_ACTION.exec(action);
      if (login) {
        const outcome = login[2] === 'failed' || login[2] === 'refused' ? 'failure' : 'success';
        total(this.logins, { kind: login[1], outcome }, count);
      }
    }

    this.syncRuns.reset();
    this.syncDuration.reset();
    for (const r of db.sync.byStatus) {
      total(this.syncRuns, { outcome: r.status }, r.count);
      total(this.syncDuration, { outcome: r.status }, r.durationSeconds);
    }
    this.syncLastDuration.reset();
    this.syncLastFinished.reset();
    if (db.sync.last) {
      this.syncLastDuration.set({ outcome: db.sync.last.status }, db.sync.last.durationSeconds);
      this.syncLastFinished.set({ outcome: db.sync.last.status }, new Date(db.sync.last.finishedAt).getTime() / 1000);
    }
  }
}
