import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { DataSource } from 'typeorm';
import { base32Decode, totp } from '../../apps/server/src/modules/auth/totp';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestResponse, TestServer } from '../support/server';

let server: TestServer;
let owner: string;
const logLines: string[] = [];

before(async () => {
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => logLines.push(...d.toString().split('\n').filter(Boolean)));
  server = await startTestServer({ LOG_LEVEL: 'info', ENCLAVE_LOGIN_MAX_FAILURES: '5' }, stream);
  owner = await setUp(server);
});
after(async () => {
  await server?.close();
  await stopTestPostgres();
});

const db = () => server.app.get(DataSource);
const code = (secret: string, offsetSeconds = 0) =>
  totp(base32Decode(secret), Math.floor(Date.now() / 1000) + offsetSeconds);

async function login(username: string, password: string, extra: Record<string, string> = {}): Promise<TestResponse> {
  return server.request('POST', '/api/admin/login', { body: { username, password, ...extra } });
}

async function tokenFor(username: string, password: string, extra: Record<string, string> = {}): Promise<string> {
  const res = await login(username, password, extra);
  assert.equal(res.status, 200, res.text());
  return res.json<{ access_token: string }>().access_token;
}

async function createAdmin(username: string, role: string, password = `${username}-password`): Promise<string> {
  const res = await server.request('POST', '/api/admin/admins', { token: owner, body: { username, password, role } });
  assert.equal(res.status, 201, res.text());
  return tokenFor(username, password);
}

function expectError(res: TestResponse, status: number, errorCode: string): void {
  assert.equal(res.status, status, res.text());
  assert.equal(res.json().code, errorCode, res.text());
}

test('the setup admin is an owner; login returns a session id; GET /api/admin/me describes the caller', async () => {
  const res = await login('admin', 'admin-password-1');
  assert.equal(res.status, 200);
  const body = res.json<{ access_token: string; expires_in: number; scope: string; session_id: string }>();
  assert.equal(body.scope, 'ADMIN');
  assert.equal(body.expires_in, 43200, 'the absolute lifetime defaults to ENCLAVE_ADMIN_TOKEN_TTL (12 h)');
  assert.match(body.session_id, /^[0-9a-f-]{36}$/);
  const me = await server.request('GET', '/api/admin/me', { token: body.access_token });
  assert.equal(me.status, 200);
  assert.deepEqual(
    { ...me.json<Record<string, unknown>>(), id: undefined },
    {
      id: undefined,
      username: 'admin',
      role: 'owner',
      mfaEnabled: false,
      mfaSetupRequired: false,
      sessionId: body.session_id,
    },
  );
  const audit = await db().query(
    "SELECT actor, details FROM audit_events WHERE action = 'admin.login' ORDER BY id DESC LIMIT 1",
  );
  assert.equal(audit[0].actor, 'admin:admin');
  assert.equal(audit[0].details.sessionId, body.session_id);
});

test('owners manage admins; bad input is a 4xx naming the field and writes nothing', async () => {
  const before = await db().query('SELECT count(*)::int AS n FROM admins');
  for (const [body, status, errorCode] of [
    [{ username: 'ok-name', password: 'short', role: 'admin' }, 400, 'PASSWORD_TOO_SHORT'],
    [{ username: 'Bad Name', password: 'long-enough-pw', role: 'admin' }, 400, 'VALIDATION_FAILED'],
    [{ username: 'ok-name', password: 'long-enough-pw', role: 'root' }, 400, 'VALIDATION_FAILED'],
    [{ username: 'admin', password: 'long-enough-pw', role: 'admin' }, 409, 'ADMIN_EXISTS'],
    [{ username: 'ok-name\u0000', password: 'long-enough-pw', role: 'admin' }, 400, 'VALIDATION_FAILED'],
  ] as [unknown, number, string][]) {
    expectError(await server.request('POST', '/api/admin/admins', { token: owner, body }), status, errorCode);
  }
  assert.deepEqual(await db().query('SELECT count(*)::int AS n FROM admins'), before);

  await createAdmin('carol', 'admin');
  const list = await server.request('GET', '/api/admin/admins', { token: owner });
  assert.equal(list.status, 200);
  const carol = list
    .json<{ username: string; role: string; disabled: boolean; mfaEnabled: boolean }[]>()
    .find((a) => a.username === 'carol');
  assert.deepEqual(
    { role: carol?.role, disabled: carol?.disabled, mfaEnabled: carol?.mfaEnabled },
    { role: 'admin', disabled: false, mfaEnabled: false },
  );
  expectError(
    await server.request('PATCH', '/api/admin/admins/nobody', { token: owner, body: { role: 'admin' } }),
    404,
    'ADMIN_NOT_FOUND',
  );
  expectError(
    await server.request('PATCH', '/api/admin/admins/carol', { token: owner, body: { role: 'emperor' } }),
    400,
    'VALIDATION_FAILED',
  );
  const patched = await server.request('PATCH', '/api/admin/admins/carol', {
    token: owner,
    body: { role: 'helpdesk' },
  });
  assert.equal(patched.status, 200, patched.text());
  assert.equal(patched.json().role, 'helpdesk');
  const audit = await db().query(
    "SELECT actor, target FROM audit_events WHERE action = 'admin.updated' ORDER BY id DESC LIMIT 1",
  );
  assert.deepEqual(audit[0], { actor: 'admin:admin', target: 'carol' });
  assert.equal((await server.request('DELETE', '/api/admin/admins/carol', { token: owner })).status, 204);
  expectError(await server.request('DELETE', '/api/admin/admins/carol', { token: owner }), 404, 'ADMIN_NOT_FOUND');
});

