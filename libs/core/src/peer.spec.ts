/**
 * Two (and more) peers on a small loopback network of our own DHT nodes, with an organization PKI built by
 * @enclave/pki: presence, secure connections, messaging, refusals. The same flows against real dhtnodes and
 * the real server are in test/interop/agent-peers.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { DeviceIdentity, loadDeviceIdentity } from './account/device-identity';
import { DhtNode } from './dht/dht-node';
import { ReceivedMessage } from './messaging/messenger';
import { EnclavePeer, EnclavePeerOptions } from './peer';
import { accountCrl, testAccount, testCa, TestAccount, testDevice } from './trust/pki-fixtures.test-helper';
import { RefusedPeer } from './connection/connection-manager';
import { TrustErrorCode } from './trust/trust.errors';

/** On loopback a request that is not answered in 250 ms will not be. */
const LOOPBACK_TIMEOUTS = [250, 250, 500];
const nodes: DhtNode[] = [];
const peers: EnclavePeer[] = [];
let bootstrap: string[];
let alice: TestAccount;
let bob: TestAccount;
let foreignAccount: TestAccount;
const crls = new Map<string, Buffer>();
let A: DeviceIdentity;
let B: DeviceIdentity;
let revokedB: DeviceIdentity;
let offlineB: DeviceIdentity;
let foreign: DeviceIdentity;

function peer(identity: DeviceIdentity, opts: Partial<EnclavePeerOptions> = {}): EnclavePeer {
  const name = identity.deviceShortId.slice(0, 6);
  const p = new EnclavePeer({
    identity,
    dht: { host: '127.0.0.1', bootstrap, requestTimeoutsMs: LOOPBACK_TIMEOUTS },
    ice: { bindAddress: '127.0.0.1' },
    crlSources: [{ name: 'test', fetch: async (id) => (crls.has(id) ? [crls.get(id)!] : []) }],
    crlMaxAgeMs: 0,
    connectTimeoutMs: 2_500,
    retryIntervalMs: 1_000,
    log: process.env.PEER_DEBUG
      ? (l, m, d) => l !== 'debug' && console.error(Date.now() % 100000, name, m, JSON.stringify(d))
      : undefined,
    ...opts,
  });
  peers.push(p);
  return p;
}

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function nextMessage(p: EnclavePeer, filter: (m: ReceivedMessage) => boolean = () => true): Promise<ReceivedMessage> {
  return new Promise((resolve) => {
    const on = (m: ReceivedMessage) => {
      if (!filter(m)) return;
      p.messenger.off('message', on);
      resolve(m);
    };
    p.messenger.on('message', on);
  });
}

function nextRefusal(p: EnclavePeer): Promise<RefusedPeer> {
  return new Promise((resolve) => p.connections.once('refused', resolve));
}

before(async () => {
  for (let i = 0; i < 5; i++) {
    const n = new DhtNode({ host: '127.0.0.1', rateLimit: false, requestTimeoutsMs: LOOPBACK_TIMEOUTS });
    await n.start();
    nodes.push(n);
  }
  bootstrap = [`127.0.0.1:${nodes[0].address.port}`];
  await Promise.all(nodes.slice(1).map((n) => n.bootstrap(bootstrap)));
  const [ca, otherCa] = await Promise.all([testCa(), testCa('Elsewhere CA')]);
  [alice, bob, foreignAccount] = await Promise.all([
    testAccount(ca, 'alice'),
    testAccount(ca, 'bob'),
    testAccount(otherCa),
  ]);
  const [a, b, rb, ob, f] = await Promise.all([
    testDevice(alice),
    testDevice(bob),
    testDevice(bob),
    testDevice(bob),
    testDevice(foreignAccount),
  ]);
  [A, B, revokedB, offlineB, foreign] = [a, b, rb, ob, f].map((d) => loadDeviceIdentity(d.files));
  crls.set(alice.jamiId, await accountCrl(alice, []));
  crls.set(bob.jamiId, await accountCrl(bob, [rb.serialNumber]));
});

after(async () => {
  await Promise.all(peers.map((p) => p.stop()));
  await Promise.all(nodes.map((n) => n.stop()));
});

