import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DataSource } from 'typeorm';
import { AuditService } from '../../apps/server/src/modules/audit/audit.service';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestResponse, TestServer } from '../support/server';

let server: TestServer;
let token: string;
let ds: DataSource;

before(async () => {
  server = await startTestServer();
  token = await setUp(server);
  ds = server.app.get(DataSource);
});
after(async () => {
  await server?.close();
  await stopTestPostgres();
});

interface AuditItem {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  requestId: string | null;
  address: string | null;
  prevHash: string;
  hash: string;
}
interface AuditPage {
  items: AuditItem[];
  nextCursor: string | null;
}

const get = (path: string) => server.request('GET', path, { token });
const createUser = (username: string, headers: Record<string, string> = {}) =>
  server.request('POST', '/api/admin/users', { token, headers, body: { username, password: 'user-password-1' } });

/** RFC 4180 reader: quoted fields with doubled quotes, commas and line breaks inside. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  assert.equal(field + row.join(''), '', 'the CSV ends with CRLF');
  return rows;
}

function assertBadRequest(res: TestResponse, field: string) {
  assert.equal(res.status, 400, res.text());
  const body = res.json<{ code: string; message: string }>();
  assert.equal(body.code, 'VALIDATION_FAILED');
  assert.match(body.message, new RegExp(`\\b${field}\\b`));
}

test('each audit row carries the request id of the x-request-id header and the source address', async () => {
  const [setupRow] = await ds.query(`SELECT request_id, address FROM audit_events WHERE action = 'setup.completed'`);
  assert.match(setupRow.request_id, /^[0-9a-f-]{36}$/, 'a generated request id');
  assert.match(setupRow.address, /^(::ffff:)?127\.0\.0\.1$/);

  const res = await createUser('carol', { 'x-request-id': 'e2e-create-carol' });
  assert.equal(res.status, 201, res.text());
  assert.equal(res.headers['x-request-id'], 'e2e-create-carol');
  const page = (await get('/api/admin/audit?action=user.created&target=carol')).json<AuditPage>();
  assert.equal(page.items.length, 1);
  assert.equal(page.items[0].requestId, 'e2e-create-carol');
  assert.equal(page.items[0].actor, 'admin:admin');
  assert.match(page.items[0].address ?? '', /127\.0\.0\.1/);

  // A made-up id that is not a plain token is replaced, and the row gets the replacement.
  const odd = await createUser('dave', { 'x-request-id': 'bad id with spaces' });
  const given = String(odd.headers['x-request-id']);
  assert.notEqual(given, 'bad id with spaces');
  const [row] = await ds.query(`SELECT request_id FROM audit_events WHERE target = 'dave'`);
  assert.equal(row.request_id, given);

  // A failed sign-in outside any transaction is recorded with its request too.
  const failed = await server.request('POST', '/api/admin/login', {
    body: { username: 'admin', password: 'wrong-password' },
    headers: { 'x-request-id': 'e2e-login-failed' },
  });
  assert.equal(failed.status, 401);
  const [login] = await ds.query(`SELECT action, request_id FROM audit_events WHERE request_id = 'e2e-login-failed'`);
  assert.equal(login.action, 'admin.login_failed');
});

test('GET /api/admin/audit pages newest first with an opaque cursor and filters by actor, action, target and time', async () => {
  for (const u of ['pager1', 'pager2', 'pager3']) assert.equal((await createUser(u)).status, 201);
  const names: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await get(`/api/admin/audit?action=user.created&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.status, 200, res.text());
    const page: AuditPage = res.json<AuditPage>();
    names.push(...page.items.map((i) => i.target as string));
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  assert.deepEqual(names, ['pager3', 'pager2', 'pager1', 'dave', 'carol']);
  assert.equal(pages, 3);

  const all = (await get('/api/admin/audit?limit=500')).json<AuditPage>().items;
  assert.ok(
    all.every((e, i) => i === 0 || BigInt(all[i - 1].id) > BigInt(e.id)),
    'newest first',
  );
  const byActor = (await get('/api/admin/audit?actor=admin:admin&limit=500')).json<AuditPage>().items;
  assert.deepEqual(
    byActor.map((e) => e.id),
    all.filter((e) => e.actor === 'admin:admin').map((e) => e.id),
  );
  const carolAt = all.find((e) => e.target === 'carol')!.at;
  const window = (
    await get(`/api/admin/audit?from=${encodeURIComponent(carolAt)}&to=${encodeURIComponent(new Date().toISOString())}`)
  ).json<AuditPage>().items;
  assert.ok(window.some((e) => e.target === 'carol'));
  assert.ok(!window.some((e) => e.action === 'setup.completed'));
});

test('bad filters, cursors and limits are 400 VALIDATION_FAILED naming the field, and the routes need a token', async () => {
  assertBadRequest(await get('/api/admin/audit?from=yesterday'), 'from');
  assertBadRequest(await get('/api/admin/audit?to=2026-13-45T00:00:00Z'), 'to');
  assertBadRequest(await get('/api/admin/audit?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z'), 'from');
  assertBadRequest(await get('/api/admin/audit?cursor=not-a-cursor'), 'cursor');
  assertBadRequest(await get(`/api/admin/audit?cursor=${'x'.repeat(100)}`), 'cursor');
  for (const limit of ['0', '501', '1e300', 'abc', '1.5', '']) {
    assertBadRequest(await get(`/api/admin/audit?limit=${limit}`), 'limit');
  }
  assertBadRequest(await get('/api/admin/audit?actor=a%00b'), 'actor');
  assertBadRequest(await get('/api/admin/audit?target=a&target=b'), 'target');
  assertBadRequest(await get('/api/admin/audit/export?format=xml'), 'format');
  assertBadRequest(await get('/api/admin/audit/export?from=soon'), 'from');
  for (const path of ['/api/admin/audit', '/api/admin/audit/export', '/api/admin/audit/verify']) {
    const res = await server.request('GET', path);
    assert.equal(res.status, 401);
    assert.equal(res.json().code, 'UNAUTHENTICATED');
  }
});

test('GET /api/admin/audit/export streams every match as a JSON or CSV attachment with correct escaping', async () => {
  const audit = server.app.get(AuditService);
  const tricky = 'comma, "quotes"\nand a line break';
  await audit.record({ actor: 'admin:csv', action: 'export.test', target: tricky, details: { formula: '=1+2' } });
  await audit.record({ actor: 'admin:csv', action: 'export.test', target: '=HYPERLINK("x")' });

  const json = await get('/api/admin/audit/export?format=json&actor=admin:csv');
  assert.equal(json.status, 200, json.text());
  assert.match(String(json.headers['content-type']), /^application\/json/);
  assert.match(String(json.headers['content-disposition']), /^attachment; filename="audit-.*\.json"$/);
  const listed = (await get('/api/admin/audit?actor=admin:csv')).json<AuditPage>().items;
  assert.deepEqual(json.json(), listed);
  assert.equal(listed[1].target, tricky);

  const csv = await get('/api/admin/audit/export?format=csv&actor=admin:csv');
  assert.equal(csv.status, 200);
  assert.match(String(csv.headers['content-type']), /^text\/csv/);
  assert.match(String(csv.headers['content-disposition']), /^attachment; filename="audit-.*\.csv"$/);
  const [header, ...rows] = parseCsv(csv.text());
  assert.deepEqual(header, [
    'id',
    'at',
    'actor',
    'action',
    'target',
    'requestId',
    'address',
    'details',
    'before',
    'after',
    'prevHash',
    'hash',
  ]);
  assert.equal(rows.length, 2);
  const col = (name: string) => header.indexOf(name);
  assert.equal(rows[0][col('target')], `'=HYPERLINK("x")`, 'formula-like text is defused');
  assert.equal(rows[1][col('target')], tricky);
  assert.deepEqual(JSON.parse(rows[1][col('details')]), { formula: '=1+2' });
  assert.deepEqual(
    rows.map((r) => r[col('id')]),
    listed.map((e) => e.id),
  );

  const empty = await get('/api/admin/audit/export?actor=nobody');
  assert.deepEqual(empty.json(), []);
  const emptyCsv = await get('/api/admin/audit/export?actor=nobody&format=csv');
  assert.equal(parseCsv(emptyCsv.text()).length, 1);
});

test('the export of many rows arrives whole (read in batches on the server)', async () => {
  const audit = server.app.get(AuditService);
  const n = 1200; // more than one of the server's 1000-row batches
  for (let i = 0; i < n; i += 10) {
    await Promise.all(
      Array.from({ length: 10 }, (_, k) =>
        audit.record({ actor: 'system:bulk', action: 'bulk.test', details: { i: i + k } }),
      ),
    );
  }
  const res = await get('/api/admin/audit/export?actor=system:bulk');
  const items = res.json<AuditItem[]>();
  assert.equal(items.length, n);
  assert.deepEqual(new Set(items.map((e) => (e.details as { i: number }).i)).size, n);
  assert.ok(
    items.every((e, k) => k === 0 || BigInt(items[k - 1].id) > BigInt(e.id)),
    'newest first',
  );
  const csv = parseCsv((await get('/api/admin/audit/export?actor=system:bulk&format=csv')).text());
  assert.equal(csv.length, n + 1);
});

test('GET /api/admin/audit/verify detects a row edited, deleted or inserted with SQL', async () => {
  const ok = (await get('/api/admin/audit/verify')).json<{ ok: boolean; checked: number; lastId: string }>();
  const [{ count }] = await ds.query('SELECT count(*)::int AS count FROM audit_events');
  assert.equal(ok.ok, true);
  assert.equal(ok.checked, count);

  const rows: { id: string; details: unknown; hash: string }[] = await ds.query(
    `SELECT id::text AS id, details, hash FROM audit_events WHERE action = 'user.created' ORDER BY audit_events.id`,
  );
  const [edited, middle, afterMiddle] = rows;
  const verify = async () => (await get('/api/admin/audit/verify')).json<{ ok: boolean; firstBrokenId?: string }>();

  await ds.query(`UPDATE audit_events SET details = '{"source":"ldap"}' WHERE id = $1`, [edited.id]);
  assert.deepEqual(await verify(), { ok: false, checked: Number(edited.id), firstBrokenId: edited.id });
  await ds.query(`UPDATE audit_events SET details = $2 WHERE id = $1`, [edited.id, JSON.stringify(edited.details)]);
  assert.equal((await verify()).ok, true);

  const saved = await ds.query('SELECT * FROM audit_events WHERE id = $1', [middle.id]);
  await ds.query('DELETE FROM audit_events WHERE id = $1', [middle.id]);
  const deleted = await verify();
  assert.equal(deleted.ok, false);
  assert.equal(deleted.firstBrokenId, String(Number(middle.id) + 1));
  await ds.query(`INSERT INTO audit_events SELECT * FROM jsonb_populate_record(NULL::audit_events, $1::jsonb)`, [
    JSON.stringify(saved[0]),
  ]);
  assert.equal((await verify()).ok, true);

  const [last] = await ds.query('SELECT id::text AS id, hash FROM audit_events ORDER BY audit_events.id DESC LIMIT 1');
  const forgedId = String(Number(last.id) + 10);
  await ds.query(
    `INSERT INTO audit_events (id, at, actor, action, target, prev_hash, hash)
     VALUES ($1, now(), 'admin:admin', 'user.created', 'mallory', $2, $3)`,
    [forgedId, last.hash, afterMiddle.hash],
  );
  assert.deepEqual((await verify()).firstBrokenId, forgedId);
  await ds.query('DELETE FROM audit_events WHERE id = $1', [forgedId]);
  assert.equal((await verify()).ok, true);
});
