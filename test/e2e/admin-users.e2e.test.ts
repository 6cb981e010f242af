import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DataSource } from 'typeorm';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

let server: TestServer;
let token: string;

before(async () => {
  server = await startTestServer({ ENCLAVE_LOGIN_MAX_FAILURES: '3' });
  token = await setUp(server);
});
after(async () => {
  await server?.close();
  await stopTestPostgres();
});

test('POST /api/admin/login returns an integer expires_in and a working token', async () => {
  const res = await server.request('POST', '/api/admin/login', {
    body: { username: 'admin', password: 'admin-password-1' },
  });
  assert.equal(res.status, 200);
  const body = res.json<{ access_token: string; expires_in: number; scope: string }>();
  assert.ok(Number.isInteger(body.expires_in) && body.expires_in > 0);
  assert.equal(body.scope, 'ADMIN');
  const list = await server.request('GET', '/api/admin/users', { token: body.access_token });
  assert.equal(list.status, 200);
});

test('admin endpoints refuse missing and made-up tokens with 401 UNAUTHENTICATED', async () => {
  for (const t of [undefined, 'not-a-token']) {
    const res = await server.request('GET', '/api/admin/users', { token: t });
    assert.equal(res.status, 401);
    assert.equal(res.json().code, 'UNAUTHENTICATED');
  }
});

test('wrong passwords get 401, then 429 with Retry-After once the limit is reached', async () => {
  const attempt = () =>
    server.request('POST', '/api/admin/login', { body: { username: 'admin', password: 'wrong-password' } });
  for (let i = 0; i < 3; i++) {
    const res = await attempt();
    assert.equal(res.status, 401);
    assert.equal(res.json().code, 'INVALID_CREDENTIALS');
  }
  const blocked = await attempt();
  assert.equal(blocked.status, 429);
  assert.equal(blocked.json().code, 'TOO_MANY_ATTEMPTS');
  assert.ok(Number(blocked.headers['retry-after']) > 0);
  // Even the right password waits for the window.
  const right = await server.request('POST', '/api/admin/login', {
    body: { username: 'admin', password: 'admin-password-1' },
  });
  assert.equal(right.status, 429);
});

test('creating a user lower-cases the name, hashes the password with argon2id and records an audit event', async () => {
  const res = await server.request('POST', '/api/admin/users', {
    token,
    body: {
      username: 'JDoe',
      password: 'jdoe-password',
      firstName: 'John',
      lastName: 'Doe',
      email: 'JDoe@Example.org',
    },
  });
  assert.equal(res.status, 201, res.text());
  const user = res.json();
  assert.equal(user.username, 'jdoe');
  assert.equal(user.email, 'jdoe@example.org');
  assert.equal(user.jamiId, null);
  assert.deepEqual(user.devices, []);
  const ds = server.app.get(DataSource);
  const [row] = await ds.query("SELECT password_hash FROM users WHERE username = 'jdoe'");
  assert.match(row.password_hash, /^\$argon2id\$/);
  const [audit] = await ds.query("SELECT actor, target FROM audit_events WHERE action = 'user.created'");
  assert.deepEqual(audit, { actor: 'admin:admin', target: 'jdoe' });
});

test('bad user input is refused with a precise code and writes nothing', async () => {
  const ds = server.app.get(DataSource);
  const [{ n: before }] = await ds.query('SELECT count(*)::int AS n FROM users');
  const cases: [Record<string, unknown>, number, string][] = [
    [{ username: 'ab', password: 'long-enough' }, 400, 'USERNAME_INVALID'],
    [{ username: 'way-too-long-username-for-jami-rules', password: 'long-enough' }, 400, 'USERNAME_INVALID'],
    [{ username: 'john.doe', password: 'long-enough' }, 400, 'USERNAME_INVALID'],
    [{ username: 'shorty', password: '1234567' }, 400, 'PASSWORD_TOO_SHORT'],
    [{ username: 'mailer', password: 'long-enough', email: 'not-an-email' }, 400, 'VALIDATION_FAILED'],
    [{ username: 'nopass' }, 400, 'VALIDATION_FAILED'],
    [{ username: 'jdoe', password: 'another-password' }, 409, 'USER_EXISTS'],
    [{ username: 'JDOE', password: 'another-password' }, 409, 'USER_EXISTS'],
  ];
  await server.request('POST', '/api/admin/users', { token, body: { username: 'jdoe', password: 'jdoe-password' } });
  const [{ n: withJdoe }] = await ds.query('SELECT count(*)::int AS n FROM users');
  for (const [body, status, code] of cases) {
    const res = await server.request('POST', '/api/admin/users', { token, body });
    assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text()}`);
    assert.equal(res.json().code, code, JSON.stringify(body));
  }
  const [{ n: after }] = await ds.query('SELECT count(*)::int AS n FROM users');
  assert.ok(withJdoe >= before);
  assert.equal(after, withJdoe);
});

test('users are listed with search and pages, and fetched by name case-insensitively', async () => {
  for (const [u, f, l] of [
    ['alice', 'Alice', 'Martin'],
    ['bob', 'Bob', 'Martin'],
    ['carol', 'Carol', 'Smith'],
  ]) {
    const res = await server.request('POST', '/api/admin/users', {
      token,
      body: { username: u, password: `${u}-password`, firstName: f, lastName: l },
    });
    assert.equal(res.status, 201);
  }
  const martins = (await server.request('GET', '/api/admin/users?search=martin', { token })).json<{
    items: { username: string }[];
    nextCursor: string | null;
  }>();
  assert.deepEqual(
    martins.items.map((u) => u.username),
    ['alice', 'bob'],
  );
  assert.equal(martins.nextCursor, null);
  const fullName = (await server.request('GET', '/api/admin/users?search=carol%20smith', { token })).json<{
    items: { username: string }[];
  }>();
  assert.deepEqual(
    fullName.items.map((u) => u.username),
    ['carol'],
  );
  // Keyset pages of 2 walk every user once, in username order.
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await server.request('GET', `/api/admin/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token });
    assert.equal(res.status, 200, res.text());
    const page = res.json<{ items: { username: string }[]; nextCursor: string | null; limit: number }>();
    assert.ok(page.items.length <= 2);
    assert.equal(page.limit, 2);
    seen.push(...page.items.map((u) => u.username));
    cursor = page.nextCursor;
  } while (cursor);
  assert.deepEqual(seen, [...seen].sort());
  assert.deepEqual(seen, ['alice', 'bob', 'carol', 'jdoe']);
  const bad = await server.request('GET', '/api/admin/users?limit=1000', { token });
  assert.equal(bad.status, 400);
  assert.equal(bad.json().code, 'VALIDATION_FAILED');

  const alice = await server.request('GET', '/api/admin/users/ALICE', { token });
  assert.equal(alice.status, 200);
  assert.equal(alice.json().firstName, 'Alice');
  const missing = await server.request('GET', '/api/admin/users/nobody', { token });
  assert.equal(missing.status, 404);
  assert.equal(missing.json().code, 'USER_NOT_FOUND');
});

test('an oversized body is refused with 413 BODY_TOO_LARGE', async () => {
  const res = await server.request('POST', '/api/admin/users', {
    token,
    body: { username: 'big', password: 'x'.repeat(300 * 1024) },
  });
  assert.equal(res.status, 413);
  assert.equal(res.json().code, 'BODY_TOO_LARGE');
});

test('unknown routes answer a JSON 404', async () => {
  const res = await server.request('GET', '/api/nothing-here');
  assert.equal(res.status, 404);
  assert.equal(res.json().code, 'NOT_FOUND');
});
