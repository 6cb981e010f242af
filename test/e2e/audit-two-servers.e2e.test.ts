import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DataSource } from 'typeorm';
import { freePort } from '../../apps/server/src/database/embedded-postgres';
import { stopTestPostgres } from '../support/postgres';
import { httpsRequest, setUp, startTestServer, TestServer } from '../support/server';

// Two server processes on one database: this test process and a child started from main.ts.

const root = path.resolve(__dirname, '..', '..');
const masterKey = randomBytes(32).toString('hex');
let server: TestServer;
let token: string;
let child: ChildProcess | undefined;
let childUrl: string;
let childDataDir: string;
const childLogs: string[] = [];

before(async () => {
  server = await startTestServer({ ENCLAVE_MASTER_KEY: masterKey });
  token = await setUp(server);
  childDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-audit-second-'));
  const port = await freePort();
  childUrl = `https://127.0.0.1:${port}`;
  child = spawn(process.execPath, ['-r', './scripts/register.cjs', 'apps/server/src/main.ts'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      DATABASE_URL: server.databaseUrl,
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
      ENCLAVE_DATA_DIR: childDataDir,
      ENCLAVE_PORT: String(port),
      ENCLAVE_HOST: '127.0.0.1',
      ENCLAVE_DHT_PORT: '0', // tests run in parallel: no DHT node on the default UDP 4222
      ENCLAVE_PUBLIC_URL: 'https://127.0.0.1:8443',
      ENCLAVE_MASTER_KEY: masterKey,
      ENCLAVE_KEY_POOL_SIZE: '0',
      ENCLAVE_RUN_WORKERS: 'false',
      LOG_LEVEL: 'warn',
    },
  });
  child.stdout?.on('data', (d: Buffer) => childLogs.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => childLogs.push(d.toString()));
  const deadline = Date.now() + 120_000;
  for (;;) {
    const up = await httpsRequest(`${childUrl}/healthz`, 'GET').then(
      (r) => r.status === 200,
      () => false,
    );
    if (up) break;
    if (child.exitCode !== null) throw new Error(`second server exited:\n${childLogs.join('')}`);
    if (Date.now() > deadline) throw new Error(`second server did not start:\n${childLogs.join('')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
});

after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await server?.close();
  if (childDataDir) fs.rmSync(childDataDir, { recursive: true, force: true });
  await stopTestPostgres();
});

test('two server processes recording at once on one database append a single unbroken chain', async () => {
  const n = 30;
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) => {
      const base = i % 2 ? server.localUrl : childUrl;
      return httpsRequest(`${base}/api/admin/users`, 'POST', {
        token,
        headers: { 'x-request-id': `race-${i}` },
        body: { username: `racer${i}`, password: 'racer-password' },
      });
    }),
  );
  for (const r of results) assert.equal(r.status, 201, r.text());

  const ds = server.app.get(DataSource);
  const rows: { request_id: string | null; prev_hash: string; hash: string }[] = await ds.query(
    'SELECT request_id, prev_hash, hash FROM audit_events ORDER BY audit_events.id',
  );
  const raced = rows.filter((r) => r.request_id?.startsWith('race-'));
  assert.equal(raced.length, n, 'each creation recorded with its request id, whichever server took it');
  assert.equal(new Set(rows.map((r) => r.prev_hash)).size, rows.length, 'no two rows chain to the same row');
  for (let i = 1; i < rows.length; i++) assert.equal(rows[i].prev_hash, rows[i - 1].hash);

  for (const base of [server.localUrl, childUrl]) {
    const verify = await httpsRequest(`${base}/api/admin/audit/verify`, 'GET', { token });
    assert.equal(verify.status, 200, verify.text());
    assert.deepEqual({ ok: verify.json().ok, checked: verify.json().checked }, { ok: true, checked: rows.length });
  }
});