test('the last active owner cannot be demoted, disabled or deleted (409 LAST_OWNER); with a second owner it can', async () => {
  for (const [method, body] of [
    ['PATCH', { role: 'admin' }],
    ['PATCH', { disabled: true }],
    ['DELETE', undefined],
  ] as [string, unknown][]) {
    expectError(await server.request(method, '/api/admin/admins/admin', { token: owner, body }), 409, 'LAST_OWNER');
  }
  const second = await createAdmin('olivia', 'owner');
  const demoted = await server.request('PATCH', '/api/admin/admins/olivia', { token: owner, body: { role: 'admin' } });
  assert.equal(demoted.status, 200);
  // olivia's session now acts as an admin: owner-only routes refuse it.
  expectError(await server.request('GET', '/api/admin/admins', { token: second }), 403, 'FORBIDDEN');
  await server.request('DELETE', '/api/admin/admins/olivia', { token: owner });
});

test('two owners demoting each other at the same time: one wins, the other is refused (LAST_OWNER, or no longer an owner)', async () => {
  const second = await createAdmin('oscar', 'owner');
  const [a, b] = await Promise.all([
    server.request('PATCH', '/api/admin/admins/oscar', { token: owner, body: { role: 'admin' } }),
    server.request('PATCH', '/api/admin/admins/admin', { token: second, body: { role: 'admin' } }),
  ]);
  const statuses = [a.status, b.status].sort();
  assert.ok(
    (statuses[0] === 200 && statuses[1] === 409) || (statuses[0] === 200 && statuses[1] === 403),
    `${a.status} ${a.text()} / ${b.status} ${b.text()}`,
  );
  const [{ n }] = await db().query("SELECT count(*)::int AS n FROM admins WHERE role = 'owner' AND NOT disabled");
  assert.equal(n, 1, 'exactly one active owner is left');
  // Put the setup admin back as the only owner for the following tests.
  const admins = await db().query("SELECT username, role FROM admins WHERE username IN ('admin', 'oscar')");
  if (admins.find((x: { username: string; role: string }) => x.username === 'admin').role !== 'owner') {
    await db().query("UPDATE admins SET role = 'owner' WHERE username = 'admin'");
  }
  await db().query("DELETE FROM admins WHERE username = 'oscar'");
});

test('disabling an admin ends its sessions and tokens and refuses its logins', async () => {
  const dave = await createAdmin('dave', 'admin');
  const tok = await server.request('POST', '/api/admin/tokens', {
    token: dave,
    body: { name: 'script', role: 'auditor', expiresInDays: 7 },
  });
  assert.equal(tok.status, 201, tok.text());
  assert.equal((await server.request('GET', '/api/admin/me', { token: dave })).status, 200);
  const res = await server.request('PATCH', '/api/admin/admins/dave', { token: owner, body: { disabled: true } });
  assert.equal(res.status, 200);
  assert.equal(res.json().disabled, true);
  expectError(await server.request('GET', '/api/admin/me', { token: dave }), 401, 'UNAUTHENTICATED');
  expectError(
    await server.request('GET', '/api/admin/me', { token: tok.json<{ token: string }>().token }),
    401,
    'UNAUTHENTICATED',
  );
  expectError(await login('dave', 'dave-password'), 401, 'INVALID_CREDENTIALS');
  await server.request('PATCH', '/api/admin/admins/dave', { token: owner, body: { disabled: false } });
  await tokenFor('dave', 'dave-password');
});

