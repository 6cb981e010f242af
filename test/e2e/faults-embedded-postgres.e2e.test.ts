/**
 * Fault injection on the embedded PostgreSQL (issue 14): `kill -9` of the server leaves its postmaster
 * behind, and the next start must stop it and start cleanly; `kill -9` of the postmaster under load gives
 * 503 DATABASE_UNAVAILABLE (never 500) and a failing /healthz until the supervisor has restarted it, and
 * service resumes without restarting the server.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { freePort } from '../../apps/server/src/database/embedded-postgres';
import { httpsRequest } from '../support/server';
import { baseServerEnv, ServerProcess, startServerProcess } from '../support/server-process';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-faults-'));
fs.chmodSync(dataDir, 0o755);
const started: ServerProcess[] = [];
after(async () => {
  for (const s of started) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  const pid = postmasterPid();
  if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function postmasterPid(): number | undefined {
  try {
    return Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function adminToken(url: string): Promise<string> {
  const login = await httpsRequest(`${url}/api/admin/login`, 'POST', {
    body: { username: 'admin', password: 'process-password' },
  });
  assert.equal(login.status, 200, login.text());
  return login.json<{ access_token: string }>().access_token;
}

test(
  'kill -9 of the server, then a restart: the leftover postmaster is stopped and the server starts cleanly',
  { timeout: 300_000 },
  async () => {
    const port = await freePort();
    const first = await startServerProcess(baseServerEnv(dataDir, port));
    started.push(first);
    const token = await adminToken(first.url);
    const created = await httpsRequest(`${first.url}/api/admin/users`, 'POST', {
      token,
      body: { username: 'survivor', password: 'survivor-password' },
    });
    assert.equal(created.status, 201, created.text());
    const leftover = postmasterPid();
    assert.ok(leftover && alive(leftover));

    first.child.kill('SIGKILL');
    await first.exited;
    assert.ok(alive(leftover), 'kill -9 of the server leaves its PostgreSQL running');

    const second = await startServerProcess(baseServerEnv(dataDir, port));
    started.push(second);
    const logs = second.logs.join('');
    const line = logs.split('\n').find((l) => l.includes('left running on this data directory'));
    assert.ok(line, logs);
    assert.ok([30, 'info'].includes(JSON.parse(line).level), 'the leftover is reported at info level');
    assert.equal(JSON.parse(line).pid, leftover);
    assert.equal(alive(leftover), false);
    const user = await httpsRequest(`${second.url}/api/admin/users/survivor`, 'GET', {
      token: await adminToken(second.url),
    });
    assert.equal(user.status, 200, user.text());
  },
);

test(
  'kill -9 of the embedded postmaster under load: 503 DATABASE_UNAVAILABLE while down, then recovery without a server restart',
  { timeout: 300_000 },
  async () => {
    const server = started.at(-1) as ServerProcess;
    const token = await adminToken(server.url);
    const statuses = new Map<number, number>();
    const unavailableBodies: Record<string, unknown>[] = [];
    const others: Record<string, unknown>[] = [];
    let healthDown: Record<string, unknown> | undefined;
    let stop = false;
    // Four concurrent clients, so requests are in flight inside the database when it dies.
    const worker = async () => {
      while (!stop) {
        const res = await httpsRequest(`${server.url}/api/admin/users/survivor`, 'GET', { token });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 503) unavailableBodies.push(res.json());
        if (res.status >= 500 && res.status !== 503) others.push(res.json());
      }
    };
    const load = Promise.all([worker(), worker(), worker(), worker()]);
    await new Promise((r) => setTimeout(r, 500));
    const pid = postmasterPid() as number;
    process.kill(pid, 'SIGKILL');

    // Down: /healthz says so with a reason; then the supervisor brings PostgreSQL back.
    const deadline = Date.now() + 90_000;
    let recovered = false;
    while (Date.now() < deadline) {
      const h = await httpsRequest(`${server.url}/healthz`, 'GET');
      if (h.status === 503) healthDown ??= h.json();
      const newPid = postmasterPid();
      if (h.status === 200 && healthDown && newPid && newPid !== pid) {
        const probe = await httpsRequest(`${server.url}/api/admin/users/survivor`, 'GET', { token });
        if (probe.status === 200) {
          recovered = true;
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    stop = true;
    await load;
    assert.ok(recovered, `no recovery: ${JSON.stringify([...statuses])}\n${server.logs.join('').slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
    const logLines = server.logs.join('').split('\n');
    assert.deepEqual(
      others.map((b) => [b, logLines.filter((l) => l.includes(String(b.requestId)))]),
      [],
      'no other 5xx than 503 while the database was down',
    );
    assert.ok(healthDown, '/healthz reported the database down');
    assert.equal(healthDown.code, 'DATABASE_UNAVAILABLE');
    assert.match(String((healthDown.details as { reason?: string }).reason), /killed by SIGKILL/);
    assert.ok((statuses.get(503) ?? 0) > 0, `503s while down: ${JSON.stringify([...statuses])}`);
    for (const b of unavailableBodies) {
      assert.equal(b.code, 'DATABASE_UNAVAILABLE');
      assert.equal(b.statusCode, 503);
    }
    assert.equal(server.child.exitCode, null, 'the server process kept running');
    const logs = server.logs.join('');
    assert.match(logs, /the embedded PostgreSQL is running again/);
    assert.match(logs, /"level":(50|"error")[^\n]*killed by SIGKILL/, 'the death is logged at error level');

    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  },
);

test(
  'a start failure of the embedded PostgreSQL logs its real reason at error level and exits',
  { timeout: 120_000 },
  async () => {
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-broken-'));
    fs.chmodSync(broken, 0o755);
    try {
      // A cluster directory that looks initialised but is not (no postgresql.conf).
      fs.mkdirSync(path.join(broken, 'postgres'), { mode: 0o700 });
      fs.writeFileSync(path.join(broken, 'postgres', 'PG_VERSION'), '99\n');
      const port = await freePort();
      await assert.rejects(startServerProcess(baseServerEnv(broken, port), 60_000), (err: Error) => {
        const lines = err.message.split('\n').filter((l) => l.startsWith('{'));
        const failure = lines
          .map((l) => JSON.parse(l) as { level: number | string; msg: string })
          .find((l) => [50, 'error'].includes(l.level) && /did not start/.test(l.msg));
        assert.ok(failure, err.message);
        assert.match(
          failure.msg,
          /could not access the server configuration file/,
          'PostgreSQL’s own words are in the line',
        );
        return true;
      });
    } finally {
      fs.rmSync(broken, { recursive: true, force: true });
    }
  },
);
