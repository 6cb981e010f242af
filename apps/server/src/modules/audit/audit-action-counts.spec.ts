import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DataSource } from 'typeorm';
import { createTestDatabase, stopTestPostgres, TestDatabase } from '../../../../../test/support/postgres';
import { createDataSource } from '../../database/data-source';
import { AuditEvent } from './audit-event.entity';
import { AuditService } from './audit.service';

let db: TestDatabase;
let ds: DataSource;
let audit: AuditService;

before(async () => {
  db = await createTestDatabase();
  ds = createDataSource(db.url);
  await ds.initialize();
  await ds.runMigrations();
  audit = new AuditService(ds.getRepository(AuditEvent));
});
after(async () => {
  await ds?.destroy();
  await db?.drop();
  await stopTestPostgres();
});

/** The truth, counted the slow way. */
async function groupBy(): Promise<Map<string, number>> {
  const rows: { action: string; n: number }[] = await ds.query(
    'SELECT action, count(*)::int AS n FROM audit_events GROUP BY action',
  );
  return new Map(rows.map((r) => [r.action, r.n]));
}

const sorted = (m: Map<string, number>) => [...m].filter(([, n]) => n !== 0).sort(([a], [b]) => a.localeCompare(b));

test('countByAction follows inserts from concurrent transactions, rollbacks, deletes, changed actions and truncation', async () => {
  // 8 connections recording at once, in transactions (as services do), some rolled back.
  await Promise.all(
    Array.from({ length: 8 }, (_, worker) =>
      (async () => {
        for (let i = 0; i < 40; i++) {
          const action = ['device.enrolled', 'admin.login', 'device.revoked'][(worker + i) % 3];
          await ds
            .transaction(async (m) => {
              await audit.record({ actor: `test:${worker}`, action, target: `t${i}` }, m);
              if (i % 10 === 9) throw new Error('rolled back');
            })
            .catch((err: Error) => assert.equal(err.message, 'rolled back'));
        }
      })(),
    ),
  );
  assert.equal((await groupBy()).get('device.enrolled'), 96);
  assert.deepEqual(sorted(await audit.countByAction()), sorted(await groupBy()));

  // One bulk statement, and an update that leaves the action alone.
  await ds.query(
    // Raw rows (not chained: this checks the counting triggers only, not the hash chain).
    "INSERT INTO audit_events (actor, action, prev_hash, hash) SELECT 'bulk', 'user.created', repeat('0', 64), repeat('0', 64) FROM generate_series(1, 5000)",
  );
  await ds.query("UPDATE audit_events SET target = 'changed' WHERE actor = 'bulk'");
  assert.equal((await audit.countByAction()).get('user.created'), 5000);
  await ds.query("DELETE FROM audit_events WHERE action = 'device.revoked' AND target = 't0'");
  await ds.query(
    "UPDATE audit_events SET action = 'admin.login_failed' WHERE action = 'admin.login' AND target = 't1'",
  );
  assert.deepEqual(sorted(await audit.countByAction()), sorted(await groupBy()));
  assert.ok(((await audit.countByAction()).get('admin.login_failed') ?? 0) > 0);

  await ds.query('TRUNCATE audit_events');
  assert.deepEqual(sorted(await audit.countByAction()), []);
  await audit.record({ actor: 'system', action: 'setup.completed' });
  assert.deepEqual(sorted(await audit.countByAction()), [['setup.completed', 1]]);
});

test('the counts are seeded from the rows present when the migration runs', async () => {
  const migration = ds.migrations.find((m) => m.name === 'AuditActionCounts1796671711005');
  assert.ok(migration);
  await ds.query('TRUNCATE audit_events');
  const runner = ds.createQueryRunner();
  try {
    await migration.down(runner);
    await ds.query(
      "INSERT INTO audit_events (actor, action, prev_hash, hash) SELECT 'system', 'user.created', repeat('0', 64), repeat('0', 64) FROM generate_series(1, 25)",
    );
    await migration.up(runner);
  } finally {
    await runner.release();
  }
  assert.deepEqual(sorted(await audit.countByAction()), [['user.created', 25]]);
});