describe('EnclavePeer', { timeout: 30_000 }, () => {
  let pa: EnclavePeer;
  let pb: EnclavePeer;

  before(async () => {
    pa = peer(A);
    pb = peer(B);
    await Promise.all([pa.start(), pb.start()]);
  });

  test("finds a colleague's devices from the account id (announcements signed by the account)", async () => {
    const devices = await pa.devicesOf(bob.jamiId);
    assert.ok(devices.some((d) => d.deviceShortId === B.deviceShortId && d.deviceId === B.deviceId));
    assert.ok(devices.every((d) => d.accountId === bob.jamiId));
  });

  test('connects over DTLS bound to the device certificates and exchanges messages both ways', async () => {
    const incoming = new Promise<string>((resolve) =>
      pb.connections.once('connection', (c) => resolve(c.peer.deviceShortId)),
    );
    const conn = await pa.connections.connect(B.deviceShortId);
    assert.equal(conn.peer.accountId, bob.jamiId);
    assert.equal(await incoming, A.deviceShortId);

    const got = nextMessage(pb);
    const sent = await pa.send(bob.jamiId, 'hello bob');
    assert.deepEqual(
      sent.devices.find((d) => d.deviceShortId === B.deviceShortId),
      { deviceShortId: B.deviceShortId, status: 'delivered' },
    );
    const m = await got;
    assert.equal(m.body, 'hello bob');
    assert.equal(m.via, 'direct');
    assert.deepEqual(m.from, { accountId: alice.jamiId, deviceShortId: A.deviceShortId, deviceId: A.deviceId });

    const back = nextMessage(pa);
    await pb.send(alice.jamiId, 'hi alice');
    assert.equal((await back).body, 'hi alice');
  });

  test('opens many named channels on one connection', async () => {
    const conn = await pa.connections.connect(B.deviceShortId);
    const remote = new Promise<string[]>((resolve) => {
      const names: string[] = [];
      pb.connections.connection(A.deviceShortId)!.on('channel', (ch) => {
        names.push(ch.name);
        ch.on('message', (m) => ch.send(`echo:${m.toString()}`));
        if (names.length === 3) resolve(names);
      });
    });
    const channels = await Promise.all(['x', 'y', 'z'].map((n) => conn.openChannel(n)));
    assert.deepEqual((await remote).sort(), ['x', 'y', 'z']);
    const echoes = await Promise.all(
      channels.map(
        (ch) =>
          new Promise<string>((resolve) => {
            ch.once('message', (m) => resolve(m.toString()));
            ch.send(ch.name);
          }),
      ),
    );
    assert.deepEqual(echoes, ['echo:x', 'echo:y', 'echo:z']);
  });

  test('refuses to connect to a revoked device, and a revoked device cannot connect', async () => {
    const pr = peer(revokedB, { connectTimeoutMs: 1_500 });
    await pr.start();
    await assert.rejects(pa.connections.connect(revokedB.deviceShortId), { code: TrustErrorCode.REVOKED });
    const refused = nextRefusal(pa);
    await assert.rejects(pr.connections.connect(A.deviceShortId), /timed out/);
    const r = await refused;
    assert.equal(r.deviceShortId, revokedB.deviceShortId);
    assert.equal(r.code, TrustErrorCode.REVOKED);
  });

  test('refuses a device of another organization', async () => {
    // It trusts our CA (so it can reach A) but its own chain leads to another CA.
    const pf = peer({ ...foreign, ca: A.ca }, { connectTimeoutMs: 1_500 });
    await pf.start();
    const refused = nextRefusal(pa);
    await assert.rejects(pf.connections.connect(A.deviceShortId));
    assert.equal((await refused).code, TrustErrorCode.CHAIN_UNTRUSTED);
  });

  test('queues a message for an offline device in its DHT inbox and delivers it when it comes online', async () => {
    // The device's DHT node comes back with the same id and port, like a restarted agent.
    const slot = {
      host: '127.0.0.1',
      bootstrap,
      requestTimeoutsMs: LOOPBACK_TIMEOUTS,
      id: randomBytes(20).toString('hex'),
      port: await freePort(),
    };
    const first = peer(offlineB, { dht: slot });
    await first.start(); // publishes its announcement and certificate
    await first.stop();
    const result = await pa.messenger.send(bob.jamiId, 'while you were away', [
      { accountId: bob.jamiId, deviceShortId: offlineB.deviceShortId },
    ]);
    assert.equal(result.devices[0].status, 'queued');
    assert.equal(pa.messenger.pending().length, 1);

    const delivered = new Promise((resolve) => pa.messenger.once('delivered', resolve));
    const again = peer(offlineB, { dht: slot });
    const got = nextMessage(again);
    await again.start();
    const m = await got;
    assert.equal(m.body, 'while you were away');
    assert.equal(m.from.accountId, alice.jamiId);
    await delivered;
    assert.equal(pa.messenger.pending().length, 0);
  });
});
