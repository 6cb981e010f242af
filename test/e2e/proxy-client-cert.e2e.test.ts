/**
 * Device login behind a TLS-terminating proxy (issue 14, docker-compose): the client certificate arrives in
 * ENCLAVE_CLIENT_CERT_HEADER and is believed only from ENCLAVE_TRUSTED_PROXIES.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { enrollOk } from '../support/jami-client';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
  await stopTestPostgres();
});

async function serverWith(trusted: string): Promise<{ server: TestServer; admin: string }> {
  const server = await startTestServer({
    ENCLAVE_CLIENT_CERT_HEADER: 'X-Client-Cert',
    ENCLAVE_TRUSTED_PROXIES: trusted,
  });
  servers.push(server);
  const admin = await setUp(server);
  const res = await server.request('POST', '/api/admin/users', {
    token: admin,
    body: { username: 'alice', password: 'alice-password' },
  });
  assert.equal(res.status, 201, res.text());
  return { server, admin };
}

test('a trusted proxy header carries the device certificate (URL-encoded PEM or base64 DER)', async () => {
  const { server } = await serverWith('127.0.0.0/8, ::1');
  const e = await enrollOk(server, 'alice', 'alice-password');
  const device = e.certs[0];
  for (const value of [encodeURIComponent(device.toString()), device.raw.toString('base64')]) {
    const res = await server.request('POST', '/api/login', { body: '{}', headers: { 'x-client-cert': value } });
    assert.equal(res.status, 200, res.text());
    assert.ok(res.json().access_token);
  }
  const garbage = await server.request('POST', '/api/login', {
    body: '{}',
    headers: { 'x-client-cert': 'not-a-cert' },
  });
  assert.notEqual(garbage.status, 200);
  assert.ok(garbage.status < 500, garbage.text());
});

test('the header from an untrusted peer is ignored', async () => {
  const { server } = await serverWith('10.255.255.1');
  const e = await enrollOk(server, 'alice', 'alice-password');
  const res = await server.request('POST', '/api/login', {
    body: '{}',
    headers: { 'x-client-cert': encodeURIComponent(e.certs[0].toString()) },
  });
  assert.notEqual(res.status, 200, 'a forged header does not log in');
  assert.ok(res.status < 500, res.text());
  const direct = await server.request('POST', '/api/login', { body: '{}', cert: e.chainPem, key: e.device.keyPem });
  assert.equal(direct.status, 200, 'a direct mTLS login still works');
});
