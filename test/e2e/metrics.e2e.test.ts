import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import parsePrometheusTextFormat, { PrometheusFamily } from 'parse-prometheus-text-format';
import { DataSource } from 'typeorm';
import { basic, enrollOk } from '../support/jami-client';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

const METRICS_TOKEN = 'prometheus-scrape-token-0123456789';
const MASTER_KEY = randomBytes(32).toString('hex');
let server: TestServer;
let admin: string;

before(async () => {
  server = await startTestServer({
    ENCLAVE_METRICS_TOKEN: METRICS_TOKEN,
    ENCLAVE_LOGIN_MAX_FAILURES: '50',
    ENCLAVE_MASTER_KEY: MASTER_KEY,
  });
  admin = await setUp(server);
  for (const username of ['alice', 'bob']) {
    const res = await server.request('POST', '/api/admin/users', {
      token: admin,
      body: { username, password: `${username}-password` },
    });
    assert.equal(res.status, 201, res.text());
  }
});
after(async () => {
  await server?.close();
  await stopTestPostgres();
});

/**
 * Checks an exposition with the reference parser and linter, Prometheus's own `promtool check metrics`.
 * prom-client's default `nodejs_active_*_total` gauges are the only lint findings allowed.
 */
function promtoolCheck(text: string): void {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.ok(!run.error, `promtool (Debian package prometheus) must be installed: ${String(run.error)}`);
  const problems = `${run.stdout}${run.stderr}`
    .split('\n')
    .filter(
      (l) => l.trim() && !/^nodejs_active_\w+_total non-counter metrics should not have "_total" suffix$/.test(l),
    );
  assert.deepEqual(problems, [], 'promtool check metrics');
  assert.ok(run.status === 0 || run.status === 3, `promtool exit ${run.status}`);
}

let lastText = '';

async function scrape(target: TestServer = server, token = METRICS_TOKEN): Promise<PrometheusFamily[]> {
  const res = await target.request('GET', '/metrics', { token });
  assert.equal(res.status, 200, res.text());
  const type = String(res.headers['content-type']);
  assert.match(type, /^text\/plain;/);
  assert.match(type, /version=0\.0\.4/);
  lastText = res.text();
  promtoolCheck(lastText);
  return parsePrometheusTextFormat(lastText);
}

/**
 * The `_count` series of a histogram with their labels. (parse-prometheus-text-format folds the series of
 * a labelled histogram into one, so the count lines are parsed on their own, as an untyped family.)
 */
function histogramCounts(text: string, name: string) {
  const lines = text.split('\n').filter((l) => l.startsWith(`${name}_count{`));
  const [f] = parsePrometheusTextFormat(`${lines.join('\n')}\n`);
  return (f?.metrics ?? []).map((m) => ({ labels: m.labels ?? {}, count: Number(m.value) }));
}

function family(families: PrometheusFamily[], name: string): PrometheusFamily {
  const f = families.find((x) => x.name === name);
  assert.ok(f, `metric ${name} is exported`);
  return f;
}

