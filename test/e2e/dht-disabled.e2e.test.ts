/**
 * ENCLAVE_DHT_PORT=0: no DHT node. The status route says so, presence and the DHT proxy answer 409
 * DHT_DISABLED, devices get no Account.hostname from the server; a taken DHT port stops the start with a
 * message naming the variable.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, test } from 'node:test';
import { createUsers } from '../support/agent';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

let server: TestServer;
let admin: string;

before(async () => {
  server = await startTestServer({ ENCLAVE_DHT_PORT: '0' });
  admin = await setUp(server);
  await createUsers(server, admin, ['alice']);
});

after(async () => {
  await server?.close();
  await stopTestPostgres();
});

test('GET /api/admin/dht reports the node off', async () => {
  const res = await server.request('GET', '/api/admin/dht', { token: admin });
  assert.equal(res.status, 200, res.text());
  assert.deepEqual(res.json(), { enabled: false, networkId: 0 });
});

test('presence and the DHT proxy answer 409 DHT_DISABLED', async () => {
  for (const [method, path] of [
    ['GET', '/api/admin/users/alice/presence'],
    ['GET', '/dht-proxy/'],
    ['GET', `/dht-proxy/${'ab'.repeat(20)}`],
  ]) {
    const res = await server.request(method, path, { token: admin });
    assert.equal(res.status, 409, `${path}: ${res.text()}`);
    assert.equal(res.json<{ code: string }>().code, 'DHT_DISABLED');
  }
});

test('without a node, devices get no Account.hostname from the server', async () => {
  const res = await server.request('GET', '/api/admin/users/alice/effective-policy', { token: admin });
  assert.equal(res.status, 200, res.text());
  assert.equal(res.json<{ keys: Record<string, unknown> }>().keys['Account.hostname'], undefined);
});

test('a taken DHT port stops the start with a message naming ENCLAVE_DHT_PORT', async () => {
  const squatter = dgram.createSocket('udp4');
  const port = await new Promise<number>((resolve) =>
    squatter.bind(0, '127.0.0.1', () => resolve(squatter.address().port)),
  );
  try {
    await assert.rejects(startTestServer({ ENCLAVE_DHT_PORT: String(port) }), /ENCLAVE_DHT_PORT/);
  } finally {
    squatter.close();
  }
});