test('POST /api/admin/me/password ends every other session of that admin, keeps the current one', async () => {
  await createAdmin('erin', 'helpdesk');
  const a = await tokenFor('erin', 'erin-password');
  const b = await tokenFor('erin', 'erin-password');
  expectError(
    await server.request('POST', '/api/admin/me/password', {
      token: a,
      body: { currentPassword: 'wrong-password', newPassword: 'erin-new-password' },
    }),
    403,
    'PASSWORD_INCORRECT',
  );
  expectError(
    await server.request('POST', '/api/admin/me/password', {
      token: a,
      body: { currentPassword: 'erin-password', newPassword: 'short' },
    }),
    400,
    'PASSWORD_TOO_SHORT',
  );
  const ok = await server.request('POST', '/api/admin/me/password', {
    token: a,
    body: { currentPassword: 'erin-password', newPassword: 'erin-new-password' },
  });
  assert.equal(ok.status, 200, ok.text());
  assert.equal(ok.json().endedSessions, 2, 'b and the createAdmin login session');
  assert.equal((await server.request('GET', '/api/admin/me', { token: a })).status, 200);
  expectError(await server.request('GET', '/api/admin/me', { token: b }), 401, 'UNAUTHENTICATED');
  expectError(await login('erin', 'erin-password'), 401, 'INVALID_CREDENTIALS');
  await tokenFor('erin', 'erin-new-password');
});

test('TOTP: enrol, confirm, then login needs a code; wrong, missing and replayed codes are refused; recovery codes are one-time', async () => {
  const frank = await createAdmin('frank', 'admin');
  const enrol = await server.request('POST', '/api/admin/me/mfa/totp', { token: frank });
  assert.equal(enrol.status, 200, enrol.text());
  const { secret, otpauthUri } = enrol.json<{ secret: string; otpauthUri: string }>();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.equal(new URL(otpauthUri).searchParams.get('secret'), secret);
  const [row] = await db().query("SELECT totp_secret_sealed FROM admins WHERE username = 'frank'");
  assert.ok(row.totp_secret_sealed.startsWith('v1:') && !row.totp_secret_sealed.includes(secret), 'sealed at rest');

  expectError(
    await server.request('POST', '/api/admin/me/mfa/totp/confirm', { token: frank, body: { code: '000000' } }),
    400,
    'MFA_CODE_INVALID',
  );
  const first = code(secret);
  const confirm = await server.request('POST', '/api/admin/me/mfa/totp/confirm', {
    token: frank,
    body: { code: first },
  });
  assert.equal(confirm.status, 200, confirm.text());
  const { recoveryCodes } = confirm.json<{ recoveryCodes: string[] }>();
  assert.equal(recoveryCodes.length, 10);
  assert.equal(new Set(recoveryCodes).size, 10);
  const [stored] = await db().query("SELECT recovery_code_hashes FROM admins WHERE username = 'frank'");
  assert.ok(!JSON.stringify(stored).includes(recoveryCodes[0]), 'recovery codes are stored hashed');
  expectError(await server.request('POST', '/api/admin/me/mfa/totp', { token: frank }), 409, 'MFA_ALREADY_ENABLED');

  expectError(await login('frank', 'frank-password'), 401, 'MFA_REQUIRED');
  expectError(await login('frank', 'frank-password', { totp: code(secret, 3600) }), 401, 'INVALID_CREDENTIALS');
  expectError(await login('frank', 'wrong-password', { totp: code(secret, 30) }), 401, 'INVALID_CREDENTIALS');
  // The code used to confirm is spent; the next step's code (within ±1 step) works once.
  expectError(await login('frank', 'frank-password', { totp: first }), 401, 'INVALID_CREDENTIALS');
  const next = code(secret, 30);
  await tokenFor('frank', 'frank-password', { totp: next });
  expectError(await login('frank', 'frank-password', { totp: next }), 401, 'INVALID_CREDENTIALS');

  const withRecovery = await tokenFor('frank', 'frank-password', { recoveryCode: recoveryCodes[0].toUpperCase() });
  expectError(await login('frank', 'frank-password', { recoveryCode: recoveryCodes[0] }), 401, 'INVALID_CREDENTIALS');
  const me = await server.request('GET', '/api/admin/me', { token: withRecovery });
  assert.equal(me.json().mfaEnabled, true);

  const failures = await db().query(
    "SELECT details->>'reason' AS reason FROM audit_events WHERE action = 'admin.login_failed' AND target = 'frank' ORDER BY id",
  );
  assert.deepEqual(
    failures.map((f: { reason: string }) => f.reason),
    ['mfa_missing', 'totp', 'password', 'totp', 'totp', 'recovery_code'],
  );

  // Turning TOTP off needs a valid code (a recovery code here).
  expectError(
    await server.request('DELETE', '/api/admin/me/mfa/totp', { token: withRecovery, body: { code: 'nope' } }),
    400,
    'MFA_CODE_INVALID',
  );
  const off = await server.request('DELETE', '/api/admin/me/mfa/totp', {
    token: withRecovery,
    body: { code: recoveryCodes[1] },
  });
  assert.equal(off.status, 204, off.text());
  await tokenFor('frank', 'frank-password');
});

