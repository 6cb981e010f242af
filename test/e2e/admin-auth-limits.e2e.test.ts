import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DataSource } from 'typeorm';
import { base32Decode, totp } from '../../apps/server/src/modules/auth/totp';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

let server: TestServer;
let owner: string;

before(async () => {
  server = await startTestServer({ ENCLAVE_LOGIN_MAX_FAILURES: '5', ENCLAVE_LOGIN_WINDOW_SECONDS: '900' });
  owner = await setUp(server);
});
after(async () => {
  await server?.close();
  await stopTestPostgres();
});

const login = (body: Record<string, string>) => server.request('POST', '/api/admin/login', { body });

test('40 parallel wrong passwords: exactly 5 are checked (401), 35 are refused up front (429 with Retry-After)', async () => {
  const created = await server.request('POST', '/api/admin/admins', {
    token: owner,
    body: { username: 'victim', password: 'victim-password', role: 'admin' },
  });
  assert.equal(created.status, 201, created.text());
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) => login({ username: 'victim', password: `guess-number-${i}` })),
  );
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 401).length, 5, statuses.join(','));
  assert.equal(statuses.filter((s) => s === 429).length, 35);
  for (const r of results.filter((x) => x.status === 429)) {
    assert.equal(r.json().code, 'TOO_MANY_ATTEMPTS');
    assert.ok(Number(r.headers['retry-after']) > 0);
  }
  const ds = server.app.get(DataSource);
  const [{ n }] = await ds.query(
    "SELECT count(*)::int AS n FROM audit_events WHERE action = 'admin.login_failed' AND target = 'victim'",
  );
  assert.equal(n, 5, 'every checked failure is audited');
  // Even the right password is refused while the limit holds (no TOTP enrolled).
  assert.equal((await login({ username: 'victim', password: 'victim-password' })).status, 429);
});

test('a locked-out owner still gets in with the right password and a valid TOTP code; nothing else does', async () => {
  const enrol = await server.request('POST', '/api/admin/me/mfa/totp', { token: owner });
  const secret = base32Decode(enrol.json<{ secret: string }>().secret);
  const now = () => Math.floor(Date.now() / 1000);
  const confirm = await server.request('POST', '/api/admin/me/mfa/totp/confirm', {
    token: owner,
    body: { code: totp(secret, now()) },
  });
  assert.equal(confirm.status, 200, confirm.text());

  for (let i = 0; i < 5; i++) {
    const r = await login({ username: 'admin', password: `wrong-${i}`, totp: totp(secret, now() + 3600) });
    assert.equal(r.status, 401);
  }
  const valid = totp(secret, now() + 30);
  assert.equal((await login({ username: 'admin', password: 'admin-password-1' })).status, 429, 'no code');
  assert.equal(
    (await login({ username: 'admin', password: 'admin-password-1', totp: totp(secret, now() + 3600) })).status,
    429,
    'a wrong code',
  );
  assert.equal(
    (await login({ username: 'admin', password: 'wrong-again', totp: valid })).status,
    429,
    'a wrong password',
  );
  const ok = await login({ username: 'admin', password: 'admin-password-1', totp: valid });
  assert.equal(ok.status, 200, ok.text());
  const ds = server.app.get(DataSource);
  const [row] = await ds.query(
    "SELECT details FROM audit_events WHERE action = 'admin.login' ORDER BY id DESC LIMIT 1",
  );
  assert.equal(row.details.pastRateLimit, true);
  // The code is spent: replaying it is refused, locked out or not.
  assert.notEqual((await login({ username: 'admin', password: 'admin-password-1', totp: valid })).status, 200);
});
