/**
 * The server's own DHT node in a mixed network with two real dhtnodes (OpenDHT 2.4.12) that bootstrap only
 * from it: each reads what the other side put, the admin route reports the node, and stopping the server
 * keeps the routing table in the data directory (node id and cache) for the next start.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { infoHash } from '@enclave/core';
import { DHT_NODE_CACHE_FILE, DHT_NODE_ID_FILE, DhtService } from '../../apps/server/src/modules/dht/dht.service';
import { DhtnodeProcess, dhtnodeUnavailableReason, freeUdpPort, stopDhtnodes } from '../support/dhtnode';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

const unavailable = dhtnodeUnavailableReason();
const skip = unavailable ? `server DHT interop: ${unavailable}` : false;
const run = randomBytes(4).toString('hex');
const key = (name: string) => infoHash(`enclave-server-dht/${run}/${name}`).toString('hex');

let server: TestServer;
let admin: string;
let dhtPort: number;
let A: DhtnodeProcess | undefined;
let B: DhtnodeProcess | undefined;
let stopped = false;

interface DhtStatus {
  enabled: boolean;
  nodeId: string;
  port: number;
  host: string;
  nodes: number;
  bootstrap: string;
  networkId: number;
}

before(async () => {
  if (unavailable) return;
  dhtPort = await freeUdpPort();
  server = await startTestServer({ ENCLAVE_DHT_PORT: String(dhtPort) });
  admin = await setUp(server);
  A = await DhtnodeProcess.start({ name: 'dhtnode-A', bootstrap: [`127.0.0.1:${dhtPort}`] });
  B = await DhtnodeProcess.start({ name: 'dhtnode-B', bootstrap: [`127.0.0.1:${dhtPort}`] });
});

after(async () => {
  await stopDhtnodes(A, B);
  if (server && !stopped) await server.close();
  await stopTestPostgres();
});

const node = () => server.app.get(DhtService).node!;

test('GET /api/admin/dht reports the node: id, UDP port bound like HTTPS, routing table', { skip }, async () => {
  const res = await server.request('GET', '/api/admin/dht', { token: admin });
  assert.equal(res.status, 200, res.text());
  const s = res.json<DhtStatus>();
  assert.equal(s.enabled, true);
  assert.equal(s.port, dhtPort);
  assert.equal(s.host, '127.0.0.1', 'bound on ENCLAVE_HOST');
  assert.match(s.nodeId, /^[0-9a-f]{40}$/);
  assert.equal(s.networkId, 0);
  assert.equal(s.bootstrap, `127.0.0.1:${dhtPort}`, 'public host of ENCLAVE_PUBLIC_URL and the DHT port');
  assert.equal((await server.request('GET', '/api/admin/dht')).status, 401, 'admins only');
});

test('dhtnodes that bootstrap from the server form one network with it', { skip }, async () => {
  const deadline = Date.now() + 10_000;
  let ids: string[] = [];
  while (Date.now() < deadline) {
    ids = node()
      .nodes()
      .map((n) => n.id.toString('hex'));
    if (ids.includes(A!.nodeId) && ids.includes(B!.nodeId)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(ids.includes(A!.nodeId) && ids.includes(B!.nodeId), `both dhtnodes in the table: ${ids.join(',')}`);
  const res = await server.request('GET', '/api/admin/dht', { token: admin });
  assert.ok(res.json<DhtStatus>().nodes >= 2);
  const theirs = await A!.routingTable();
  assert.ok(
    theirs.some((n) => n.id === node().id.toString('hex')),
    `dhtnode-A lists the server: ${JSON.stringify(theirs)}`,
  );
});

test('a value put on a dhtnode is read through the server node, and the other way round', { skip }, async () => {
  const k1 = key('from-dhtnode');
  const put = await A!.put(k1, 'hello_from_dhtnode_A');
  assert.ok(put.acked);
  const got = await node().get(k1);
  assert.deepEqual(
    got.map((v) => [v.id, Buffer.from(v.data).toString('utf8')]),
    [[BigInt(`0x${put.id}`), 'hello_from_dhtnode_A']],
  );

  const k2 = key('from-server');
  const ours = await node().put(k2, 'hello_from_enclave_server');
  assert.ok(ours.storedOn.length >= 1, 'a dhtnode took the put');
  const [seen] = await B!.get(k2);
  assert.equal(seen?.text, 'hello_from_enclave_server');
  assert.equal(BigInt(`0x${seen.id}`), ours.id);
});

test('stopping the server keeps its node id and routing table in the data directory', { skip }, async () => {
  const id = node().id.toString('hex');
  await server.stop();
  stopped = true;
  try {
    assert.equal(fs.readFileSync(path.join(server.dataDir, DHT_NODE_ID_FILE), 'utf8').trim(), id);
    const cache = JSON.parse(fs.readFileSync(path.join(server.dataDir, DHT_NODE_CACHE_FILE), 'utf8')) as {
      nodes: { id: string; port: number }[];
    };
    const cached = cache.nodes.map((n) => n.id);
    assert.ok(cached.includes(A!.nodeId) && cached.includes(B!.nodeId), `cache: ${cached.join(',')}`);
  } finally {
    await server.db.drop();
    fs.rmSync(server.dataDir, { recursive: true, force: true });
  }
});
