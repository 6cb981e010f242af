// /metrics at scale: the audit-derived counters (enrollments, logins, revocations) read from the
// trigger-kept per-action counts, against counting the audit log itself, at 1,000,000 audit rows; and what
// the counting trigger costs each audit insert.
import { DataSource } from 'typeorm';
import { createDataSource } from '../apps/server/src/database/data-source';
import { AuditEvent } from '../apps/server/src/modules/audit/audit-event.entity';
import { AuditService } from '../apps/server/src/modules/audit/audit.service';
import { createTestDatabase, stopTestPostgres } from '../test/support/postgres';
import { BenchFigure, figure, rate } from './harness';

const ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? 1_000_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ACTIONS = ['device.enrolled', 'device.reenrolled', 'admin.login', 'admin.login_failed', 'user.login_failed'];

async function timings(op: () => Promise<unknown>, runs: number): Promise<{ median: number; p99: number }> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await op();
    ms.push(performance.now() - start);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)], p99: ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.99))] };
}

export async function run(): Promise<BenchFigure[]> {
  const db = await createTestDatabase();
  const ds: DataSource = createDataSource(db.url);
  try {
    await ds.initialize();
    await ds.runMigrations();
    const audit = new AuditService(ds.getRepository(AuditEvent));
    // Bulk load through the trigger, as if the rows had been recorded one by one.
    const loadStart = performance.now();
    for (let done = 0; done < ROWS; done += 100_000) {
      const n = Math.min(100_000, ROWS - done);
      await ds.query(
        `INSERT INTO audit_events (actor, action, target)
         SELECT 'bench', ($1::text[])[1 + (g % $2)], 'user' || g FROM generate_series(1, $3) g`,
        [ACTIONS, ACTIONS.length, n],
      );
    }
    const loadSeconds = (performance.now() - loadStart) / 1000;
    await ds.query('VACUUM ANALYZE audit_events');
    await ds.query('VACUUM ANALYZE audit_action_counts');

    const counts = await timings(() => audit.countByAction(), 200);
    const groupBy = await timings(
      () => ds.query('SELECT action, count(*) FROM audit_events GROUP BY action'),
      Math.max(5, Math.min(20, Math.round(20_000_000 / ROWS))),
    );

    let i = 0;
    const record = () => audit.record({ actor: 'bench', action: ACTIONS[i++ % ACTIONS.length], target: 'x' });
    const withTrigger = await rate(record, SECONDS, 8);
    await ds.query('ALTER TABLE audit_events DISABLE TRIGGER trg_audit_action_counts_insert');
    const withoutTrigger = await rate(record, SECONDS, 8);
    await ds.query('ALTER TABLE audit_events ENABLE TRIGGER trg_audit_action_counts_insert');

    const rows = `${(ROWS / 1e6).toFixed(ROWS % 1e6 ? 1 : 0)}M audit rows`;
    return [
      figure(
        `audit-derived counters for one scrape, median (${rows})`,
        counts.median,
        'ms',
        { name: 'GROUP BY action over audit_events, median', value: groupBy.median, unit: 'ms' },
        `p99 ${counts.p99.toFixed(2)} ms vs ${groupBy.p99.toFixed(0)} ms; loaded in ${loadSeconds.toFixed(0)} s through the trigger`,
      ),
      figure(
        'audit inserts with the counting trigger, 8 connections',
        withTrigger,
        'inserts/s',
        { name: 'same with the trigger disabled', value: withoutTrigger, unit: 'inserts/s' },
        'one row per insert, autocommit',
      ),
    ];
  } finally {
    await ds.destroy().catch(() => undefined);
    await db.drop();
    await stopTestPostgres();
  }
}
