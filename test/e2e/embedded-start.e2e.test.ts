import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { freePort } from '../../apps/server/src/database/embedded-postgres';
import { httpsRequest } from '../support/server';

const root = path.resolve(__dirname, '..', '..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-embedded-'));
fs.chmodSync(dataDir, 0o755);
after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  port: number;
  logs: string[];
  exited: Promise<number | null>;
}

async function startServerProcess(port: number): Promise<Started> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ENCLAVE_DATA_DIR: dataDir,
    ENCLAVE_PORT: String(port),
    ENCLAVE_HOST: '127.0.0.1',
    ENCLAVE_DHT_PORT: '0', // tests run in parallel: no DHT node on the default UDP 4222
    ENCLAVE_PUBLIC_URL: `https://localhost:${port}`,
    ENCLAVE_ADMIN_USER: 'admin',
    ENCLAVE_ADMIN_PASSWORD: 'embedded-password',
    ENCLAVE_CA_ALGORITHM: 'P-256',
    ENCLAVE_KEY_POOL_SIZE: '1',
    LOG_LEVEL: 'info',
  };
  const child = spawn(process.execPath, ['-r', './scripts/register.cjs', 'apps/server/src/main.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  child.stdout?.on('data', (d: Buffer) => logs.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const res = await httpsRequest(`https://127.0.0.1:${port}/healthz`, 'GET');
      if (res.status === 200) break;
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null) throw new Error(`server exited early:\n${logs.join('')}`);
    if (Date.now() > deadline) throw new Error(`server did not start:\n${logs.join('')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { child, port, logs, exited };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

test(
  'without DATABASE_URL the server runs on an embedded PostgreSQL under the data dir, stops it on SIGTERM, and keeps data across restarts',
  { timeout: 300_000 },
  async () => {
    const port = await freePort();
    const first = await startServerProcess(port);
    let pgPort: number | undefined;
    try {
      const ready = await httpsRequest(`https://127.0.0.1:${port}/readyz`, 'GET');
      assert.equal(ready.status, 200, ready.text());
      assert.deepEqual(ready.json().checks, { database: 'ok', migrations: 'ok' });
      assert.ok(
        fs.existsSync(path.join(dataDir, 'postgres', 'PG_VERSION')),
        'the cluster lives under ENCLAVE_DATA_DIR',
      );
      assert.equal(fs.statSync(path.join(dataDir, 'master.key')).mode & 0o777, 0o600);
      const logText = first.logs.join('');
      assert.match(logText, /NEW MASTER KEY WAS GENERATED/);
      assert.ok(!logText.includes('embedded-password'), 'the admin password never reaches the logs');
      pgPort = Number(/"port":(\d+),"dir":"[^"]*postgres"/.exec(logText)?.[1]);
      assert.ok(pgPort > 0, 'the embedded PostgreSQL port is logged');
      assert.equal(await portOpen(pgPort), true);

      const login = await httpsRequest(`https://127.0.0.1:${port}/api/admin/login`, 'POST', {
        body: { username: 'admin', password: 'embedded-password' },
      });
      assert.equal(login.status, 200);
      const token = login.json<{ access_token: string }>().access_token;
      const created = await httpsRequest(`https://127.0.0.1:${port}/api/admin/users`, 'POST', {
        token,
        body: { username: 'persisted', password: 'persisted-password' },
      });
      assert.equal(created.status, 201);
    } finally {
      first.child.kill('SIGTERM');
    }
    assert.equal(await first.exited, 0, first.logs.join(''));
    assert.equal(await portOpen(pgPort as number), false, 'PostgreSQL stopped with the server');

    const second = await startServerProcess(port);
    try {
      const login = await httpsRequest(`https://127.0.0.1:${port}/api/admin/login`, 'POST', {
        body: { username: 'admin', password: 'embedded-password' },
      });
      assert.equal(login.status, 200);
      const token = login.json<{ access_token: string }>().access_token;
      const user = await httpsRequest(`https://127.0.0.1:${port}/api/admin/users/persisted`, 'GET', { token });
      assert.equal(user.status, 200);
      assert.doesNotMatch(second.logs.join(''), /NEW MASTER KEY/);
    } finally {
      second.child.kill('SIGINT');
    }
    assert.equal(await second.exited, 0);
  },
);