test('requireMfa: an admin without TOTP signs in only to enrol, then gets a full session', async () => {
  const put = await server.request('PUT', '/api/admin/settings', {
    token: owner,
    body: { requireMfa: true, sessionIdleMinutes: 30, sessionMaxHours: 12 },
  });
  assert.equal(put.status, 200, put.text());
  try {
    await server.request('POST', '/api/admin/admins', {
      token: owner,
      body: { username: 'gina', password: 'gina-password', role: 'admin' },
    });
    const res = await login('gina', 'gina-password');
    assert.equal(res.status, 200);
    assert.equal(res.json().mfa_setup_required, true);
    const gina = res.json<{ access_token: string }>().access_token;
    expectError(await server.request('GET', '/api/admin/sessions', { token: gina }), 403, 'MFA_SETUP_REQUIRED');
    expectError(await server.request('GET', '/api/admin/directory', { token: gina }), 403, 'MFA_SETUP_REQUIRED');
    assert.equal((await server.request('GET', '/api/admin/me', { token: gina })).json().mfaSetupRequired, true);
    const { secret } = (await server.request('POST', '/api/admin/me/mfa/totp', { token: gina })).json<{
      secret: string;
    }>();
    const ok = await server.request('POST', '/api/admin/me/mfa/totp/confirm', {
      token: gina,
      body: { code: code(secret) },
    });
    assert.equal(ok.status, 200);
    assert.equal((await server.request('GET', '/api/admin/sessions', { token: gina })).status, 200);
    // While MFA is required, TOTP cannot be turned off.
    expectError(
      await server.request('DELETE', '/api/admin/me/mfa/totp', { token: gina, body: { code: code(secret, 30) } }),
      409,
      'MFA_REQUIRED_BY_POLICY',
    );
  } finally {
    await server.request('PUT', '/api/admin/settings', {
      token: owner,
      body: { requireMfa: false, sessionIdleMinutes: 30, sessionMaxHours: 1 },
    });
  }
  expectError(
    await server.request('PUT', '/api/admin/settings', {
      token: owner,
      body: { requireMfa: false, sessionIdleMinutes: 120, sessionMaxHours: 1 },
    }),
    400,
    'VALIDATION_FAILED',
  );
  const got = await server.request('GET', '/api/admin/settings', { token: owner });
  assert.deepEqual(got.json(), { requireMfa: false, sessionIdleMinutes: 30, sessionMaxHours: 1 });
});

