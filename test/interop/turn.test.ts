/**
 * TURN relaying against Debian's real coturn (harness: test/support/coturn.ts), all on 127.0.0.1: the TURN
 * settings of an organization policy (Jami daemon keys TURN.enable/server/username/password) go through
 * networkPolicy() into EnclavePeer's ICE, and the relay is really used.
 *   1. Two in-process peers (organization PKI from the fixtures, a loopback network of our DHT nodes) whose
 *      ICE is relay-only with coturn as their only server: they connect through coturn, or not at all when
 *      the TURN password is wrong.
 *   2. Two `enclave-agent run` daemons whose policy comes from the real server (ENCLAVE_DEFAULT_POLICY): they
 *      allocate on coturn with the policy's username when they connect.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  ConnectionError,
  DhtNode,
  EnclavePeer,
  loadDeviceIdentity,
  networkPolicy,
  type DeviceIdentity,
  type NetworkPolicy,
  type ReceivedMessage,
} from '@enclave/core';
import { StateStore } from '../../apps/agent/src/state-store';
import {
  accountCrl,
  testAccount,
  testCa,
  TestAccount,
  testDevice,
} from '../../libs/core/src/trust/pki-fixtures.test-helper';
import { AgentDaemon, agentMain, caFile, createUsers, enrollAgent, startAgentDaemon } from '../support/agent';
import { coturnUnavailableReason, CoturnProcess, RELAY_IP } from '../support/coturn';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

const unavailable = coturnUnavailableReason();
const skip = unavailable ? `TURN interop: ${unavailable}` : false;

/** The TURN account of the in-process peers' policy, and the one of the agents' organization policy. */
const PEER_TURN = { username: 'enclave-peers', password: randomBytes(12).toString('hex') };
const AGENT_TURN = { username: 'enclave-agents', password: randomBytes(12).toString('hex') };
/** On loopback a DHT request that is not answered in 250 ms will not be. */
const LOOPBACK_TIMEOUTS = [250, 250, 500];
const CONNECT_TIMEOUT_MS = 3_000;

let coturn: CoturnProcess;
const nodes: DhtNode[] = [];
let bootstrap: string[];
const peers: EnclavePeer[] = [];
const crls = new Map<string, Buffer>();

/** A policy's TURN keys, with string values as in a Jami daemon's account details (the agents' policy has a boolean). */
function turnPolicy(server: string, account: { username: string; password: string }): NetworkPolicy {
  return networkPolicy({
    'TURN.enable': 'true',
    'TURN.server': server,
    'TURN.username': account.username,
    'TURN.password': account.password,
  });
}

/** A peer whose ICE is relay-only, with the policy's TURN server as its only ICE server. */
function relayOnlyPeer(identity: DeviceIdentity, policy: NetworkPolicy): EnclavePeer {
  const name = identity.deviceShortId.slice(0, 6);
  const p = new EnclavePeer({
    identity,
    dht: { host: '127.0.0.1', bootstrap, requestTimeoutsMs: LOOPBACK_TIMEOUTS },
    ice: { iceServers: policy.iceServers, bindAddress: '127.0.0.1', relayOnly: true },
    crlSources: [{ name: 'test', fetch: async (id) => (crls.has(id) ? [crls.get(id)!] : []) }],
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    retryIntervalMs: 60_000,
    log: process.env.PEER_DEBUG
      ? (l, m, d) => l !== 'debug' && console.error(Date.now() % 100000, name, m, JSON.stringify(d))
      : undefined,
  });
  peers.push(p);
  return p;
}

function nextMessage(p: EnclavePeer, body: string): Promise<ReceivedMessage> {
  return new Promise((resolve) => {
    const on = (m: ReceivedMessage) => {
      if (m.body !== body) return;
      p.messenger.off('message', on);
      resolve(m);
    };
    p.messenger.on('message', on);
  });
}

