import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DataSource } from 'typeorm';
import { createTestDatabase, stopTestPostgres, TestDatabase } from '../../../../../test/support/postgres';
import { MIGRATIONS } from '../../../../../migrations';
import { AppError } from '../../common/app-error';
import { runInRequestContext } from '../../common/request-context';
import { dataSourceOptions } from '../../database/data-source';
import { chainHash, GENESIS_HASH } from './audit-chain';
import { AuditEvent } from './audit-event.entity';
import { AuditService, decodeCursor, encodeCursor } from './audit.service';

// The service on a real database: the migration's backfill, the chain under concurrency from two
// connection pools (as two server processes would), tampering, filters and cursors.

let db: TestDatabase;
let ds: DataSource;
let audit: AuditService;

// The machine's PostgreSQL is shared: a few connections per pool still race two pools against each other.
const SMALL_POOL = { max: 4, connectionTimeoutMillis: 10_000 };
const chainIndex = MIGRATIONS.findIndex((m) => m.name === 'AuditChain1796670981959');

before(async () => {
  db = await createTestDatabase();
  // Up to the migration before the chain, with rows in the old shape, then the rest.
  const early = new DataSource(dataSourceOptions(db.url, { migrations: MIGRATIONS.slice(0, chainIndex) }));
  await early.initialize();
  await early.runMigrations({ transaction: 'each' });
  await early.query(
    `INSERT INTO audit_events (at, actor, action, target, details) VALUES
       ('2026-01-01T10:00:00.123456Z', 'admin:old', 'user.created', 'alice', '{"source":"local","b":1,"a":[1,2]}'),
       ('2026-01-02T10:00:00Z', 'system', 'directory.sync_braked', NULL, NULL),
       ('2026-01-03T10:00:00Z', 'ip:10.0.0.1', 'admin.login_failed', 'root', '{}')`,
  );
  // More than 9, so an order by id as text (1, 10, 11, 2…) would show.
  await early.query(
    `INSERT INTO audit_events (at, actor, action, target, details)
     SELECT '2026-01-04T10:00:00Z'::timestamptz + n * interval '1 second', 'system', 'old.event', 'n' || n, jsonb_build_object('n', n)
     FROM generate_series(1, 9) AS n`,
  );
  await early.destroy();
  ds = new DataSource(dataSourceOptions(db.url, { extra: SMALL_POOL }));
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  audit = new AuditService(ds.getRepository(AuditEvent));
});

after(async () => {
  await ds?.destroy();
  await db?.drop();
  await stopTestPostgres();
});

const rows = (sql = 'SELECT * FROM audit_events ORDER BY id') => ds.query(sql);

test('the migration hashes the rows recorded before it, and new rows chain on', async () => {
  assert.deepEqual(await audit.verify(), {
    ok: true,
    checked: 12,
    lastId: '12',
    lastHash: (await rows())[11].hash,
  });
  const [first] = await rows();
  assert.equal(first.prev_hash, GENESIS_HASH);
  await audit.record({ actor: 'admin:new', action: 'user.created', target: 'bob' });
  const all = await rows();
  assert.equal(all.length, 13);
  assert.equal(all[12].prev_hash, all[11].hash);
  assert.equal((await audit.verify()).ok, true);
});

test('record stores before/after and the request id and address of the current request; jobs get nulls', async () => {
  await runInRequestContext({ requestId: 'req-123', address: '192.0.2.7' }, () =>
    audit.record({
      actor: 'admin:a',
      action: 'directory.settings_changed',
      details: { why: 'test' },
      before: { type: 'local' },
      after: { type: 'ldap', url: 'ldap://x' },
    }),
  );
  await audit.record({ actor: 'system', action: 'job.ran' });
  const [job, req] = await rows('SELECT * FROM audit_events ORDER BY id DESC LIMIT 2');
  assert.equal(req.request_id, 'req-123');
  assert.equal(req.address, '192.0.2.7');
  assert.deepEqual(req.before, { type: 'local' });
  assert.deepEqual(req.after, { type: 'ldap', url: 'ldap://x' });
  assert.equal(job.request_id, null);
  assert.equal(job.address, null);
  assert.equal((await audit.verify()).ok, true);
});

