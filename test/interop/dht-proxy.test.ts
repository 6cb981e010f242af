/**
 * Our DHT proxy client (libs/core/src/dht/dht-proxy-client.ts) against the REST proxy of Debian's real
 * dhtnode (OpenDHT 2.4.12, `dhtnode --proxyserver`), on one loopback network:
 *   dhtnode R (with an identity: it signs, and decrypts what is encrypted to it), dhtnode P (the proxy,
 *   bootstrapped from R), and our UDP node U (bootstrapped from R).
 * Values go both ways between the proxy client and the UDP network (plain, signed and fragmented,
 * encrypted), listens see new values, a value encrypted to us but addressed to someone else is rejected, and
 * two EnclavePeers, one through the proxy and one with its own UDP node, find each other, connect over DTLS
 * and exchange messages, also through the DHT inbox when the proxy-side peer was offline. Then real
 * `enclave-agent run` daemons enrolled on the real server, whose organization policy sets the proxy
 * (Account.proxyEnabled + Account.proxyServer): one applies it, one is told `--dht-proxy off`; they talk.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  DhtNode,
  DhtProxyClient,
  DhtProxyError,
  DhtValue,
  EnclavePeer,
  EnclavePeerOptions,
  encryptValue,
  infoHash,
  keyId,
  loadDeviceIdentity,
  signValue,
  ValueRejectedEvent,
  type DeviceIdentity,
} from '@enclave/core';
import {
  accountCrl,
  rsaKeyPair,
  testAccount,
  testCa,
  testDevice,
} from '../../libs/core/src/trust/pki-fixtures.test-helper';
import { pack, RawMsgpack } from '../../libs/core/src/dht/msgpack';
import { rsaEncrypt } from '../../libs/core/src/dht/value-crypto';
import {
  AgentDaemon,
  agentMain,
  caFile,
  createUsers,
  enrollAgent,
  LOOPBACK_DAEMON_ARGS,
  startAgentDaemon,
} from '../support/agent';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';
import { DhtnodeProcess, dhtnodeUnavailableReason, stopDhtnodes } from '../support/dhtnode';

const unavailable = dhtnodeUnavailableReason();
const skip = unavailable ? `DHT proxy interop: ${unavailable}` : false;

const run = randomBytes(4).toString('hex');
const key = (name: string) => infoHash(`enclave-proxy-interop/${run}/${name}`).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const ours = rsaKeyPair(2048);
let R: DhtnodeProcess | undefined;
let P: DhtnodeProcess | undefined;
let U: DhtNode;
let client: DhtProxyClient;
const rejected: ValueRejectedEvent[] = [];
const clients: DhtProxyClient[] = [];
const peers: EnclavePeer[] = [];

before(async () => {
  if (unavailable) return;
  R = await DhtnodeProcess.start({ name: 'dhtnode-R', identity: true });
  P = await DhtnodeProcess.start({ name: 'dhtnode-P', proxyServer: true, bootstrap: [R.address] });
  U = new DhtNode({ host: '127.0.0.1', requestTimeoutsMs: [250, 250, 500] });
  await U.start();
  await U.bootstrap([R.address]);
  client = new DhtProxyClient({
    server: P.proxyAddress,
    identity: { privateKeyPem: ours.privateKeyPem },
    pollIntervalMs: 250,
  });
  clients.push(client);
  client.on('value-rejected', (e) => rejected.push(e));
});

after(async () => {
  await Promise.all(peers.map((p) => p.stop()));
  await Promise.all(clients.map((c) => c.stop()));
  await U?.stop();
  await stopDhtnodes(...[P, R].filter((n): n is DhtnodeProcess => !!n));
});

describe('DHT proxy client against dhtnode --proxyserver', { skip, timeout: 120_000 }, () => {
  test('start() reads the proxy node info (GET /)', async () => {
    const info = await client.start();
    assert.equal(info.nodeId, P!.nodeId);
    assert.equal(client.lastKnownInfo, info);
    // The proxy's node joins R in the background: its routing table fills within moments.
    const joined = await eventually('the proxy to know dhtnode R', async () => {
      const i = await client.info();
      return i.nodes >= 1 ? i : undefined;
    });
    assert.ok(joined.goodNodes <= joined.nodes);
  });

  test('a plain value put through the proxy is read by a dhtnode on the UDP network', async () => {
    const k = key('plain');
    const r = await client.put(k, 'hello-through-the-proxy');
    const seen = await eventually('dhtnode R to read the value', async () =>
      (await R!.get(k)).find((v) => v.id === r.id.toString(16)),
    );
    assert.equal(seen.text, 'hello-through-the-proxy');
    assert.equal(seen.signed, false);
  });

  test('a signed value over 600 bytes (fragmented on the UDP network) keeps its signature', async () => {
    const k = key('signed-big');
    const text = `signed-${'x'.repeat(1200)}`;
    const v = signValue({ data: text, utype: 'text/plain', seq: 3 }, ours.privateKeyPem);
    await client.put(k, v);
    const seen = await eventually('dhtnode R to read the signed value', async () =>
      (await R!.get(k)).find((x) => x.id === v.id.toString(16)),
    );
    assert.equal(seen.signed, true, seen.line);
    assert.equal(seen.text, text);
    // And our UDP node verifies it too (the proxy re-packed it from JSON: the body bytes must be canonical).
    const viaUdp = await U.get(k);
    const mine = viaUdp.find((x) => x.id === v.id);
    assert.ok(mine, 'our UDP node reads it');
    assert.equal(mine.seq, 3);
    assert.ok(mine.owner!.equals(v.owner!));
  });

  test('a value encrypted to a dhtnode through the proxy is decrypted by that dhtnode', async () => {
    const k = key('encrypted-to-R');
    const r = await client.putEncrypted(k, 'for-R-only', R!.certificatePem!, { utype: 'text/plain' });
    const seen = await eventually('dhtnode R to decrypt the value', async () =>
      (await R!.get(k)).find((v) => v.id === r.id.toString(16)),
    );
    assert.equal(seen.decrypted, true, seen.line);
    assert.equal(seen.signed, true, seen.line);
    assert.equal(seen.text, 'for-R-only');
  });

  test("values from the UDP network come back through the proxy: dhtnode's plain and signed ones", async () => {
    const k = key('from-R');
    const plain = await R!.put(k, 'plain-from-R');
    await R!.putSigned(k, 'signed-from-R');
    const values = await eventually('both values through the proxy', async () => {
      const vs = await client.get(k);
      return vs.length >= 2 ? vs : undefined;
    });
    const byText = new Map(values.map((v) => [v.data.toString('utf8'), v]));
    assert.equal(byText.get('plain-from-R')!.id.toString(16), plain.id);
    const signed = byText.get('signed-from-R')!;
    assert.ok(signed.owner, 'signed value has its owner');
    assert.equal(keyId(signed.owner).toString('hex'), R!.publicKeyId, 'owner is dhtnode R');
    assert.ok(signed.signature && signed.signature.length > 0);
  });

  test('a value our UDP node encrypts to the proxy client is decrypted and checked by the client', async () => {
    const k = key('encrypted-to-us');
    const sender = rsaKeyPair(2048);
    const ourPublic = ours.publicKeyPem;
    const r = await U.put(k, encryptValue({ data: 'secret-for-the-client', type: 3 }, sender.privateKeyPem, ourPublic));
    const v = await eventually('the decrypted value', async () => (await client.get(k)).find((x) => x.id === r.id));
    assert.equal(v.decrypted, true);
    assert.equal(v.data.toString(), 'secret-for-the-client');
    assert.equal(v.type, 3);
    assert.equal(keyId(v.owner!).toString('hex'), keyId(sender.publicKeyPem).toString('hex'));
  });

  test('a value encrypted to us but addressed to another key is rejected, not returned', async () => {
    const k = key('misaddressed');
    const sender = rsaKeyPair(2048);
    const other = rsaKeyPair(2048);
    const ourPublic = ours.publicKeyPem;
    // Signed and addressed ("to") to `other`, but encrypted to our key.
    const inner = signValue({ data: 'not-for-you', to: keyId(other.publicKeyPem) }, sender.privateKeyPem);
    const forged = encryptValue({ data: 'placeholder' }, sender.privateKeyPem, ourPublic);
    const cypher = rsaEncrypt(pack({ body: new RawMsgpack(inner.body!), sig: inner.signature! }), ourPublic);
    await U.put(k, { ...forged, cypher, raw: undefined });
    const before = rejected.length;
    await eventually('the rejection', async () => {
      assert.deepEqual(await client.get(k), []);
      return rejected.length > before ? true : undefined;
    });
    assert.equal(rejected.at(-1)!.reason, 'recipient-mismatch');
    assert.equal(rejected.at(-1)!.key.toString('hex'), k);
  });

  test('listen through the proxy sees values as they are put, and updates (higher seq)', async () => {
    const k = key('listen');
    const got: { values: DhtValue[]; expired: boolean }[] = [];
    const cancel = await client.listen(k, (values, expired) => got.push({ values, expired }));
    assert.equal(got.length, 0, 'nothing there yet');
    await R!.put(k, 'first-value');
    await eventually(
      'the first value',
      () => got.some((g) => g.values.some((v) => v.data.toString() === 'first-value')) || undefined,
    );
    const v1 = signValue({ data: 'v1', id: 77n, seq: 1 }, ours.privateKeyPem);
    await U.put(k, v1);
    await eventually('v1', () => got.some((g) => g.values.some((v) => v.id === 77n && v.seq === 1)) || undefined);
    const v2 = signValue({ data: 'v2', id: 77n, seq: 2 }, ours.privateKeyPem);
    await U.put(k, v2);
    await eventually(
      'the update to seq 2',
      () =>
        got.some((g) => g.values.some((v) => v.id === 77n && v.seq === 2 && v.data.toString() === 'v2')) || undefined,
    );
    cancel();
    const count = got.length;
    await R!.put(k, 'after-cancel');
    await sleep(1_000);
    assert.equal(got.length, count, 'no callback after cancel');
    assert.equal(client.stats().subscriptions, 0);
  });

  test('clear errors: nothing listening, not a proxy, bad address', async () => {
    const srv = http.createServer((_req, res) => res.writeHead(404).end('no'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as AddressInfo).port;
    try {
      await assert.rejects(new DhtProxyClient({ server: `127.0.0.1:${port}` }).start(), (e: DhtProxyError) => {
        assert.equal(e.code, 'NOT_A_PROXY');
        assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}.*OpenDHT proxy \\(HTTP 404\\)`));
        return true;
      });
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
    await assert.rejects(new DhtProxyClient({ server: `127.0.0.1:${port}` }).start(), (e: DhtProxyError) => {
      assert.equal(e.code, 'UNREACHABLE');
      assert.match(e.message, /unreachable: ECONNREFUSED/);
      return true;
    });
    assert.throws(() => new DhtProxyClient({ server: 'ftp://127.0.0.1:21' }), { code: 'BAD_URL' });
  });
});

describe('EnclavePeers: one through the DHT proxy, one with its own UDP node', { skip, timeout: 120_000 }, () => {
  let viaProxy: DeviceIdentity;
  let direct: DeviceIdentity;
  const crls = new Map<string, Buffer>();

  function peer(identity: DeviceIdentity, opts: Partial<EnclavePeerOptions>): EnclavePeer {
    const p = new EnclavePeer({
      identity,
      ice: { bindAddress: '127.0.0.1' },
      crlSources: [{ name: 'test', fetch: async (id) => (crls.has(id) ? [crls.get(id)!] : []) }],
      connectTimeoutMs: 5_000,
      retryIntervalMs: 1_000,
      log: process.env.PEER_DEBUG
        ? (l, m, d) => console.error(Date.now() % 100000, identity.deviceShortId.slice(0, 6), l, m, JSON.stringify(d))
        : undefined,
      ...opts,
    });
    peers.push(p);
    return p;
  }
  const proxied = (identity: DeviceIdentity) =>
    peer(identity, { dhtProxy: { server: `http://${P!.proxyAddress}`, pollIntervalMs: 250 } });
  const udp = (identity: DeviceIdentity) =>
    peer(identity, { dht: { host: '127.0.0.1', bootstrap: [R!.address], requestTimeoutsMs: [250, 250, 500] } });

  before(async () => {
    if (unavailable) return;
    const ca = await testCa();
    const [carol, dave] = await Promise.all([testAccount(ca, 'carol'), testAccount(ca, 'dave')]);
    const [c, d] = await Promise.all([testDevice(carol), testDevice(dave)]);
    viaProxy = loadDeviceIdentity(c.files);
    direct = loadDeviceIdentity(d.files);
    crls.set(carol.jamiId, await accountCrl(carol, []));
    crls.set(dave.jamiId, await accountCrl(dave, []));
  });

  test('they find each other, connect over DTLS and exchange messages both ways', async () => {
    const pc = proxied(viaProxy);
    const pd = udp(direct);
    assert.ok((await pc.start()) >= 1, 'the proxy knows the network');
    await pd.start();
    assert.equal(pc.node, undefined, 'no UDP node when a proxy is used');
    assert.ok(pc.proxy);
    const devices = await eventually('the UDP peer to find the proxied one', async () => {
      const found = await pd.devicesOf(viaProxy.accountId);
      return found.length ? found : undefined;
    });
    assert.equal(devices[0].deviceShortId, viaProxy.deviceShortId);
    const received = new Promise<string>((resolve) => pc.messenger.once('message', (m) => resolve(m.body)));
    const sent = await pd.send(viaProxy.accountId, 'hello proxied carol');
    assert.deepEqual(
      sent.devices.map((d) => d.status),
      ['delivered'],
    );
    assert.equal(await received, 'hello proxied carol');
    const back = new Promise<{ body: string; via: string }>((resolve) => pd.messenger.once('message', resolve));
    const r = await pc.send(direct.accountId, 'hi dave, from behind the proxy');
    assert.deepEqual(
      r.devices.map((d) => d.status),
      ['delivered'],
    );
    const m = await back;
    assert.equal(m.body, 'hi dave, from behind the proxy');
    assert.equal(m.via, 'direct');
    await pc.stop();
  });

  test('a message for the proxied peer while it is offline waits in its inbox and arrives when it is back', async () => {
    const pd = peers.find((p) => p.identity === direct)!;
    const r = await pd.send(viaProxy.accountId, 'queued while you were away');
    assert.deepEqual(
      r.devices.map((d) => d.status),
      ['queued'],
    );
    const again = proxied(viaProxy);
    const received = new Promise<{ body: string; via: string }>((resolve) =>
      again.messenger.on('message', (m) => m.body === 'queued while you were away' && resolve(m)),
    );
    await again.start();
    const m = await received;
    assert.equal(m.via, 'inbox');
  });
});

describe('agents whose organization policy sets the DHT proxy', { skip, timeout: 120_000 }, () => {
  let server: TestServer;
  const dirs: Record<string, string> = {};
  const daemons: AgentDaemon[] = [];
  const cli = (name: string, args: string[]) => agentMain([...args, '--state-dir', dirs[name]]);

  before(async () => {
    if (unavailable) return;
    server = await startTestServer({
      ENCLAVE_DEFAULT_POLICY: JSON.stringify({
        'Account.hostname': R!.address,
        'Account.proxyEnabled': true,
        'Account.proxyServer': P!.proxyAddress,
      }),
    });
    const admin = await setUp(server);
    await createUsers(server, admin, ['frank', 'grace']);
    const ca = await caFile(server);
    [dirs.frank, dirs.grace] = await Promise.all([
      enrollAgent(server, ca, 'frank', 'frank'),
      enrollAgent(server, ca, 'grace', 'grace'),
    ]);
  });

  after(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    await server?.close();
    await stopTestPostgres();
  });

  test('the policy proxy is applied (or overridden with --dht-proxy off); the agents talk directly', async () => {
    const [frank, grace] = await Promise.all([
      startAgentDaemon(dirs.frank),
      startAgentDaemon(dirs.grace, [...LOOPBACK_DAEMON_ARGS, '--dht-proxy', 'off']),
    ]);
    daemons.push(frank, grace);
    const f = await frank.waitFor((l) => l.msg === 'agent started');
    assert.equal(f.dhtProxy, `http://${P!.proxyAddress}`);
    assert.equal(f.dhtPort, undefined, 'no UDP DHT node behind a proxy');
    const g = await grace.waitFor((l) => l.msg === 'agent started');
    assert.equal(g.dhtProxy, undefined);
    assert.deepEqual(g.bootstrap, [R!.address]);
    assert.equal(typeof g.dhtPort, 'number');

    const status = await cli('frank', ['status', '--offline']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      new RegExp(`DHT through proxy http://${P!.proxyAddress.replace(/\./g, '\\.')}, \\d+/\\d+ nodes`),
    );
    const json = JSON.parse((await cli('frank', ['status', '--offline', '--json'])).stdout);
    assert.equal(json.daemon.dht.proxy, `http://${P!.proxyAddress}`);
    assert.ok(json.daemon.dht.nodes >= 1, 'the proxy knows the network');

    const sent = await eventually('frank to find grace on the DHT', async () => {
      const r = await cli('frank', ['send', 'grace', 'hello grace, from behind the proxy', '--json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as { devices: { status: string }[] }) : undefined;
    });
    assert.deepEqual(
      sent.devices.map((d) => d.status),
      ['delivered'],
    );
    const got = await grace.waitFor(
      (l) => l.msg === 'message received' && l.body === 'hello grace, from behind the proxy',
    );
    assert.equal(got.via, 'direct');
    const back = await cli('grace', ['send', 'frank', 'hi frank']);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /delivered to frank/);
    await frank.waitFor((l) => l.msg === 'message received' && l.body === 'hi frank');
  });

  test('an unreachable proxy stops `run` with exit code 13 and says which proxy', async () => {
    const srv = http.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    // frank's daemon still runs on his state dir: use grace's, stopped first.
    assert.equal(await daemons[1].stop(), 0);
    const r = await cli('grace', ['run', ...LOOPBACK_DAEMON_ARGS, '--dht-proxy', `127.0.0.1:${port}`]);
    assert.equal(r.code, 13, r.stderr);
    assert.match(r.stderr, new RegExp(`DHT proxy http://127\\.0\\.0\\.1:${port} is unreachable: ECONNREFUSED`));
    assert.match(r.stderr, /--dht-proxy off/);
  });
});
