import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DataSource } from 'typeorm';
import { AccountsService } from '../../apps/server/src/modules/accounts/accounts.service';
import { SecretBox } from '../../apps/server/src/common/secret-box';
import { CaService } from '../../apps/server/src/modules/ca/ca.service';
import { KeyPoolService } from '../../apps/server/src/modules/ca/key-pool.service';
import { DevicesRepository } from '../../apps/server/src/modules/users/devices.repository';
import { UsersRepository } from '../../apps/server/src/modules/users/users.repository';
import { basic, deviceLogin, deviceToken, enroll, enrollOk, makeDevice } from '../support/jami-client';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

let server: TestServer;
let admin: string;
let dir: string;

const ds = () => server.app.get(DataSource);
const q = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => ds().query(sql, params) as Promise<T[]>;
/** Every row of the tables a refused request must not touch. */
const snapshot = async () => ({
  users: await q('SELECT * FROM users ORDER BY id'),
  devices: await q('SELECT * FROM devices ORDER BY id'),
  accounts: await q('SELECT id, revoked_at FROM accounts ORDER BY id'),
  certs: await q('SELECT id, revoked_at FROM issued_certificates ORDER BY id'),
  tokens: await q('SELECT id FROM access_tokens ORDER BY id'),
  audit: await q('SELECT count(*)::int AS n FROM audit_events'),
});

const api = (method: string, p: string, body?: unknown) => server.request(method, p, { token: admin, body });

async function createUser(username: string, extra: Record<string, string> = {}) {
  const res = await api('POST', '/api/admin/users', { username, password: `${username}-password`, ...extra });
  assert.equal(res.status, 201, res.text());
}

async function directoryUser(username: string) {
  await server.app.get(UsersRepository).insert({
    username,
    source: 'ldap',
    status: 'active',
    externalId: `ext-${username}`,
    dn: `uid=${username},ou=people,dc=example,dc=org`,
    firstName: 'Dir',
    lastName: 'User',
  });
}

const userLogin = (u: string, p: string) =>
  server.request('POST', '/api/login', { body: '{}', headers: { authorization: basic(u, p) } });

async function expectRefused(
  call: () => Promise<{ status: number; json(): Record<string, unknown> }>,
  status: number,
  code: string,
  field?: RegExp,
) {
  const res = await call();
  assert.equal(res.status, status, JSON.stringify(res.json()));
  assert.equal(res.json().code, code);
  if (field) assert.match(String(res.json().message), field);
}

