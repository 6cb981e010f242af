/**
 * Redis unavailable (issue 14): with REDIS_URL set and Redis killed, enrollment and name lookups keep
 * working; the key-pool refill requested meanwhile is delivered once Redis is back.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { after, test } from 'node:test';
import { DataSource } from 'typeorm';
import { freePort } from '../../apps/server/src/database/embedded-postgres';
import { enroll, enrollOk, makeDevice } from '../support/jami-client';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';
import { findExecutable, missingPackageReason } from '../support/system';

const unavailable = missingPackageReason('redis-server', 'redis-server');
let redis: ChildProcess | undefined;
let server: TestServer | undefined;
after(async () => {
  await server?.close();
  redis?.kill('SIGKILL');
  await stopTestPostgres();
});

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write('PING\r\n'));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.once('error', () => resolve(false));
  });
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    findExecutable('redis-server') as string,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100 && !(await ping(port)); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(await ping(port), 'redis-server started');
  return child;
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms)),
  ]);

test(
  'Redis down: enrollment and lookups keep working; the refill queued meanwhile runs when it is back',
  { skip: unavailable, timeout: 240_000 },
  async () => {
    const port = await freePort();
    redis = await startRedis(port);
    server = await startTestServer({ REDIS_URL: `redis://127.0.0.1:${port}`, ENCLAVE_KEY_POOL_SIZE: '1' });
    const admin = await setUp(server);
    for (const username of ['alice', 'bob', 'carol']) {
      const res = await server.request('POST', '/api/admin/users', {
        token: admin,
        body: { username, password: `${username}-password` },
      });
      assert.equal(res.status, 201, res.text());
    }
    await enrollOk(server, 'alice', 'alice-password');
    const ds = server.app.get(DataSource);
    const poolSize = async () => (await ds.query(`SELECT count(*)::int AS n FROM account_key_pool`))[0].n as number;
    const waitForPool = async (what: string) => {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline && (await poolSize()) < 1) await new Promise((r) => setTimeout(r, 500));
      assert.ok((await poolSize()) >= 1, what);
    };
    await waitForPool('the pool holds a key before Redis goes down');

    redis.kill('SIGKILL');
    await new Promise((r) => redis?.once('exit', r));
    assert.equal(await ping(port), false);

    const res = await within(enroll(server, 'bob', 'bob-password', makeDevice()), 60_000, 'enrollment with Redis down');
    assert.equal(res.status, 200, res.text());
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await poolSize(), 0, 'bob took the pooled key; no refill can run while Redis is down');
    const lookup = await within(server.request('GET', '/api/nameserver/name/alice'), 10_000, 'name lookup');
    assert.equal(lookup.status, 200, lookup.text());
    const back = await within(
      server.request('GET', `/api/nameserver/addr/${String(lookup.json().addr)}`),
      10_000,
      'address lookup',
    );
    assert.equal(back.status, 200, back.text());
    assert.equal(back.json().name, 'alice');

    // Redis returns: the refill requested meanwhile is delivered and the in-process workers top the pool up.
    redis = await startRedis(port);
    await waitForPool('the key pool was refilled after Redis came back');
    const carol = await within(enroll(server, 'carol', 'carol-password', makeDevice()), 60_000, 'enrollment after');
    assert.equal(carol.status, 200, carol.text());
  },
);
