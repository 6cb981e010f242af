import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { stopTestPostgres } from '../support/postgres';
import { httpsRequest, setupCode, startTestServer, TestServer } from '../support/server';

let server: TestServer;
const logLines: string[] = [];

before(async () => {
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => logLines.push(...d.toString().split('\n').filter(Boolean)));
  server = await startTestServer({}, stream);
});
after(async () => {
  await server?.close();
  await stopTestPostgres();
});

const goodSetup = {
  organization: 'Example Corp',
  admin: { username: 'admin', password: 'admin-password-1' },
  ca: { mode: 'generate', algorithm: 'P-256' },
};

async function rowCounts() {
  const { DataSource } = await import('typeorm');
  const ds = server.app.get(DataSource);
  const [admins] = await ds.query('SELECT count(*)::int AS n FROM admins');
  const [cas] = await ds.query('SELECT count(*)::int AS n FROM certificate_authorities');
  const [settings] = await ds.query('SELECT count(*)::int AS n FROM settings');
  return { admins: admins.n, cas: cas.n, settings: settings.n };
}

test('before setup: /api/info and GET /api/setup report setup required; /api/ca answers 409', async () => {
  const info = await server.request('GET', '/api/info');
  assert.equal(info.status, 200);
  assert.equal(info.json().setupRequired, true);
  const state = await server.request('GET', '/api/setup');
  assert.equal(state.status, 200);
  const ca = await server.request('GET', '/api/ca');
  assert.equal(ca.status, 409);
  assert.equal(ca.json().code, 'SETUP_REQUIRED');
});

test('setup is pending: a one-time setup code is logged at warn level and written to <dataDir>/setup-code (0600)', () => {
  const file = path.join(server.dataDir, 'setup-code');
  const code = fs.readFileSync(file, 'utf8').trim();
  assert.match(code, /^[A-Z2-7]{5}(-[A-Z2-7]{5}){3}$/);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const line = logLines.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.msg.includes(code));
  assert.ok(line, `the code is in the log: ${logLines.join('\n').slice(0, 3000)}`);
  assert.equal(line.level, 40, 'at warn level');
  assert.match(line.msg, /setup is pending/i);
  assert.match(line.msg, /\/api\/setup/);
});

test('POST /api/setup without the setup code, or with a wrong one, is 403 SETUP_CODE_INVALID and changes nothing', async () => {
  const missing = await server.request('POST', '/api/setup', { body: goodSetup });
  assert.equal(missing.status, 403, missing.text());
  assert.equal(missing.json().code, 'SETUP_CODE_INVALID');
  for (const wrong of ['AAAAA-AAAAA-AAAAA-AAAAA', '', 'x'.repeat(64)]) {
    const res = await server.request('POST', '/api/setup', { body: { ...goodSetup, setupCode: wrong } });
    assert.equal(res.status, 403, res.text());
    assert.equal(res.json().code, 'SETUP_CODE_INVALID');
  }
  assert.deepEqual(await rowCounts(), { admins: 0, cas: 0, settings: 0 });
});

test('POST /api/setup with bad input changes nothing and names the problem', async () => {
  const cases: [unknown, number, string][] = [
    [{ ...goodSetup, admin: { username: 'admin', password: 'short' } }, 400, 'PASSWORD_TOO_SHORT'],
    [{ ...goodSetup, admin: { username: 'A B', password: 'long-enough-1' } }, 400, 'USERNAME_INVALID'],
    [{ ...goodSetup, organization: 42 }, 400, 'VALIDATION_FAILED'],
    [{ ...goodSetup, extra: true }, 400, 'VALIDATION_FAILED'],
    [{ ...goodSetup, ca: { mode: 'import' } }, 400, 'VALIDATION_FAILED'],
    [{ ...goodSetup, ca: { mode: 'import', certificatePem: 'nope', privateKeyPem: 'nope' } }, 400, 'CA_INVALID'],
  ];
  for (const [body, status, code] of cases) {
    const res = await server.request('POST', '/api/setup', {
      body: { setupCode: setupCode(server), ...(body as object) },
    });
    assert.equal(res.status, status, `${JSON.stringify(body)} → ${res.text()}`);
    const json = res.json();
    assert.equal(json.code, code);
    assert.equal(typeof json.message, 'string');
    assert.ok(json.requestId, 'error bodies carry the request id');
    assert.equal(res.headers['x-request-id'], json.requestId);
  }
  const bad = await server.request('POST', '/api/setup', {
    body: '{"organization": ',
    contentType: 'application/json',
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.json().code, 'BODY_INVALID');
  assert.deepEqual(await rowCounts(), { admins: 0, cas: 0, settings: 0 });
});

test('setup creates admin and CA, swaps the HTTPS certificate in place, then the setup API is gone', async () => {
  const before = await server.request('GET', '/api/info');
  assert.equal(before.json().setupRequired, true);
  const res = await server.request('POST', '/api/setup', { body: { ...goodSetup, setupCode: setupCode(server) } });
  assert.equal(res.status, 201, res.text());
  assert.ok(!fs.existsSync(path.join(server.dataDir, 'setup-code')), 'the used setup code is deleted');
  const token = res.json<{ access_token: string; expires_in: number }>();
  assert.equal(typeof token.access_token, 'string');
  assert.ok(Number.isInteger(token.expires_in));

  const caPem = (await server.request('GET', '/api/ca')).text();
  assert.match(caPem, /^-----BEGIN CERTIFICATE-----/);
  const ca = new X509Certificate(caPem);
  assert.ok(ca.ca);
  assert.match(ca.subject, /Example Corp/);

  // The running server now presents a certificate issued by the org CA for 127.0.0.1 (IP SAN):
  // a client trusting only the org CA verifies it, host name included.
  const verified = await httpsRequest(`${server.localUrl}/healthz`, 'GET', { ca: caPem });
  assert.equal(verified.status, 200);

  assert.equal((await server.request('GET', '/api/setup')).status, 404);
  const again = await server.request('POST', '/api/setup', { body: { ...goodSetup, setupCode: 'ANY' } });
  assert.equal(again.status, 404);
  assert.equal(again.json().code, 'ALREADY_SET_UP');
  assert.equal((await server.request('GET', '/api/info')).json().organization, 'Example Corp');

  const { DataSource } = await import('typeorm');
  const ds = server.app.get(DataSource);
  const [row] = await ds.query('SELECT private_key_sealed FROM certificate_authorities');
  assert.ok(!row.private_key_sealed.includes('PRIVATE KEY'), 'the CA key is encrypted at rest');
  const audit = await ds.query("SELECT action FROM audit_events WHERE action = 'setup.completed'");
  assert.equal(audit.length, 1);
});