test('values PostgreSQL cannot store (NUL, lone surrogates, over-long names) are made storable and still verify', async () => {
  await audit.record({
    actor: 'x'.repeat(300),
    action: 'odd\u0000action',
    target: 'bad\ud800name',
    details: { 'k\u0000': 'v\u0000', when: new Date('2026-02-03T04:05:06Z'), n: 1e21, skip: undefined },
  });
  const [r] = await rows('SELECT * FROM audit_events ORDER BY id DESC LIMIT 1');
  assert.equal(r.actor.length, 100);
  assert.equal(r.action, 'odd\ufffdaction');
  assert.equal(r.target, 'bad\ufffdname');
  assert.deepEqual(r.details, { 'k\ufffd': 'v\ufffd', when: '2026-02-03T04:05:06.000Z', n: 1e21 });
  assert.equal((await audit.verify()).ok, true);
});

test("an event recorded in the caller's transaction rolls back with it and leaves the chain intact", async () => {
  const before = (await rows()).length;
  await assert.rejects(
    ds.transaction(async (m) => {
      await audit.record({ actor: 'admin:a', action: 'user.created', target: 'ghost' }, m);
      throw new Error('the change failed');
    }),
    /the change failed/,
  );
  assert.equal((await rows()).length, before);
  await audit.record({ actor: 'admin:a', action: 'user.created', target: 'real' });
  assert.equal((await audit.verify()).ok, true);
});

test('record refuses a REPEATABLE READ transaction, whose snapshot could fork the chain', async () => {
  await assert.rejects(
    ds.transaction('REPEATABLE READ', (m) => audit.record({ actor: 'a', action: 'b' }, m)),
    /READ COMMITTED/,
  );
});

test('concurrent transactions from two connection pools (two processes) append one chain without forks', async () => {
  const other = new DataSource(dataSourceOptions(db.url, { extra: SMALL_POOL }));
  await other.initialize();
  try {
    const second = new AuditService(other.getRepository(AuditEvent));
    const before = (await rows()).length;
    const n = 40;
    await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const [source, service] = i % 2 ? [ds, audit] : [other, second];
        return source.transaction(async (m) => {
          await m.query('SELECT pg_sleep(0.005)');
          await service.record({ actor: 'admin:race', action: 'race', target: String(i) }, m);
        });
      }),
    );
    const all = await rows();
    assert.equal(all.length, before + n);
    assert.equal(new Set(all.map((r: { prev_hash: string }) => r.prev_hash)).size, all.length, 'a fork');
    const v = await audit.verify();
    assert.deepEqual(v, {
      ok: true,
      checked: all.length,
      lastId: all[all.length - 1].id,
      lastHash: all[all.length - 1].hash,
    });
  } finally {
    await other.destroy();
  }
});

/** Tampers with SQL, checks what verify reports, then undoes the tampering. */
async function tampered(tamper: [string, unknown[]], undo: [string, unknown[]]) {
  await ds.query(...tamper);
  try {
    return await audit.verify(3); // small batches: breaks are found across batch boundaries too
  } finally {
    await ds.query(...undo);
    assert.equal((await audit.verify()).ok, true, 'undo restored the chain');
  }
}

