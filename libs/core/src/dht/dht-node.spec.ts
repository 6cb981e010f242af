import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { DhtNode, DhtNodeOptions, ValueRejectedEvent } from './dht-node';
import { infoHash, keyId } from './info-hash';
import { decodeMessage, encodeQuery, valuesField, WireMessage } from './messages';
import { createValue, DhtValue, encodeValue, signValue } from './value';

const pem = (bits = 2048) => {
  const k = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    privateKeyPem: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: k.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
};
const alice = pem();
const bob = pem();

const started: DhtNode[] = [];
after(() => Promise.all(started.map((n) => n.stop())));

async function node(opts: DhtNodeOptions = {}): Promise<DhtNode> {
  const n = new DhtNode({ host: '127.0.0.1', requestTimeoutsMs: [200, 200, 300], ...opts });
  await n.start();
  started.push(n);
  return n;
}

const addr = (n: DhtNode) => `${n.address.host}:${n.address.port}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function eventually(what: string, check: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A bare UDP socket speaking the wire format by hand. */
async function rawPeer() {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const inbox: WireMessage[] = [];
  socket.on('message', (m) => inbox.push(decodeMessage(m)));
  return {
    id: infoHash('raw peer'),
    inbox,
    send: (packet: Buffer, to: DhtNode) => socket.send(packet, to.address.port, '127.0.0.1'),
    async reply(tid: number, timeoutMs = 1000): Promise<WireMessage> {
      await eventually(`reply ${tid}`, () => inbox.some((m) => m.tid === tid), timeoutMs);
      return inbox.find((m) => m.tid === tid)!;
    },
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

test('nodes bootstrap from one another and find values by iterative search', async () => {
  const root = await node();
  const others = await Promise.all(Array.from({ length: 6 }, () => node()));
  for (const n of others) assert.ok((await n.bootstrap([addr(root)])) >= 1);
  // The last ones to join learned the earlier ones through the lookups of their own id.
  assert.ok(others[5].nodes().length >= 3, `routing table: ${others[5].nodes().length}`);
  const key = infoHash('search-key');
  const put = await others[0].put(key, 'found by search');
  assert.ok(put.storedOn.length >= 4, `stored on ${put.storedOn.length} nodes`);
  const values = await others[5].get(key);
  assert.deepEqual(
    values.map((v) => [v.id, v.data.toString(), v.utype]),
    [[put.id, 'found by search', 'text/plain']],
  );
  const found = await others[3].findNodes(key);
  assert.ok(found.length >= 4);
  assert.ok(found.every((n, i) => i === 0 || Buffer.compare(xor(n.id, key), xor(found[i - 1].id, key)) > 0));
});

const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((x, i) => x ^ b[i]));

test('large signed values travel as value parts in puts and in get replies, and verify', async () => {
  const storer = await node();
  const writer = await node();
  const reader = await node();
  await writer.bootstrap([addr(storer)]);
  await reader.bootstrap([addr(storer)]);
  const key = infoHash('big');
  const data = Buffer.alloc(5000, 0x61);
  const put = await writer.putSigned(key, data, alice.privateKeyPem, { utype: 'application/octet-stream' });
  assert.ok(put.storedOn.some((n) => n.id.equals(storer.id)));
  assert.equal(storer.localValues(key)[0]?.data.length, 5000);
  const [v] = await reader.get(key, { filter: (x) => x.owner !== undefined });
  assert.deepEqual(v.data, data);
  assert.deepEqual(keyId(v.owner!), keyId(alice.publicKeyPem));
});

test('a storing node acknowledges a forged put, as OpenDHT does, but does not store it', async () => {
  const storer = await node();
  const writer = await node();
  await writer.bootstrap([addr(storer)]);
  const rejected: ValueRejectedEvent[] = [];
  storer.on('value-rejected', (e) => rejected.push(e));
  const key = infoHash('forged');
  const original = signValue({ data: 'original' }, alice.privateKeyPem);
  const forged: DhtValue = { ...original, data: Buffer.from('tampered'), raw: undefined, body: undefined };
  const put = await writer.put(key, forged);
  assert.equal(put.storedOn.length, 1, 'acked');
  assert.deepEqual(storer.localValues(key), []);
  assert.deepEqual(
    rejected.map((e) => [e.reason, e.from?.port]),
    [['bad-signature', writer.address.port]],
  );
  assert.deepEqual(await writer.get(key), []);
});

test('encrypted values: only the recipient decrypts them, others get the cypher', async () => {
  const storer = await node();
  const recipient = await node({ identity: { privateKeyPem: bob.privateKeyPem } });
  const sender = await node({ identity: { privateKeyPem: alice.privateKeyPem } });
  const stranger = await node({ identity: { privateKeyPem: pem().privateKeyPem } });
  for (const n of [recipient, sender, stranger]) await n.bootstrap([addr(storer)]);
  const key = infoHash('inbox');
  const put = await sender.putEncrypted(key, 'for bob only', bob.publicKeyPem, { type: 4 });
  assert.ok(put.storedOn.length >= 1);
  const [mine] = await recipient.get(key);
  assert.equal(mine.decrypted, true);
  assert.equal(mine.data.toString(), 'for bob only');
  assert.equal(mine.type, 4);
  assert.deepEqual(keyId(mine.owner!), keyId(alice.publicKeyPem));
  const [theirs] = await stranger.get(key);
  assert.ok(theirs.cypher && !theirs.decrypted);
  assert.equal(theirs.data.length, 0);
  await assert.rejects(() => storer.putEncrypted(key, 'x', bob.publicKeyPem), /signing key/);
});

test('listen: current values first, then values put later are pushed by the storing node', async () => {
  const storer = await node();
  const listener = await node({ storage: { maxBytes: 0 } });
  const writer = await node();
  await listener.bootstrap([addr(storer)]);
  await writer.bootstrap([addr(storer)]);
  const key = infoHash('listened');
  await writer.put(key, 'before');
  const seen: string[] = [];
  const cancel = await listener.listen(key, (values, expired) => {
    for (const v of values) seen.push(`${expired ? '-' : '+'}${v.data.toString()}`);
  });
  assert.deepEqual(seen, ['+before']);
  assert.equal(storer.stats().remoteListeners, 1);
  await writer.put(key, 'after');
  await eventually('the update', () => seen.length === 2);
  assert.deepEqual(seen, ['+before', '+after']);
  cancel();
  assert.equal(listener.stats().subscriptions, 0);
});

test('a listen is renewed before the storing node forgets it', async () => {
  const storer = await node();
  const listener = await node({ listenRefreshMs: 300, storage: { maxBytes: 0 } });
  await listener.bootstrap([addr(storer)]);
  const key = infoHash('renewed');
  const seen: string[] = [];
  const cancel = await listener.listen(key, (values) => seen.push(...values.map((v) => v.data.toString())));
  type Internals = { remoteListeners: Map<string, Map<string, { expiresAt: number }>> };
  const expiry = () =>
    [...(storer as unknown as Internals).remoteListeners.values()][0]?.values().next().value?.expiresAt;
  const firstExpiry = expiry()!;
  await sleep(1500); // a few renewals
  assert.equal(storer.stats().remoteListeners, 1, 'still exactly one listener (same socket id)');
  assert.ok(expiry()! >= firstExpiry + 900, 'its expiry moved forward');
  storer.store(key, createValue({ data: 'late' }));
  await eventually('the update', () => seen.includes('late'));
  cancel();
});

test('protocol errors: wrong token 401, refresh of an unknown value 404, get without a key 203', async () => {
  const n = await node();
  const peer = await rawPeer();
  try {
    const key = infoHash('errors');
    const value = encodeValue(createValue({ data: 'x', id: 42n }));
    peer.send(encodeQuery(1, 'put', { id: peer.id, h: key, token: Buffer.alloc(32), values: valuesField([value]) }), n);
    assert.deepEqual((await peer.reply(1)).error, { code: 401, message: 'Put with wrong token' });

    peer.send(encodeQuery(2, 'get', { id: peer.id, h: key }), n);
    const token = (await peer.reply(2)).body.token!;
    assert.equal(token.length, 32);
    peer.send(encodeQuery(3, 'refresh', { id: peer.id, h: key, vid: 42n, token }), n);
    assert.deepEqual((await peer.reply(3)).error, { code: 404, message: 'Access operation for unknown storage' });

    peer.send(encodeQuery(4, 'get', { id: peer.id }), n);
    assert.equal((await peer.reply(4)).error?.code, 203);

    peer.send(encodeQuery(6, 'ping', { id: n.id }), n); // "from ourselves": dropped
    peer.send(Buffer.from('not msgpack'), n);
    peer.send(encodeQuery(7, 'ping', { id: peer.id }), n);
    const pong = await peer.reply(7);
    assert.deepEqual(pong.body.id, n.id);
    assert.equal(pong.body.sa, '127.0.0.1');
    assert.equal(
      peer.inbox.some((m) => m.tid === 6),
      false,
    );
  } finally {
    await peer.close();
  }
});

test('a get with a select is answered with `fileds`; a where on the id returns that value (dhtnode paging)', async () => {
  const n = await node();
  const key = infoHash('paged');
  const v1 = signValue({ data: 'one', id: 11n, seq: 3 }, alice.privateKeyPem);
  const v2 = createValue({ data: 'two', id: 0xfedcba9876543210n });
  n.store(key, v1);
  n.store(key, v2);
  const peer = await rawPeer();
  try {
    peer.send(encodeQuery(1, 'get', { id: peer.id, h: key, q: { s: [1, 4], w: [] } }), n);
    const sel = await peer.reply(1);
    assert.equal(sel.body.values, undefined);
    assert.deepEqual(sel.body.fields, { fields: [1, 4], values: [11, 3, 0xfedcba9876543210n, 0] });
    assert.equal(sel.body.token?.length, 32);

    peer.send(encodeQuery(2, 'get', { id: peer.id, h: key, q: { s: [], w: [{ f: 1, v: 0xfedcba9876543210n }] } }), n);
    const one = await peer.reply(2);
    assert.deepEqual(one.body.values, [encodeValue(v2)]);
  } finally {
    await peer.close();
  }
});

test('packets of another network id are dropped silently', async () => {
  const n = await node({ networkId: 5 });
  const peer = await rawPeer();
  try {
    peer.send(encodeQuery(1, 'ping', { id: peer.id }), n);
    peer.send(encodeQuery(2, 'ping', { id: peer.id }, 6), n);
    peer.send(encodeQuery(3, 'ping', { id: peer.id }, 5), n);
    const ok = await peer.reply(3);
    assert.equal(ok.network, 5);
    await sleep(100);
    assert.deepEqual(
      peer.inbox.map((m) => m.tid),
      [3],
    );
  } finally {
    await peer.close();
  }
});

test('requests over the per-address rate limit are dropped', async () => {
  const n = await node({ rateLimit: { perIpPerSecond: 5 } });
  const peer = await rawPeer();
  try {
    for (let t = 1; t <= 20; t++) peer.send(encodeQuery(t, 'ping', { id: peer.id }), n);
    await sleep(200);
    const answered = peer.inbox.length;
    assert.ok(answered >= 1 && answered <= 5, `${answered} answered`);
  } finally {
    await peer.close();
  }
});

test('the node cache brings a restarted node back into the network', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dht-cache-'));
  try {
    const file = path.join(dir, 'nodes.json');
    const a = await node();
    const b = await node();
    const first = new DhtNode({ host: '127.0.0.1', nodeCacheFile: file, requestTimeoutsMs: [200, 200, 300] });
    await first.start();
    await first.bootstrap([addr(a), addr(b)]);
    await first.stop();
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: { id: string }[] };
    assert.deepEqual(saved.nodes.map((x) => x.id).sort(), [a.id.toString('hex'), b.id.toString('hex')].sort());

    const again = await node();
    assert.equal(await again.loadNodeCache(file), 2);
    assert.deepEqual(
      again
        .nodes()
        .filter((x) => x.good)
        .map((x) => x.id.toString('hex'))
        .sort(),
      saved.nodes.map((x) => x.id).sort(),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a permanent put is refreshed, and put again on a storing node that lost it', async () => {
  const storer = await node();
  const writer = await node();
  await writer.bootstrap([addr(storer)]);
  const key = infoHash('permanent');
  const put = await writer.put(key, 'keep me', { permanent: true });
  // Internals: the refresh schedule, and the storing node's expiry of the value.
  type Writer = { permanent: Map<string, { refreshAt: number }> };
  type Storer = { storage: { get(k: Buffer): { expiresAt: number }[] } };
  const due = () => [...(writer as unknown as Writer).permanent.values()].forEach((p) => (p.refreshAt = 0));
  const expiresAt = () => (storer as unknown as Storer).storage.get(key)[0].expiresAt;

  const before = expiresAt();
  await sleep(20);
  due();
  await eventually('the refresh', () => expiresAt() > before, 3_000);

  // A storing node restarted with an empty storage answers the refresh with 404: the value is put again.
  const port = storer.address.port;
  await storer.stop();
  const replacement = await node({ port });
  await writer.bootstrap([addr(replacement)]);
  due();
  await eventually('the value put again', () => replacement.localValues(key).length === 1, 8_000);
  assert.equal(replacement.localValues(key)[0].id, put.id);
  assert.equal(writer.cancelPut(key, put.id), true);
});

test('IPv6: nodes on ::1 exchange compact n6 node lists and values', async () => {
  const a = await node({ host: '::1' });
  const b = await node({ host: '::1' });
  const c = await node({ host: '::1' });
  await b.bootstrap([`[::1]:${a.address.port}`]);
  await c.bootstrap([`[::1]:${a.address.port}`]);
  assert.ok(
    c.nodes().some((n) => n.id.equals(b.id)),
    'c learned b from a (n6)',
  );
  const key = infoHash('v6');
  await b.put(key, 'over ipv6');
  assert.deepEqual(
    (await c.get(key)).map((v) => v.data.toString()),
    ['over ipv6'],
  );
});