before(async () => {
  server = await startTestServer({ ENCLAVE_LOGIN_MAX_FAILURES: '100' });
  admin = await setUp(server);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-lifecycle-'));
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace']) {
    await createUser(u, { firstName: u[0].toUpperCase() + u.slice(1), lastName: 'Tester', email: `${u}@example.org` });
  }
  await directoryUser('ldapuser');
});
after(async () => {
  await server?.close();
  await stopTestPostgres();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('PATCH /api/admin/users/{username}', () => {
  test('edits a local user’s names, email and phone, clears with null, and audits the change', async () => {
    const res = await api('PATCH', '/api/admin/users/alice', {
      firstName: ' Alicia ',
      email: 'Alicia@Example.ORG',
      phone: '+33 1 23 45 67 89',
    });
    assert.equal(res.status, 200, res.text());
    const u = res.json();
    assert.equal(u.firstName, 'Alicia');
    assert.equal(u.lastName, 'Tester');
    assert.equal(u.email, 'alicia@example.org');
    assert.equal(u.phone, '+33 1 23 45 67 89');
    const cleared = await api('PATCH', '/api/admin/users/alice', { lastName: null });
    assert.equal(cleared.json().lastName, null);
    const audit = await q("SELECT actor, target, details FROM audit_events WHERE action = 'user.updated' ORDER BY id");
    assert.equal(audit.length, 2);
    assert.deepEqual(audit[0].details, { fields: ['firstName', 'email', 'phone'] });
    assert.equal(audit[0].actor, 'admin:admin');
  });

  test('refuses bad input, unknown users and directory-managed fields, writing nothing', async () => {
    const before = await snapshot();
    const cases: [string, unknown, number, string, RegExp][] = [
      ['alice', { email: 'not-an-email' }, 400, 'VALIDATION_FAILED', /email/],
      ['alice', { phone: 'call me' }, 400, 'VALIDATION_FAILED', /phone/],
      ['alice', { firstName: 'A\u0000B' }, 400, 'VALIDATION_FAILED', /firstName/],
      ['alice', { firstName: 'x'.repeat(129) }, 400, 'VALIDATION_FAILED', /firstName/],
      ['alice', { username: 'renamed' }, 400, 'VALIDATION_FAILED', /username/],
      ['alice', { firstName: 42 }, 400, 'VALIDATION_FAILED', /firstName/],
      ['alice', {}, 400, 'VALIDATION_FAILED', /firstName, lastName, email, phone/],
      ['nobody', { firstName: 'X' }, 404, 'USER_NOT_FOUND', /nobody/],
      ['ldapuser', { firstName: 'X', phone: '123' }, 409, 'USER_FIELD_MANAGED_BY_DIRECTORY', /firstName, phone/],
    ];
    for (const [user, body, status, code, field] of cases) {
      await expectRefused(() => api('PATCH', `/api/admin/users/${user}`, body), status, code, field);
    }
    const malformed = await server.request('PATCH', '/api/admin/users/alice', { token: admin, body: '{"firstName":' });
    assert.equal(malformed.status, 400);
    assert.deepEqual(await snapshot(), before);
  });
});

describe('suspend, resume, password', () => {
  test('a suspended user cannot enroll or log in, loses tokens and name; resume restores the devices', async () => {
    const e = await enrollOk(server, 'bob', 'bob-password');
    const devTok = await deviceToken(server, e);
    const jamiId = JSON.parse(String(e.answer.deviceReceipt)).id;

    const res = await api('POST', '/api/admin/users/bob/suspend', { reason: 'On leave until March' });
    assert.equal(res.status, 200, res.text());
    assert.equal(res.json().status, 'suspended');
    assert.equal(res.json().suspendedReason, 'admin');
    assert.equal(res.json().suspensionNote, 'On leave until March');

    assert.equal((await server.request('GET', '/api/auth/devices', { token: devTok })).status, 401);
    await expectRefused(() => enroll(server, 'bob', 'bob-password', makeDevice()), 403, 'USER_SUSPENDED');
    await expectRefused(() => userLogin('bob', 'bob-password'), 403, 'USER_SUSPENDED');
    // 403, not 401: a 401 on the mTLS login makes clients wipe their identity, and a suspension is lifted later.
    await expectRefused(() => deviceLogin(server, e), 403, 'USER_SUSPENDED');
    assert.equal((await server.request('GET', '/api/nameserver/name/bob')).status, 404);
    assert.equal((await server.request('GET', `/api/nameserver/addr/${jamiId}`)).status, 404);

    const before = await snapshot();
    await expectRefused(
      () => api('POST', '/api/admin/users/bob/suspend', { reason: 'again' }),
      409,
      'USER_STATUS_CONFLICT',
    );
    await expectRefused(() => api('POST', '/api/admin/users/carol/suspend', {}), 400, 'VALIDATION_FAILED', /reason/);
    await expectRefused(
      () => api('POST', '/api/admin/users/carol/suspend', { reason: '' }),
      400,
      'VALIDATION_FAILED',
      /reason/,
    );
    await expectRefused(() => api('POST', '/api/admin/users/carol/resume'), 409, 'USER_STATUS_CONFLICT');
    await expectRefused(() => api('POST', '/api/admin/users/nobody/resume'), 404, 'USER_NOT_FOUND');
    assert.deepEqual(await snapshot(), before);

    const resumed = await api('POST', '/api/admin/users/bob/resume');
    assert.equal(resumed.status, 200, resumed.text());
    assert.equal(resumed.json().status, 'active');
    assert.equal(resumed.json().suspensionNote, null);
    assert.equal((await deviceLogin(server, e)).status, 200, 'the certificates were never revoked');
    assert.equal((await server.request('GET', '/api/nameserver/name/bob')).json().addr, jamiId);
    const actions = await q("SELECT action FROM audit_events WHERE target = 'bob' ORDER BY id");
    assert.ok(actions.some((a) => a.action === 'user.suspended') && actions.some((a) => a.action === 'user.resumed'));
  });

  test('resume does not un-revoke: after an account revocation the old device stays out and its key is refused', async () => {
    const e = await enrollOk(server, 'carol', 'carol-password');
    const oldJamiId = JSON.parse(String(e.answer.deviceReceipt)).id;
    assert.equal((await api('POST', '/api/admin/users/carol/revoke')).status, 200);
    assert.equal((await api('POST', '/api/admin/users/carol/resume')).status, 200);
    await expectRefused(() => deviceLogin(server, e), 401, 'DEVICE_REVOKED');
    await expectRefused(() => enroll(server, 'carol', 'carol-password', e.device), 409, 'DEVICE_KEY_REVOKED');
    const fresh = await enrollOk(server, 'carol', 'carol-password');
    assert.notEqual(JSON.parse(String(fresh.answer.deviceReceipt)).id, oldJamiId, 'a new account');
  });

  test('a local password reset ends USER tokens, keeps DEVICE tokens; directory users are refused', async () => {
    const e = await enrollOk(server, 'erin', 'erin-password');
    const devTok = await deviceToken(server, e);
    const userTok = (await userLogin('erin', 'erin-password')).json<{ access_token: string }>().access_token;
    const res = await api('POST', '/api/admin/users/erin/password', { password: 'brand-new-password' });
    assert.equal(res.status, 204, res.text());
    assert.equal((await server.request('GET', '/api/auth/devices', { token: userTok })).status, 401);
    assert.equal((await server.request('GET', '/api/auth/devices', { token: devTok })).status, 200);
    await expectRefused(() => userLogin('erin', 'erin-password'), 403, 'CREDENTIALS_REJECTED');
    assert.equal((await userLogin('erin', 'brand-new-password')).status, 200);

    const before = await snapshot();
    await expectRefused(
      () => api('POST', '/api/admin/users/ldapuser/password', { password: 'long-enough-1' }),
      409,
      'USER_NOT_LOCAL',
    );
    await expectRefused(
      () => api('POST', '/api/admin/users/erin/password', { password: 'short' }),
      400,
      'PASSWORD_TOO_SHORT',
    );
    await expectRefused(() => api('POST', '/api/admin/users/erin/password', {}), 400, 'VALIDATION_FAILED', /password/);
    await expectRefused(
      () => api('POST', '/api/admin/users/nobody/password', { password: 'long-enough-1' }),
      404,
      'USER_NOT_FOUND',
    );
    assert.deepEqual(await snapshot(), before);
  });
});

describe('DELETE /api/admin/users/{username} and tombstones', () => {
  test('deleting revokes everything and keeps the name reserved until an owner releases it', async () => {
    const e = await enrollOk(server, 'dave', 'dave-password');
    const jamiId = JSON.parse(String(e.answer.deviceReceipt)).id;
    const res = await api('DELETE', '/api/admin/users/dave');
    assert.equal(res.status, 200, res.text());
    assert.deepEqual(res.json(), { jamiId, devicesRevoked: 1 });

    await expectRefused(() => deviceLogin(server, e), 401, 'DEVICE_REVOKED');
    await expectRefused(() => userLogin('dave', 'dave-password'), 403, 'CREDENTIALS_REJECTED');
    assert.equal((await server.request('GET', '/api/nameserver/name/dave')).status, 404);
    assert.equal((await server.request('GET', `/api/nameserver/addr/${jamiId}`)).status, 404);
    await expectRefused(() => api('GET', '/api/admin/users/dave'), 404, 'USER_NOT_FOUND');
    const listed = (await api('GET', '/api/admin/users?limit=200')).json<{ items: { username: string }[] }>();
    assert.ok(!listed.items.some((u) => u.username === 'dave'));
    const [row] = await q(
      "SELECT status, first_name, email, password_hash, jami_id FROM users WHERE username = 'dave'",
    );
    assert.deepEqual(row, { status: 'deleted', first_name: null, email: null, password_hash: null, jami_id: jamiId });
    const [account] = await q('SELECT revoked_at FROM accounts WHERE jami_id = $1', [jamiId]);
    assert.ok(account.revoked_at);

    const tombstones = (await api('GET', '/api/admin/tombstones')).json<{ username: string; jamiId: string }[]>();
    assert.deepEqual(
      tombstones.map((t) => [t.username, t.jamiId]),
      [['dave', jamiId]],
    );

    const before = await snapshot();
    await expectRefused(
      () => api('POST', '/api/admin/users', { username: 'DAVE', password: 'some-password' }),
      409,
      'USERNAME_RESERVED',
    );
    await expectRefused(() => api('DELETE', '/api/admin/users/dave'), 404, 'USER_NOT_FOUND');
    await expectRefused(() => api('DELETE', '/api/admin/tombstones/alice'), 404, 'TOMBSTONE_NOT_FOUND');
    await expectRefused(() => api('DELETE', '/api/admin/tombstones/nobody'), 404, 'TOMBSTONE_NOT_FOUND');
    await expectRefused(() => api('DELETE', '/api/admin/tombstones/%00'), 400, 'VALIDATION_FAILED');
    assert.deepEqual(await snapshot(), before);

    assert.equal((await api('DELETE', '/api/admin/tombstones/dave')).status, 204);
    assert.deepEqual((await api('GET', '/api/admin/tombstones')).json(), []);
    await createUser('dave');
    assert.equal((await server.request('GET', '/api/nameserver/name/dave')).status, 404, 'no account yet');
    const again = await enrollOk(server, 'dave', 'dave-password');
    const newId = JSON.parse(String(again.answer.deviceReceipt)).id;
    assert.notEqual(newId, jamiId);
    assert.equal(
      (await server.request('GET', `/api/nameserver/addr/${jamiId}`)).status,
      404,
      'the old ID never returns',
    );
    const released = await q(
      "SELECT action FROM audit_events WHERE action IN ('user.deleted', 'user.tombstone_released')",
    );
    assert.equal(released.length, 2);
  });
});

describe('GET /api/admin/users at scale: keyset pages, search, filters', () => {
  test('filters by status, source and group, and searches names and email', async () => {
    await createUser('helen', { firstName: 'Helen', lastName: 'Zebrowski', email: 'hz@corp.example' });
    const [group] = await q<{ id: string }>("INSERT INTO groups (name) VALUES ('ops') RETURNING id");
    await q(
      "INSERT INTO group_members (group_id, user_id) SELECT $1, id FROM users WHERE username IN ('helen', 'frank')",
      [group.id],
    );
    const names = async (query: string) => {
      const res = await api('GET', `/api/admin/users?${query}`);
      assert.equal(res.status, 200, res.text());
      return res.json<{ items: { username: string }[] }>().items.map((u) => u.username);
    };
    assert.deepEqual(await names('search=zebrow'), ['helen']);
    assert.deepEqual(await names('search=HZ%40CORP'), ['helen']);
    assert.deepEqual(await names('search=helen%20zeb'), ['helen']);
    assert.deepEqual(await names('search=100%25'), []);
    assert.deepEqual(await names('source=ldap'), ['ldapuser']);
    assert.deepEqual(await names(`group=${group.id}`), ['frank', 'helen']);
    assert.deepEqual(await names(`group=${group.id}&search=fra`), ['frank']);
    await api('POST', '/api/admin/users/frank/suspend', { reason: 'test' });
    assert.deepEqual(await names('status=suspended'), ['frank']);
    assert.ok(!(await names('status=active')).includes('frank'));
  });

  test('bad limit, cursor, page, status, group and NUL bytes are 400s naming the field', async () => {
    const cases: [string, RegExp][] = [
      ['limit=0', /limit/],
      ['limit=201', /limit/],
      ['limit=abc', /limit/],
      ['limit=1e300', /limit/],
      ['limit=2.5', /limit/],
      ['page=1e300', /page/],
      ['pageSize=10', /pageSize/],
      ['cursor=%%%', /cursor/],
      ['cursor=' + Buffer.from('NOT A NAME').toString('base64url'), /cursor/],
      ['cursor=' + 'a'.repeat(500), /cursor/],
      ['search=%00', /search/],
      ['search=' + 'x'.repeat(200), /search/],
      ['status=deleted', /status/],
      ['source=nis', /source/],
      ['group=not-a-uuid', /group/],
    ];
    for (const [query, field] of cases) {
      await expectRefused(() => api('GET', `/api/admin/users?${query}`), 400, 'VALIDATION_FAILED', field);
    }
    // A NUL anywhere in the path is refused before the route (400 naming the parameter); a long name is unknown.
    for (const p of ['/api/admin/users/%00', '/api/nameserver/name/a%00b']) {
      const res = await server.request('GET', p, { token: admin });
      assert.equal(res.status, 400, p);
      assert.equal(res.json<{ code: string }>().code, 'VALIDATION_FAILED', p);
    }
    assert.equal((await server.request('GET', '/api/admin/users/' + 'x'.repeat(300), { token: admin })).status, 404);
  });
});

describe('devices across the organization', () => {
  test('the device list shows owner, last login and certificate expiry, filters and pages; rename is audited', async () => {
    const laptop = await enrollOk(server, 'grace', 'grace-password');
    const phone = await enrollOk(server, 'grace', 'grace-password');
    await deviceToken(server, laptop);
    const list = (await api('GET', '/api/admin/devices?search=grace')).json<{
      items: Record<string, string | null>[];
    }>();
    assert.equal(list.items.length, 2);
    const l = list.items.find((d) => d.deviceId === laptop.device.deviceId) as Record<string, string | null>;
    assert.equal(l.owner, 'grace');
    assert.equal(l.status, 'active');
    assert.ok(l.lastLoginAt, 'mTLS login recorded');
    assert.equal(list.items.find((d) => d.deviceId === phone.device.deviceId)?.lastLoginAt, null);
    assert.equal(
      new Date(String(l.certificateExpiresAt)).getTime(),
      new Date(laptop.certs[0].validTo).getTime(),
      'expiry of the current certificate',
    );
    const byPrefix = (await api('GET', `/api/admin/devices?search=${laptop.device.deviceId.slice(0, 12)}`)).json<{
      items: { deviceId: string }[];
    }>();
    assert.deepEqual(
      byPrefix.items.map((d) => d.deviceId),
      [laptop.device.deviceId],
    );
    const none = (await api('GET', '/api/admin/devices?expiringWithinDays=0')).json<{ items: unknown[] }>();
    assert.equal(none.items.length, 0);
    const all = (await api('GET', '/api/admin/devices?expiringWithinDays=3650&status=active')).json<{
      items: unknown[];
    }>();
    const [{ n: active }] = await q<{ n: number }>('SELECT count(*)::int AS n FROM devices WHERE revoked_at IS NULL');
    assert.equal(all.items.length, active);

    // Keyset pages of 2 visit every device once, newest first.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { deviceId: string; createdAt: string }[]; nextCursor: string | null } = (
        await api('GET', `/api/admin/devices?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      ).json();
      seen.push(...page.items.map((d) => d.deviceId));
      cursor = page.nextCursor;
    } while (cursor);
    const [{ n: total }] = await q<{ n: number }>('SELECT count(*)::int AS n FROM devices');
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total);

    const renamed = await api('PATCH', `/api/admin/users/grace/devices/${laptop.device.deviceId.toUpperCase()}`, {
      name: '  Work laptop ',
    });
    assert.equal(renamed.status, 200, renamed.text());
    assert.equal(renamed.json().name, 'Work laptop');
    const [audit] = await q("SELECT details FROM audit_events WHERE action = 'device.renamed'");
    assert.deepEqual(audit.details, { deviceId: laptop.device.deviceId });

    const before = await snapshot();
    const bad: [string, string, unknown, number, string][] = [
      ['GET', '/api/admin/devices?status=lost', undefined, 400, 'VALIDATION_FAILED'],
      ['GET', '/api/admin/devices?expiringWithinDays=-1', undefined, 400, 'VALIDATION_FAILED'],
      ['GET', '/api/admin/devices?expiringWithinDays=1e300', undefined, 400, 'VALIDATION_FAILED'],
      [
        'GET',
        '/api/admin/devices?cursor=' + Buffer.from('x|y').toString('base64url'),
        undefined,
        400,
        'VALIDATION_FAILED',
      ],
      ['GET', '/api/admin/devices?search=%00', undefined, 400, 'VALIDATION_FAILED'],
      ['PATCH', `/api/admin/users/grace/devices/${laptop.device.deviceId}`, { name: '' }, 400, 'VALIDATION_FAILED'],
      [
        'PATCH',
        `/api/admin/users/grace/devices/${laptop.device.deviceId}`,
        { name: 'a\u0000' },
        400,
        'VALIDATION_FAILED',
      ],
      ['PATCH', `/api/admin/users/grace/devices/${'0'.repeat(64)}`, { name: 'x' }, 404, 'DEVICE_NOT_FOUND'],
      ['PATCH', '/api/admin/users/grace/devices/xyz', { name: 'x' }, 404, 'DEVICE_NOT_FOUND'],
      ['PATCH', `/api/admin/users/alice/devices/${laptop.device.deviceId}`, { name: 'x' }, 404, 'DEVICE_NOT_FOUND'],
    ];
    for (const [method, p, body, status, code] of bad) {
      await expectRefused(() => api(method, p, body), status, code);
    }
    assert.deepEqual(await snapshot(), before);
  });

  test('POST /api/admin/devices/revoke answers per device and audits each revocation', async () => {
    const a = await enrollOk(server, 'alice', 'alice-password');
    const b = await enrollOk(server, 'erin', 'brand-new-password');
    assert.equal((await api('DELETE', `/api/admin/users/erin/devices/${b.device.deviceId}`)).status, 200);
    const missing = 'e'.repeat(64);
    const before = await snapshot();
    for (const body of [
      { deviceIds: [], reason: 'x' },
      { deviceIds: ['nothex'], reason: 'x' },
      { deviceIds: [a.device.deviceId] },
      { deviceIds: Array.from({ length: 101 }, () => missing), reason: 'x' },
      { deviceIds: a.device.deviceId, reason: 'x' },
    ]) {
      await expectRefused(() => api('POST', '/api/admin/devices/revoke', body), 400, 'VALIDATION_FAILED');
    }
    assert.deepEqual(await snapshot(), before);
    const res = await api('POST', '/api/admin/devices/revoke', {
      deviceIds: [a.device.deviceId, b.device.deviceId, missing],
      reason: 'Laptop stolen',
    });
    assert.equal(res.status, 200, res.text());
    assert.deepEqual(res.json().results, [
      { deviceId: a.device.deviceId, result: 'revoked' },
      { deviceId: b.device.deviceId, result: 'already_revoked' },
      { deviceId: missing, result: 'not_found' },
    ]);
    await expectRefused(() => deviceLogin(server, a), 401, 'DEVICE_REVOKED');
    const audit = await q(
      "SELECT target, details FROM audit_events WHERE action = 'device.revoked' AND details->>'reason' IS NOT NULL",
    );
    assert.deepEqual(audit, [{ target: 'alice', details: { deviceId: a.device.deviceId, reason: 'Laptop stolen' } }]);
  });
});

/** A CSR for an existing private key, as a Jami client would send it. */
function csrFor(keyPem: string): string {
  fs.writeFileSync(path.join(dir, 'k.pem'), keyPem, { mode: 0o600 });
  execFileSync('openssl', ['req', '-new', '-key', 'k.pem', '-sha256', '-subj', '/CN=Jami device', '-out', 'r.csr'], {
    cwd: dir,
    stdio: 'ignore',
  });
  return fs.readFileSync(path.join(dir, 'r.csr'), 'utf8');
}

describe('device keys at enrollment', () => {
  test('an unrevoked device re-enrolling its key keeps its device id and gets a fresh certificate', async () => {
    const first = await enrollOk(server, 'helen', 'helen-password');
    const before = await snapshot();
    await expectRefused(
      () => enroll(server, 'helen', 'helen-password', first.device),
      409,
      'DEVICE_ENROLLMENT_CONFLICT',
    );
    assert.deepEqual(await snapshot(), before, 'a duplicate seconds later writes nothing');
    // Later (the client lost its certificate): a new certificate for the same device.
    await q(
      "UPDATE issued_certificates SET created_at = created_at - interval '1 hour' WHERE id = (SELECT certificate_id FROM devices WHERE device_id = $1)",
      [first.device.deviceId],
    );
    const second = await enrollOk(server, 'helen', 'helen-password', first.device);
    assert.notEqual(second.certs[0].serialNumber, first.certs[0].serialNumber);
    const rows = await q<{ id: string }>('SELECT id FROM devices WHERE device_id = $1', [first.device.deviceId]);
    assert.equal(rows.length, 1);
    assert.equal(
      rows[0].id,
      (before.devices as { id: string; device_id: string }[]).find((d) => d.device_id === first.device.deviceId)?.id,
    );
    const certs = await q<{ revocation_reason: string | null }>(
      "SELECT revocation_reason FROM issued_certificates WHERE kind = 'device' AND subject LIKE $1 ORDER BY created_at",
      [`%${first.device.shortId}%`],
    );
    assert.deepEqual(
      certs.map((c) => c.revocation_reason),
      ['superseded', null],
    );
    assert.equal((await deviceLogin(server, first)).status, 401, 'the superseded certificate no longer logs in');
    assert.equal((await deviceLogin(server, second)).status, 200);
  });

  test('keys of accounts and of the pool are never certified as devices', async () => {
    const accounts = server.app.get(AccountsService);
    const user = await server.app.get(UsersRepository).byUsername('helen');
    const account = await accounts.live(user?.id as string);
    const accountKey = accounts.signerOf(account as NonNullable<typeof account>).privateKeyPem;
    await server.app.get(KeyPoolService).fill(1);
    const [pooled] = await q<{ key_id: string; private_key_sealed: string }>(
      'SELECT key_id, private_key_sealed FROM account_key_pool',
    );
    const pooledKey = server.app.get(SecretBox).openText(pooled.private_key_sealed, `account-key:${pooled.key_id}`);
    const before = await snapshot();
    for (const [who, keyPem] of [
      ['helen', accountKey],
      ['alice', accountKey],
      ['alice', pooledKey],
    ]) {
      const csrPem = csrFor(keyPem);
      await expectRefused(
        () =>
          server.request('POST', '/api/auth/device', {
            body: { csr: csrPem, deviceName: 'x' },
            headers: { authorization: basic(who, `${who}-password`) },
          }),
        409,
        'DEVICE_KEY_FORBIDDEN',
      );
    }
    assert.deepEqual(await snapshot(), before);
    assert.equal((await q('SELECT 1 FROM account_key_pool')).length, 1, 'the pooled key was not consumed');
  });

  test('ten concurrent enrollments of one CSR produce one certificate and nine 409s', async () => {
    await createUser('ivan');
    const device = makeDevice();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => enroll(server, 'ivan', 'ivan-password', device)),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, ...Array(9).fill(409)], results.map((r) => r.text()).join('\n'));
    for (const r of results.filter((x) => x.status === 409)) {
      assert.equal(r.json().code, 'DEVICE_ENROLLMENT_CONFLICT');
    }
    const certs = await q("SELECT id FROM issued_certificates WHERE kind = 'device' AND subject LIKE $1", [
      `%${device.shortId}%`,
    ]);
    assert.equal(certs.length, 1);
    assert.equal((await q('SELECT id FROM devices WHERE device_id = $1', [device.deviceId])).length, 1);
  });
});

describe('mTLS device login', () => {
  test('an expired device certificate gets no DEVICE token (401 DEVICE_CERTIFICATE_EXPIRED)', async () => {
    await createUser('judy');
    const e = await enrollOk(server, 'judy', 'judy-password');
    const accounts = server.app.get(AccountsService);
    const user = await server.app.get(UsersRepository).byUsername('judy');
    const account = (await accounts.live(user?.id as string)) as NonNullable<Awaited<ReturnType<typeof accounts.live>>>;
    const signer = accounts.signerOf(account);
    // A certificate for the same device key, signed by the same account key, valid only in the past.
    fs.writeFileSync(path.join(dir, 'acct.pem'), signer.certificatePem);
    fs.writeFileSync(path.join(dir, 'acct.key'), signer.privateKeyPem, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'index.txt'), '');
    fs.writeFileSync(path.join(dir, 'serial'), '7E57A11C0FFEE001\n');
    fs.writeFileSync(
      path.join(dir, 'ca.cnf'),
      [
        '[ca]',
        'default_ca = d',
        '[d]',
        'database = index.txt',
        'new_certs_dir = .',
        'serial = serial',
        'default_md = sha256',
        'policy = p',
        'unique_subject = no',
        '[p]',
        'commonName = supplied',
      ].join('\n'),
    );
    csrFor(e.device.keyPem);
    execFileSync(
      'openssl',
      [
        'ca',
        '-batch',
        '-config',
        'ca.cnf',
        '-cert',
        'acct.pem',
        '-keyfile',
        'acct.key',
        '-in',
        'r.csr',
        '-startdate',
        '20200101000000Z',
        '-enddate',
        '20200201000000Z',
        '-notext',
        '-out',
        'expired.pem',
      ],
      { cwd: dir, stdio: 'ignore' },
    );
    const expiredPem = fs.readFileSync(path.join(dir, 'expired.pem'), 'utf8');
    const x = new X509Certificate(expiredPem);
    assert.ok(x.verify(e.certs[1].publicKey), 'signed by the account key');
    // Record it as the device's current certificate (as an old enrollment would have left it).
    await server.app.get(DataSource).transaction(async (m) => {
      const issued = await server.app.get(CaService).recordIssued(
        m,
        {
          certificatePem: expiredPem,
          serialNumber: x.serialNumber.toLowerCase().replace(/^0+/, ''),
          notBefore: new Date(x.validFrom),
          notAfter: new Date(x.validTo),
          subject: x.subject.replace(/\n/g, ', '),
          issuer: x.issuer.replace(/\n/g, ', '),
        },
        account.jamiId,
        'device',
      );
      const device = await server.app.get(DevicesRepository).byDeviceId(e.device.deviceId, m);
      await server.app.get(DevicesRepository).recertify(device?.id as string, issued.id, 'old laptop', m);
    });
    const [{ n: before }] = await q<{ n: number }>(
      "SELECT count(*)::int AS n FROM access_tokens WHERE scope = 'DEVICE'",
    );
    const res = await server.request('POST', '/api/login', {
      body: '{}',
      cert: expiredPem + e.chainPem.slice(e.chainPem.indexOf('-----END CERTIFICATE-----') + 26),
      key: e.device.keyPem,
    });
    assert.equal(res.status, 401, res.text());
    assert.equal(res.json().code, 'DEVICE_CERTIFICATE_EXPIRED');
    const [{ n: afterCount }] = await q<{ n: number }>(
      "SELECT count(*)::int AS n FROM access_tokens WHERE scope = 'DEVICE'",
    );
    assert.equal(afterCount, before, 'no DEVICE token issued');
    assert.equal((await deviceLogin(server, e)).status, 401, 'the replaced certificate is not the device’s anymore');
  });
});

describe('hostile input never makes a 500', () => {
  test('NUL bytes and huge numbers in JAMS and admin routes get 4xx and write nothing', async () => {
    const e = await enrollOk(server, 'alice', 'alice-password');
    const tok = await deviceToken(server, e);
    const userTok = (await userLogin('alice', 'alice-password')).json<{ access_token: string }>().access_token;
    const before = await snapshot();
    const cases: [string, () => Promise<{ status: number; json(): Record<string, unknown> }>, number, string][] = [
      ['Basic name with NUL', () => userLogin('ali\u0000ce', 'alice-password'), 403, 'CREDENTIALS_REJECTED'],
      [
        'enroll name with NUL',
        () => enroll(server, 'al\u0000', 'x-password', makeDevice()),
        401,
        'INVALID_CREDENTIALS',
      ],
      ['device id with NUL', () => api('DELETE', '/api/admin/users/alice/devices/%00'), 400, 'VALIDATION_FAILED'],
      [
        'own device id with NUL',
        () => server.request('DELETE', '/api/auth/device/%00', { token: userTok }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'contact with NUL',
        () =>
          server.request('POST', '/api/auth/contacts', {
            token: tok,
            body: [{ uri: 'a'.repeat(40), note: 'x\u0000' }],
          }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'contact time 1e300',
        () =>
          server.request('POST', '/api/auth/contacts', { token: tok, body: [{ uri: 'a'.repeat(40), added: 1e300 }] }),
        400,
        'BODY_INVALID',
      ],
      [
        'directory search with NUL',
        () => server.request('GET', '/api/auth/directory/search?queryString=%00', { token: tok }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'suspend reason with NUL',
        () => api('POST', '/api/admin/users/alice/suspend', { reason: 'a\u0000' }),
        400,
        'VALIDATION_FAILED',
      ],
    ];
    for (const [name, call, status, code] of cases) {
      const res = await call();
      assert.equal(res.status, status, `${name}: ${JSON.stringify(res.json())}`);
      assert.equal(res.json().code, code, name);
    }
    const after = await snapshot();
    assert.deepEqual({ ...after, audit: undefined }, { ...before, audit: undefined });
  });
});
