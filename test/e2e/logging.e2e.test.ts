import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

let server: TestServer;
const lines: string[] = [];

before(async () => {
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  server = await startTestServer({ LOG_LEVEL: 'info' }, stream);
});
after(async () => {
  await server?.close();
  await stopTestPostgres();
});

test('every response carries x-request-id; a valid incoming id is kept and tags the log lines', async () => {
  const own = await server.request('GET', '/api/info', { headers: { 'x-request-id': 'trace-abc-123' } });
  assert.equal(own.headers['x-request-id'], 'trace-abc-123');
  const generated = await server.request('GET', '/api/info', { headers: { 'x-request-id': 'bad id with spaces' } });
  assert.match(String(generated.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  await new Promise((r) => setTimeout(r, 50));
  const tagged = lines.map((l) => JSON.parse(l)).filter((l) => l.req?.id === 'trace-abc-123');
  assert.ok(tagged.length >= 1, 'the request is logged with its id');
});

test('passwords, tokens and keys never reach the logs', async () => {
  const token = await setUp(server, {
    organization: 'Log Corp',
    admin: { username: 'admin', password: 'setup-secret-password' },
    ca: { mode: 'generate', algorithm: 'P-256' },
  });
  await server.request('POST', '/api/admin/login', { body: { username: 'admin', password: 'wrong-secret-password' } });
  await server.request('POST', '/api/admin/users', {
    token,
    body: { username: 'logged', password: 'user-secret-password' },
  });
  await server.request('GET', '/api/admin/users', { token });
  await new Promise((r) => setTimeout(r, 50));
  const all = lines.join('\n');
  assert.ok(
    lines.some((l) => l.includes('"authorization":"[redacted]"')),
    'authorization headers are logged redacted',
  );
  for (const secret of [
    'setup-secret-password',
    'wrong-secret-password',
    'user-secret-password',
    token,
    'PRIVATE KEY',
  ]) {
    assert.ok(!all.includes(secret), `log contains ${secret.slice(0, 12)}…`);
  }
});