/** The value of the one sample of `name` whose labels include `labels` (0 when `absent` allows none). */
function value(families: PrometheusFamily[], name: string, labels: Record<string, string> = {}, absent?: 0): number {
  const matches = family(families, name).metrics.filter((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  if (matches.length === 0 && absent !== undefined) return absent;
  assert.equal(matches.length, 1, `${name}${JSON.stringify(labels)}: ${matches.length} samples`);
  return Number(matches[0].value);
}

test('GET /metrics needs ENCLAVE_METRICS_TOKEN or an admin token; anything else is 401 JSON', async () => {
  const login = await server.request('POST', '/api/login', {
    body: {},
    headers: { authorization: basic('alice', 'alice-password') },
  });
  const userToken = login.json<{ access_token: string }>().access_token;
  for (const token of [undefined, 'wrong-token', METRICS_TOKEN.slice(0, -1), `${METRICS_TOKEN}x`, userToken]) {
    const res = await server.request('GET', '/metrics', { token });
    assert.equal(res.status, 401, `token ${String(token).slice(0, 12)}`);
    assert.equal(res.json().code, 'UNAUTHENTICATED');
  }
  const basicAuth = await server.request('GET', '/metrics', {
    headers: { authorization: basic('admin', 'admin-password-1') },
  });
  assert.equal(basicAuth.status, 401);
  await scrape(server, METRICS_TOKEN);
  await scrape(server, admin);
});

test('the exposition parses and carries the business, queue, pool, HTTP and process metrics', async () => {
  const m = await scrape();
  assert.equal(family(m, 'enclave_enrollments_total').type, 'COUNTER');
  assert.equal(family(m, 'enclave_users').type, 'GAUGE');
  assert.equal(family(m, 'enclave_http_request_duration_seconds').type, 'HISTOGRAM');
  assert.equal(value(m, 'enclave_users', { status: 'active', source: 'local' }), 2);
  assert.equal(value(m, 'enclave_users', { status: 'suspended', source: 'local' }), 0);
  assert.equal(value(m, 'enclave_devices', { status: 'active' }), 0);
  for (const kind of ['admin', 'device', 'user']) {
    for (const outcome of ['success', 'failure']) value(m, 'enclave_logins_total', { kind, outcome });
  }
  for (const state of ['waiting', 'active', 'delayed', 'failed']) {
    assert.ok(value(m, 'enclave_queue_jobs', { queue: 'directory-sync', state }) >= 0);
  }
  assert.equal(value(m, 'enclave_metrics_source_up', { source: 'database' }), 1);
  assert.equal(value(m, 'enclave_metrics_source_up', { source: 'queue' }), 1);
  assert.ok(value(m, 'enclave_db_pool_connections', { state: 'total' }) >= 1);
  assert.ok(value(m, 'enclave_db_pool_connections', { state: 'idle' }) >= 0);
  assert.equal(value(m, 'enclave_db_pool_connections', { state: 'waiting' }), 0);
  assert.equal(value(m, 'enclave_db_pool_max_connections'), 20);
  assert.ok(value(m, 'process_cpu_user_seconds_total') > 0);
  family(m, 'nodejs_heap_size_used_bytes');
});

test('enrollment, revocation and login counters move with what happened, and route labels are templates', async () => {
  const before = await scrape();
  const enrolled = await enrollOk(server, 'alice', 'alice-password');
  await enrollOk(server, 'bob', 'bob-password');
  const revoke = await server.request('DELETE', `/api/admin/users/alice/devices/${enrolled.device.deviceId}`, {
    token: admin,
  });
  assert.equal(revoke.status, 200, revoke.text());
  const wrong = await server.request('POST', '/api/admin/login', {
    body: { username: 'admin', password: 'nope-nope' },
  });
  assert.equal(wrong.status, 401);
  await server.request('GET', '/api/admin/users/bob', { token: admin });

  const after = await scrape();
  const delta = (name: string, labels: Record<string, string> = {}) =>
    value(after, name, labels) - value(before, name, labels, 0);
  assert.equal(delta('enclave_enrollments_total', { kind: 'new' }), 2);
  assert.equal(delta('enclave_revocations_total', { kind: 'device' }), 1);
  assert.equal(delta('enclave_logins_total', { kind: 'admin', outcome: 'failure' }), 1);
  assert.equal(delta('enclave_audit_events_total', { action: 'device.enrolled' }), 2);
  assert.equal(value(after, 'enclave_devices', { status: 'active' }), 1);
  assert.equal(value(after, 'enclave_devices', { status: 'revoked' }), 1);

  const counts = histogramCounts(lastText, 'enclave_http_request_duration_seconds');
  const routes = new Set(counts.map((s) => s.labels.route ?? ''));
  for (const r of ['/api/admin/users/:username', '/api/admin/users/:username/devices/:deviceId', '/api/auth/device']) {
    assert.ok(routes.has(r), `route ${r} in ${[...routes].join(', ')}`);
  }
  for (const r of routes) {
    assert.ok(!/alice|bob|[0-9a-f]{40}/.test(r), `route label ${r} holds no name or id`);
  }
  const revocations = counts.filter((s) => s.labels.route === '/api/admin/users/:username/devices/:deviceId');
  assert.deepEqual(revocations, [
    {
      labels: { method: 'DELETE', route: '/api/admin/users/:username/devices/:deviceId', status_class: '2xx' },
      count: 1,
    },
  ]);
});

test('directory sync runs are counted by outcome with their duration', async () => {
  const ds = server.app.get(DataSource);
  await ds.query(
    `INSERT INTO directory_sync_runs (mode, status, trigger, started_at, finished_at)
     VALUES ('full', 'succeeded', 'test', now() - interval '10 minutes', now() - interval '10 minutes' + interval '2.5 seconds'),
            ('incremental', 'failed', 'test', now() - interval '1 minute', now() - interval '1 minute' + interval '0.5 seconds'),
            ('full', 'queued', 'test', NULL, NULL)`,
  );
  const m = await scrape();
  assert.equal(value(m, 'enclave_directory_sync_runs_total', { outcome: 'succeeded' }), 1);
  assert.equal(value(m, 'enclave_directory_sync_runs_total', { outcome: 'failed' }), 1);
  assert.equal(value(m, 'enclave_directory_sync_runs_total', { outcome: 'queued' }), 1);
  assert.equal(value(m, 'enclave_directory_sync_duration_seconds_total', { outcome: 'succeeded' }), 2.5);
  assert.equal(value(m, 'enclave_directory_sync_last_duration_seconds', { outcome: 'failed' }), 0.5);
});

test('another replica on the same database reports the same totals (counts live in the database)', async () => {
  const replica = await startTestServer({
    DATABASE_URL: server.db.url,
    ENCLAVE_METRICS_TOKEN: METRICS_TOKEN,
    ENCLAVE_MASTER_KEY: MASTER_KEY,
  });
  try {
    const [a, b] = [await scrape(server), await scrape(replica)];
    for (const [name, labels] of [
      ['enclave_enrollments_total', { kind: 'new' }],
      ['enclave_revocations_total', { kind: 'device' }],
      ['enclave_logins_total', { kind: 'admin', outcome: 'failure' }],
      ['enclave_users', { status: 'active', source: 'local' }],
    ] as [string, Record<string, string>][]) {
      assert.equal(value(b, name, labels), value(a, name, labels), name);
    }
    assert.equal(value(b, 'enclave_enrollments_total', { kind: 'new' }), 2);
  } finally {
    await replica.close();
  }
});
