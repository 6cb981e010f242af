/**
 * The server's OpenDHT REST proxy (/dht-proxy) on its own DHT node, in a network with a real dhtnode:
 * the project's DhtProxyClient and curl put and get through it, values cross to and from the dhtnode,
 * a listen through the proxy sees a value the dhtnode puts, and bad input gets a 400.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { DhtProxyClient, DhtValue, infoHash, signValue, valueToProxyJson } from '@enclave/core';
import { DhtService } from '../../apps/server/src/modules/dht/dht.service';
import { DhtnodeProcess, dhtnodeUnavailableReason, freeUdpPort, stopDhtnodes } from '../support/dhtnode';
import { stopTestPostgres } from '../support/postgres';
import { startTestServer, TestServer } from '../support/server';

const run = promisify(execFile);
const unavailable = dhtnodeUnavailableReason();
const skip = unavailable ? `server DHT proxy: ${unavailable}` : false;
const tag = randomBytes(4).toString('hex');
const key = (name: string) => infoHash(`enclave-server-proxy/${tag}/${name}`).toString('hex');

let server: TestServer;
let A: DhtnodeProcess | undefined;
let client: DhtProxyClient;
let caPem: string;
let caPath: string;

before(async () => {
  if (unavailable) return;
  const dhtPort = await freeUdpPort();
  server = await startTestServer({ ENCLAVE_DHT_PORT: String(dhtPort) });
  // The HTTPS certificate comes from the organization CA made at setup.
  const setup = await server.request('POST', '/api/setup', {
    body: {
      setupCode: fs.readFileSync(path.join(server.dataDir, 'setup-code'), 'utf8').trim(),
      organization: 'Example Corp',
      admin: { username: 'admin', password: 'admin-password-1' },
      ca: { mode: 'generate', algorithm: 'P-256' },
    },
  });
  assert.equal(setup.status, 201, setup.text());
  caPem = (await server.request('GET', '/api/ca')).text();
  caPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-proxy-ca-')), 'ca.pem');
  fs.writeFileSync(caPath, caPem);
  A = await DhtnodeProcess.start({ name: 'dhtnode-A', bootstrap: [`127.0.0.1:${dhtPort}`] });
  client = new DhtProxyClient({ server: `${server.localUrl}/dht-proxy`, ca: caPem, pollIntervalMs: 500 });
});

after(async () => {
  await client?.stop();
  await stopDhtnodes(A);
  await server?.close();
  await stopTestPostgres();
});

const curl = (args: string[]) => run('curl', ['-sS', '--cacert', caPath, '-w', '\n%{http_code}', ...args]);
const split = (out: string) => {
  const lines = out.trimEnd().split('\n');
  return { status: Number(lines.pop()), lines: lines.filter(Boolean) };
};

test('the project proxy client sees the server node through /dht-proxy', { skip }, async () => {
  const info = await client.start();
  assert.equal(info.nodeId, server.app.get(DhtService).node!.id.toString('hex'));
  const deadline = Date.now() + 10_000;
  while ((await client.info()).nodes < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.ok((await client.info()).nodes >= 1, 'the dhtnode is in its routing table');
});

test('values put through the proxy reach the dhtnode, and the other way round', { skip }, async () => {
  const k1 = key('via-proxy');
  const put = await client.put(k1, 'hello_via_enclave_proxy');
  const [seen] = await A!.get(k1);
  assert.equal(seen?.text, 'hello_via_enclave_proxy');
  assert.equal(BigInt(`0x${seen.id}`), put.id);

  const k2 = key('from-dhtnode');
  const fromNode = await A!.put(k2, 'hello_from_dhtnode');
  const got = await client.get(k2);
  assert.deepEqual(
    got.map((v) => [v.id, v.data.toString('utf8')]),
    [[BigInt(`0x${fromNode.id}`), 'hello_from_dhtnode']],
  );

  const signer = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const k3 = key('signed');
  await client.put(
    k3,
    signValue({ data: 'signed_via_proxy' }, signer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
  );
  const [signed] = await A!.get(k3);
  assert.equal(signed?.text, 'signed_via_proxy');
  assert.equal(signed.signed, true, `dhtnode verified the signature: ${signed.line.slice(0, 100)}`);
});

test('a listen through the proxy sees a value the dhtnode puts', { skip }, async () => {
  const k = key('listened');
  const seen: DhtValue[] = [];
  const cancel = await client.listen(k, (values, expired) => {
    if (!expired) seen.push(...values);
  });
  try {
    await A!.put(k, 'for_the_listener');
    const deadline = Date.now() + 10_000;
    while (!seen.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      seen.map((v) => v.data.toString('utf8')),
      ['for_the_listener'],
    );
  } finally {
    cancel();
  }
});

test("curl speaks OpenDHT's proxy JSON to it: GET lines, POST a value", { skip }, async () => {
  const k = key('curl');
  await A!.put(k, 'curl_can_read_this');
  const got = split((await curl([`${server.localUrl}/dht-proxy/${k}`])).stdout);
  assert.equal(got.status, 200);
  const values = got.lines.map((l) => JSON.parse(l) as { id: string; data: string; type: number; utype?: string });
  assert.deepEqual(
    values.map((v) => [Buffer.from(v.data, 'base64').toString(), v.type, v.utype, /^\d+$/.test(v.id)]),
    [['curl_can_read_this', 0, 'text/plain', true]],
  );

  const k2 = key('curl-post');
  const body = JSON.stringify({ id: '4242', type: 0, data: Buffer.from('posted_with_curl').toString('base64') });
  const posted = split((await curl(['-X', 'POST', '-d', body, `${server.localUrl}/dht-proxy/${k2}`])).stdout);
  assert.equal(posted.status, 200, posted.lines.join('\n'));
  assert.equal((JSON.parse(posted.lines[0]) as { id: string }).id, '4242');
  const [onNode] = await A!.get(k2);
  // dhtnode prints a value without a utype as hex.
  assert.ok(onNode?.line.includes(Buffer.from('posted_with_curl').toString('hex')), onNode?.line);
  assert.equal(BigInt(`0x${onNode.id}`), 4242n);
});

test('bad input: a forged signature, a bad hash, bad JSON get a 400 and change nothing', { skip }, async () => {
  const signer = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const genuine = signValue({ data: 'genuine' }, signer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const forged = { ...valueToProxyJson(genuine), data: Buffer.from('forged').toString('base64') };
  const k = key('forged');
  const res = await server.request('POST', `/dht-proxy/${k}`, { body: forged });
  assert.equal(res.status, 400, res.text());
  assert.equal(res.json<{ code: string }>().code, 'DHT_VALUE_INVALID');
  assert.deepEqual(await A!.get(k), [], 'nothing was relayed');

  const badHash = await server.request('GET', '/dht-proxy/not-a-hash');
  assert.equal(badHash.status, 400);
  assert.equal(badHash.json<{ code: string; details: { field: string } }>().details.field, 'hash');
  const badJson = split((await curl(['-X', 'POST', '-d', '{nope', `${server.localUrl}/dht-proxy/${k}`])).stdout);
  assert.equal(badJson.status, 400);
  const notAValue = await server.request('POST', `/dht-proxy/${k}`, { body: { id: 'x' } });
  assert.equal(notAValue.status, 400);
  assert.equal(notAValue.json<{ code: string }>().code, 'DHT_VALUE_INVALID');
});