test('sessions: listed, ended by id or logout; idle and absolute expiry; lastUsedAt written at most once a minute', async () => {
  const hank = await createAdmin('hank', 'auditor');
  await tokenFor('hank', 'hank-password');
  const mine = await server.request('GET', '/api/admin/sessions', { token: hank });
  assert.equal(mine.status, 200);
  const sessions = mine.json<{ id: string; username: string; current: boolean }[]>();
  assert.equal(sessions.length, 2);
  assert.ok(sessions.every((s) => s.username === 'hank'));
  expectError(await server.request('GET', '/api/admin/sessions?all=true', { token: hank }), 403, 'FORBIDDEN');
  const all = await server.request('GET', '/api/admin/sessions?all=true', { token: owner });
  assert.ok(all.json<{ username: string }[]>().some((s) => s.username === 'admin'));
  expectError(await server.request('GET', '/api/admin/sessions?all=maybe', { token: owner }), 400, 'VALIDATION_FAILED');

  // A non-owner cannot end someone else's session; an owner can.
  const ownerSessionId = all.json<{ id: string; username: string; current: boolean }[]>().find((s) => s.current)!.id;
  expectError(
    await server.request('DELETE', `/api/admin/sessions/${ownerSessionId}`, { token: hank }),
    404,
    'SESSION_NOT_FOUND',
  );
  expectError(
    await server.request('DELETE', '/api/admin/sessions/not-a-uuid', { token: hank }),
    400,
    'VALIDATION_FAILED',
  );
  const other = sessions.find((s) => !s.current)!;
  assert.equal((await server.request('DELETE', `/api/admin/sessions/${other.id}`, { token: owner })).status, 204);

  // lastUsedAt: not rewritten within a minute, rewritten after.
  const current = sessions.find((s) => s.current)!.id;
  const lastUsed = async () =>
    (await db().query('SELECT last_used_at FROM admin_sessions WHERE id = $1', [current]))[0].last_used_at as Date;
  const t0 = await lastUsed();
  await server.request('GET', '/api/admin/me', { token: hank });
  assert.equal((await lastUsed()).getTime(), t0.getTime());
  await db().query("UPDATE admin_sessions SET last_used_at = now() - interval '2 minutes' WHERE id = $1", [current]);
  await server.request('GET', '/api/admin/me', { token: hank });
  assert.ok(Date.now() - (await lastUsed()).getTime() < 10_000);

  // Idle timeout (30 min) and absolute lifetime (sessionMaxHours, 1 h here).
  const idle = await tokenFor('hank', 'hank-password');
  await db().query(
    "UPDATE admin_sessions SET last_used_at = now() - interval '31 minutes' WHERE admin_id = (SELECT id FROM admins WHERE username = 'hank') AND id <> $1",
    [current],
  );
  expectError(await server.request('GET', '/api/admin/me', { token: idle }), 401, 'UNAUTHENTICATED');
  await db().query("UPDATE admin_sessions SET created_at = now() - interval '61 minutes' WHERE id = $1", [current]);
  expectError(await server.request('GET', '/api/admin/me', { token: hank }), 401, 'UNAUTHENTICATED');

  const fresh = await tokenFor('hank', 'hank-password');
  assert.equal((await server.request('POST', '/api/admin/logout', { token: fresh })).status, 204);
  expectError(await server.request('GET', '/api/admin/me', { token: fresh }), 401, 'UNAUTHENTICATED');
});