test('verify detects an edited, a deleted and an inserted row, naming the first broken one', async () => {
  for (let i = 0; i < 6; i++) await audit.record({ actor: 'admin:t', action: 'tamper.base', details: { i } });
  const all = await rows();
  const victim = all[all.length - 4];
  const next = all[all.length - 3];

  const edited = await tampered(
    [`UPDATE audit_events SET details = '{"i": 99}' WHERE id = $1`, [victim.id]],
    [`UPDATE audit_events SET details = $2 WHERE id = $1`, [victim.id, JSON.stringify(victim.details)]],
  );
  assert.deepEqual({ ok: edited.ok, firstBrokenId: edited.firstBrokenId }, { ok: false, firstBrokenId: victim.id });
  assert.equal(edited.checked, all.findIndex((r: { id: string }) => r.id === victim.id) + 1);

  await ds.query('DELETE FROM audit_events WHERE id = $1', [victim.id]);
  const deleted = await audit.verify(3);
  assert.deepEqual({ ok: deleted.ok, firstBrokenId: deleted.firstBrokenId }, { ok: false, firstBrokenId: next.id });
  await ds.query(
    `INSERT INTO audit_events (id, at, actor, action, target, details, before, after, request_id, address, prev_hash, hash)
     SELECT id, at, actor, action, target, details, before, after, request_id, address, prev_hash, hash
     FROM jsonb_populate_record(NULL::audit_events, $1::jsonb)`,
    [JSON.stringify({ ...victim, at: victim.at.toISOString() })],
  );
  assert.equal((await audit.verify()).ok, true);

  // A forged row appended with a made-up hash.
  const last = all[all.length - 1];
  const forged = await tampered(
    [
      `INSERT INTO audit_events (id, at, actor, action, prev_hash, hash) VALUES (1000000, now(), 'admin:t', 'forged', $1, $2)`,
      [last.hash, 'f'.repeat(64)],
    ],
    ['DELETE FROM audit_events WHERE id = 1000000', []],
  );
  assert.deepEqual({ ok: forged.ok, firstBrokenId: forged.firstBrokenId }, { ok: false, firstBrokenId: '1000000' });

  // A forged row slipped into a gap between two rows, hashed correctly: the row after it breaks.
  await ds.query(`SELECT setval(pg_get_serial_sequence('audit_events', 'id'), 2000000)`);
  await audit.record({ actor: 'admin:t', action: 'after.gap' });
  const at = new Date('2026-03-01T00:00:00Z');
  const content = {
    id: '1500000',
    at,
    actor: 'admin:evil',
    action: 'forged',
    target: null,
    details: null,
    before: null,
    after: null,
    requestId: null,
    address: null,
  };
  const inserted = await tampered(
    [
      `INSERT INTO audit_events (id, at, actor, action, prev_hash, hash) VALUES (1500000, $1, 'admin:evil', 'forged', $2, $3)`,
      [at, last.hash, chainHash(content, last.hash)],
    ],
    ['DELETE FROM audit_events WHERE id = 1500000', []],
  );
  assert.deepEqual({ ok: inserted.ok, firstBrokenId: inserted.firstBrokenId }, { ok: false, firstBrokenId: '2000001' });
});

test('list: newest first, exact filters, a time window and an opaque cursor through every page', async () => {
  for (let i = 0; i < 7; i++) {
    await audit.record({ actor: i % 2 ? 'admin:odd' : 'admin:even', action: 'page.test', target: `t${i}` });
  }
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await audit.list({ action: 'page.test' }, 3, cursor);
    assert.ok(page.items.length <= 3);
    seen.push(...page.items.map((e) => e.target as string));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  assert.deepEqual(seen, ['t6', 't5', 't4', 't3', 't2', 't1', 't0']);
  const odd = await audit.list({ action: 'page.test', actor: 'admin:odd' }, 10);
  assert.deepEqual(
    odd.items.map((e) => e.target),
    ['t5', 't3', 't1'],
  );
  assert.equal(odd.nextCursor, null);
  assert.deepEqual((await audit.list({ target: 't4' }, 10)).items.length, 1);
  const old = await audit.list({ from: '2026-01-01T00:00:00Z', to: '2026-01-02T10:00:00Z' }, 10);
  assert.deepEqual(
    old.items.map((e) => e.actor),
    ['admin:old'],
  );
});

test('bad cursors and time windows are 400 VALIDATION_FAILED naming the field', async () => {
  assert.equal(decodeCursor(encodeCursor('42')), '42');
  for (const bad of ['', 'abc', encodeCursor('0'), encodeCursor('-1'), encodeCursor('99999999999999999999'), '!!']) {
    assert.throws(
      () => decodeCursor(bad),
      (e: unknown) => e instanceof AppError && e.status === 400 && /cursor/.test(e.message),
    );
  }
  await assert.rejects(
    audit.list({ from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 10),
    (e: unknown) => e instanceof AppError && e.status === 400 && /from/.test(e.message),
  );
  await assert.rejects(
    audit.list({ to: '+275760-09-13T00:00:00Z' }, 10),
    (e: unknown) => e instanceof AppError && e.status === 400 && /^to /.test(e.message),
  );
});

test('the export stream reads in batches and yields every match newest first', async () => {
  const got: string[] = [];
  for await (const e of audit.stream({ action: 'page.test' }, 2)) got.push(e.target as string);
  assert.deepEqual(got, ['t6', 't5', 't4', 't3', 't2', 't1', 't0']);
});