async function eventually(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  if (unavailable) return;
  coturn = await CoturnProcess.start({
    users: { [PEER_TURN.username]: PEER_TURN.password, [AGENT_TURN.username]: AGENT_TURN.password },
  });
  for (let i = 0; i < 3; i++) {
    const n = new DhtNode({ host: '127.0.0.1', rateLimit: false, requestTimeoutsMs: LOOPBACK_TIMEOUTS });
    await n.start();
    nodes.push(n);
  }
  bootstrap = [`127.0.0.1:${nodes[0].address.port}`];
  await Promise.all(nodes.slice(1).map((n) => n.bootstrap(bootstrap)));
});

after(async () => {
  await Promise.all(peers.map((p) => p.stop()));
  await Promise.all(nodes.map((n) => n.stop()));
  await coturn?.stop();
});

describe('relay-only peers with the policy TURN server (coturn)', { skip, timeout: 60_000 }, () => {
  let alice: TestAccount;
  let bob: TestAccount;
  let carol: TestAccount;
  let A: DeviceIdentity;
  let B: DeviceIdentity;
  let C: DeviceIdentity;
  let pa: EnclavePeer;
  let pb: EnclavePeer;

  before(async () => {
    if (unavailable) return;
    const ca = await testCa();
    [alice, bob, carol] = await Promise.all([
      testAccount(ca, 'alice'),
      testAccount(ca, 'bob'),
      testAccount(ca, 'carol'),
    ]);
    const devices = await Promise.all([testDevice(alice), testDevice(bob), testDevice(carol)]);
    [A, B, C] = devices.map((d) => loadDeviceIdentity(d.files));
    for (const account of [alice, bob, carol]) crls.set(account.jamiId, await accountCrl(account, []));
    const policy = turnPolicy(coturn.address, PEER_TURN);
    pa = relayOnlyPeer(A, policy);
    pb = relayOnlyPeer(B, policy);
    await Promise.all([pa.start(), pb.start()]);
  });

  test('networkPolicy() turns the TURN.* daemon keys into the ICE server', () => {
    assert.deepEqual(turnPolicy(coturn.address, PEER_TURN).iceServers, [
      { hostname: '127.0.0.1', port: coturn.port, ...PEER_TURN, relayType: 'TurnUdp' },
    ]);
  });

  test('connect through the relay, verify each other and exchange messages both ways', async () => {
    const allocationsBefore = coturn.allocations(PEER_TURN.username).length;
    const failuresBefore = coturn.authFailures(PEER_TURN.username).length;
    const incoming = new Promise<string>((resolve) =>
      pb.connections.once('connection', (c) => resolve(c.peer.deviceShortId)),
    );
    const conn = await pa.connections.connect(B.deviceShortId);
    assert.equal(conn.peer.accountId, bob.jamiId);
    assert.equal(conn.peer.deviceShortId, B.deviceShortId);
    assert.equal(await incoming, A.deviceShortId);

    const got = nextMessage(pb, 'hello bob, through coturn');
    const sent = await pa.send(bob.jamiId, 'hello bob, through coturn');
    assert.deepEqual(sent.devices, [{ deviceShortId: B.deviceShortId, status: 'delivered' }]);
    const m = await got;
    assert.equal(m.via, 'direct');
    assert.deepEqual(m.from, { accountId: alice.jamiId, deviceShortId: A.deviceShortId, deviceId: A.deviceId });
    const back = nextMessage(pa, 'hi alice, relayed');
    const reply = await pb.send(alice.jamiId, 'hi alice, relayed');
    assert.deepEqual(reply.devices, [{ deviceShortId: A.deviceShortId, status: 'delivered' }]);
    assert.equal((await back).via, 'direct');

    // Both sides allocated on coturn with the policy's username, without a refused credential.
    await eventually(
      'two allocations on coturn',
      () => coturn.allocations(PEER_TURN.username).length >= allocationsBefore + 2,
    );
    assert.ok(
      coturn.allocations(PEER_TURN.username).every((a) => a.realm === coturn.realm),
      coturn.tail(),
    );
    assert.equal(coturn.authFailures(PEER_TURN.username).length, failuresBefore, coturn.tail());

    // The selected candidate pair joins two relayed addresses that coturn allocated (on RELAY_IP, in its
    // relay port range): each side's own, and the other's. No host or peer-reflexive pair: the data goes
    // through coturn both ways.
    const relayed = coturn.relayAddresses();
    for (const [side, route] of [
      ['alice', conn.route()],
      ['bob', pb.connections.connection(A.deviceShortId)?.route()],
    ] as const) {
      assert.ok(route, `${side}: a selected candidate pair`);
      assert.equal(route.localType, 'relay', `${side}: local candidate type`);
      assert.equal(route.remoteType, 'relay', `${side}: remote candidate type`);
      for (const end of [route.local, route.remote]) {
        assert.ok(relayed.includes(end), `${side}: ${end} is an address coturn relays from (${relayed.join(', ')})`);
        const [ip, port] = end.split(':');
        assert.equal(ip, RELAY_IP);
        assert.ok(Number(port) >= coturn.relayPorts.min && Number(port) <= coturn.relayPorts.max, end);
      }
      assert.notEqual(route.local, route.remote);
    }
  });

  test('with a wrong TURN password nothing connects: a timely error, the message queued, coturn logs 401', async () => {
    const pc = relayOnlyPeer(C, turnPolicy(coturn.address, { ...PEER_TURN, password: 'not-the-password' }));
    await pc.start();
    const failuresBefore = coturn.authFailures(PEER_TURN.username).length;

    // Carol gathers no candidate at all (relay-only, and coturn refused her allocation): the dial stops
    // there, before any request goes on the DHT, with an error that names the TURN credentials (not retried).
    const started = Date.now();
    await assert.rejects(pc.connections.connect(B.deviceShortId), (err: Error) => {
      assert.ok(err instanceof ConnectionError, `${err.name}: ${err.message}`);
      assert.equal(err.code, 'NO_RELAY');
      assert.match(
        err.message,
        /no relayed ICE candidate: the TURN server refused the allocation \(check TURN\.username/,
      );
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed < CONNECT_TIMEOUT_MS, `failed after ${elapsed} ms`);
    assert.equal(pc.connections.connection(B.deviceShortId), undefined);

    // A message cannot go directly: it is queued in bob's DHT inbox, and arrives from there, not over a
    // connection.
    const got = nextMessage(pb, 'no relay for carol');
    const sent = await pc.send(bob.jamiId, 'no relay for carol');
    assert.equal(sent.devices.length, 1);
    assert.equal(sent.devices[0].deviceShortId, B.deviceShortId);
    assert.equal(sent.devices[0].status, 'queued', JSON.stringify(sent.devices[0]));
    assert.equal(pc.messenger.pending().length, 1);
    assert.equal((await got).via, 'inbox');
    assert.equal(pc.connections.openConnections.length, 0);

    // coturn refused carol's credentials (401 with the username), so carol had no relayed address.
    await eventually(
      'coturn 401s for the wrong password',
      () => coturn.authFailures(PEER_TURN.username).length > failuresBefore,
    );
    assert.match(coturn.output(), new RegExp(`check_stun_auth: user ${PEER_TURN.username} credentials are incorrect`));
  });

  test('relay-only refuses a path that bypasses the relay (TURN relaying from the peers own IP)', async () => {
    // This coturn relays from 127.0.0.1, the peers' own address: TURN permissions are per IP, so each peer's
    // host socket passes the other's permission and ICE can pair it with a peer-reflexive candidate.
    const leaky = await CoturnProcess.start({
      name: 'coturn-same-ip',
      users: { [PEER_TURN.username]: PEER_TURN.password },
      relayIp: '127.0.0.1',
    });
    try {
      const [d1, d2] = await Promise.all([testDevice(alice), testDevice(bob)]);
      const [X, Y] = [d1, d2].map((d) => loadDeviceIdentity(d.files));
      const policy = turnPolicy(leaky.address, PEER_TURN);
      const px = relayOnlyPeer(X, policy);
      const py = relayOnlyPeer(Y, policy);
      await Promise.all([px.start(), py.start()]);
      const refusals: { reason: string }[] = [];
      px.connections.on('refused', (r) => refusals.push(r));
      // Both sides refuse: the selected pair's local end is the host socket (or a pair libdatachannel cannot
      // describe), never a relayed address.
      await assert.rejects(px.connections.connect(Y.deviceShortId), (err: Error) => {
        assert.ok(err instanceof ConnectionError, `${err.name}: ${err.message}`);
        assert.equal(err.code, 'FAILED');
        assert.match(err.message, /^relay-only ICE selected a (host|prflx|srflx|unknown) path, not a relayed one$/);
        return true;
      });
      assert.ok(
        refusals.some((r) => /^relay-only ICE selected a/.test(r.reason)),
        JSON.stringify(refusals),
      );
      assert.equal(px.connections.openConnections.length, 0, 'no connection left open');
      assert.equal(py.connections.openConnections.length, 0, 'no connection left open on the other side');
    } finally {
      await leaky.stop();
    }
  });
});

describe('agents with an organization policy pointing at coturn', { skip, timeout: 60_000 }, () => {
  let server: TestServer;
  const dirs: Record<string, string> = {};
  const daemons: AgentDaemon[] = [];

  before(async () => {
    if (unavailable) return;
    server = await startTestServer({
      ENCLAVE_DEFAULT_POLICY: JSON.stringify({
        'Account.hostname': bootstrap[0],
        'TURN.enable': true,
        'TURN.server': coturn.address,
        'TURN.username': AGENT_TURN.username,
        'TURN.password': AGENT_TURN.password,
      }),
    });
    const admin = await setUp(server);
    await createUsers(server, admin, ['dana', 'erin']);
    const ca = await caFile(server);
    [dirs.dana, dirs.erin] = await Promise.all([
      enrollAgent(server, ca, 'dana', 'dana'),
      enrollAgent(server, ca, 'erin', 'erin'),
    ]);
    daemons.push(...(await Promise.all([startAgentDaemon(dirs.dana), startAgentDaemon(dirs.erin)])));
  });

  after(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    await server?.close();
    await stopTestPostgres();
  });

  test('each agent applies the policy TURN server and allocates on it with the policy username', async () => {
    const [dana, erin] = daemons;
    for (const d of daemons) {
      const started = await d.waitFor((l) => l.msg === 'agent started');
      assert.deepEqual(started.turn, [coturn.address]);
      assert.deepEqual(started.bootstrap, bootstrap);
    }
    const before = coturn.allocations(AGENT_TURN.username).length;
    const body = 'hello erin';
    const r = await agentMain(['send', 'erin', body, '--json', '--state-dir', dirs.dana]);
    assert.equal(r.code, 0, r.stderr);
    const sent = JSON.parse(r.stdout) as { devices: { deviceShortId: string; status: string }[] };
    const erinDevice = new StateStore(dirs.erin).loadIdentity().deviceShortId;
    assert.deepEqual(
      sent.devices.map((d) => ({ deviceShortId: d.deviceShortId, status: d.status })),
      [{ deviceShortId: erinDevice, status: 'delivered' }],
    );
    const got = await erin.waitFor((l) => l.msg === 'message received' && l.body === body);
    assert.equal(got.via, 'direct');
    await dana.waitFor((l) => l.msg === 'connection open');

    // Both agents gathered a relayed candidate from coturn (with all candidates allowed the selected pair may
    // well be a host pair: the allocations prove the policy's TURN settings were applied).
    await eventually('allocations of both agents', () => coturn.allocations(AGENT_TURN.username).length >= before + 2);
    assert.equal(coturn.authFailures(AGENT_TURN.username).length, 0, coturn.tail());
  });
});