test('API tokens: role no higher than the creator’s, shown once, never idle out, cannot satisfy re-authentication', async () => {
  const ivy = await createAdmin('ivy', 'helpdesk');
  expectError(
    await server.request('POST', '/api/admin/tokens', {
      token: ivy,
      body: { name: 'x', role: 'admin', expiresInDays: 5 },
    }),
    403,
    'ROLE_TOO_HIGH',
  );
  for (const body of [
    { name: 'x', role: 'auditor', expiresInDays: 0 },
    { name: 'x', role: 'auditor', expiresInDays: 366 },
    { name: '', role: 'auditor', expiresInDays: 5 },
    { name: 'x', role: 'auditor' },
  ]) {
    expectError(await server.request('POST', '/api/admin/tokens', { token: ivy, body }), 400, 'VALIDATION_FAILED');
  }
  const created = await server.request('POST', '/api/admin/tokens', {
    token: ivy,
    body: { name: 'nightly', role: 'auditor', expiresInDays: 30 },
  });
  assert.equal(created.status, 201, created.text());
  const tok = created.json<{ id: string; token: string; role: string; expiresAt: string }>();
  assert.match(tok.token, /^enct_/);
  assert.equal(tok.role, 'auditor');
  assert.ok(Math.abs(new Date(tok.expiresAt).getTime() - Date.now() - 30 * 86400_000) < 60_000);
  const list = await server.request('GET', '/api/admin/tokens', { token: ivy });
  assert.equal(list.json<unknown[]>().length, 1);
  assert.ok(!list.text().includes(tok.token), 'the token is shown only once');

  const me = await server.request('GET', '/api/admin/me', { token: tok.token });
  assert.equal(me.json().role, 'auditor');
  assert.equal(me.json().tokenId, tok.id);
  // Never idles out.
  await db().query("UPDATE admin_sessions SET last_used_at = now() - interval '30 days' WHERE id = $1", [tok.id]);
  assert.equal((await server.request('GET', '/api/admin/me', { token: tok.token })).status, 200);

  // An owner's token cannot pass RequireRecentAuth routes, nor re-authenticate.
  const ownerTok = (
    await server.request('POST', '/api/admin/tokens', {
      token: owner,
      body: { name: 'o', role: 'owner', expiresInDays: 1 },
    })
  ).json<{ id: string; token: string }>();
  expectError(
    await server.request('POST', '/api/admin/admins', {
      token: ownerTok.token,
      body: { username: 'via-token', password: 'via-token-pw', role: 'auditor' },
    }),
    401,
    'REAUTH_REQUIRED',
  );
  expectError(
    await server.request('POST', '/api/admin/me/reauth', {
      token: ownerTok.token,
      body: { password: 'admin-password-1' },
    }),
    403,
    'FORBIDDEN',
  );
  // Expired and revoked tokens stop working.
  await db().query("UPDATE admin_sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [ownerTok.id]);
  expectError(await server.request('GET', '/api/admin/me', { token: ownerTok.token }), 401, 'UNAUTHENTICATED');
  expectError(
    await server.request('DELETE', `/api/admin/tokens/${tok.id}`, { token: await createAdmin('jack', 'admin') }),
    404,
    'API_TOKEN_NOT_FOUND',
  );
  assert.equal((await server.request('DELETE', `/api/admin/tokens/${tok.id}`, { token: ivy })).status, 204);
  expectError(await server.request('GET', '/api/admin/me', { token: tok.token }), 401, 'UNAUTHENTICATED');
});

test('RequireRecentAuth routes need a password (and TOTP) confirmation within 5 minutes', async () => {
  const fresh = await tokenFor('admin', 'admin-password-1');
  const [{ id }] = await db().query(
    'SELECT id FROM admin_sessions WHERE reauth_at IS NOT NULL ORDER BY created_at DESC LIMIT 1',
  );
  await db().query("UPDATE admin_sessions SET reauth_at = now() - interval '6 minutes' WHERE id = $1", [id]);
  const body = { username: 'kim', password: 'kim-password', role: 'auditor' };
  expectError(await server.request('POST', '/api/admin/admins', { token: fresh, body }), 401, 'REAUTH_REQUIRED');
  expectError(
    await server.request('POST', '/api/admin/me/reauth', { token: fresh, body: { password: 'nope-nope' } }),
    403,
    'PASSWORD_INCORRECT',
  );
  const re = await server.request('POST', '/api/admin/me/reauth', {
    token: fresh,
    body: { password: 'admin-password-1' },
  });
  assert.equal(re.status, 200, re.text());
  assert.ok(new Date(re.json<{ validUntil: string }>().validUntil).getTime() > Date.now() + 4 * 60_000);
  assert.equal((await server.request('POST', '/api/admin/admins', { token: fresh, body })).status, 201);

  // With TOTP enrolled, the confirmation needs a code too.
  const kim = await tokenFor('kim', 'kim-password');
  const { secret } = (await server.request('POST', '/api/admin/me/mfa/totp', { token: kim })).json<{
    secret: string;
  }>();
  await server.request('POST', '/api/admin/me/mfa/totp/confirm', { token: kim, body: { code: code(secret) } });
  expectError(
    await server.request('POST', '/api/admin/me/reauth', { token: kim, body: { password: 'kim-password' } }),
    401,
    'MFA_REQUIRED',
  );
  const ok = await server.request('POST', '/api/admin/me/reauth', {
    token: kim,
    body: { password: 'kim-password', totp: code(secret, 30) },
  });
  assert.equal(ok.status, 200, ok.text());
});

test('a token in the query string is refused with 400 TOKEN_IN_QUERY on every route and never logged', async () => {
  const secretToken = await tokenFor('admin', 'admin-password-1');
  for (const url of [
    `/api/admin/me?access_token=${secretToken}`,
    `/api/info?token=${secretToken}`,
    `/healthz?api_key=${secretToken}`,
    `/api/ca?anything=${secretToken}`,
    `/api/admin/sessions?all=true&token=${secretToken}`,
  ]) {
    const res = await server.request('GET', url, { token: owner });
    expectError(res, 400, 'TOKEN_IN_QUERY');
    assert.equal(res.json().requestId, res.headers['x-request-id'], 'refused after the request id is set');
  }
  // Ordinary query parameters still work.
  assert.equal((await server.request('GET', '/api/admin/sessions?all=true', { token: owner })).status, 200);
  await new Promise((r) => setTimeout(r, 100));
  const all = logLines.join('\n');
  assert.ok(all.includes('/api/info?token=[redacted]'), 'the refused requests are logged, redacted');
  assert.ok(!all.includes(secretToken), 'the token never reaches the logs');
  assert.ok(all.includes('access_token=[redacted]') || all.includes('access_token=%5Bredacted%5D'));
});
