/**
 * Two enclave-agent daemons (`enclave-agent run`, real processes) of the organization on a mixed loopback
 * network: three real dhtnodes (OpenDHT 2.4.12) and one of our DHT nodes, with the real server in this
 * process issuing the certificates, CRLs and policy (whose Account.hostname is the dhtnode bootstrap). They
 * find each other from a name, connect (ICE exchange over encrypted DHT values, DTLS bound to the device
 * certificates), exchange messages, and deliver through the DHT inbox when the peer is offline. A revoked
 * device is refused; values with forged signatures are rejected.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  accountKey,
  certificateKeyId,
  DhtNode,
  EnclavePeer,
  encodeImMessage,
  inboxKey,
  JamsClient,
  keyId,
  packBody,
  parseCertificates,
  signValue,
  spkiOf,
  TEXT_DATATYPE,
  ValueType,
  type DhtValue,
} from '@enclave/core';
import { pack, RawMsgpack } from '../../libs/core/src/dht/msgpack';
import { rsaEncrypt } from '../../libs/core/src/dht/value-crypto';
import { StateStore } from '../../apps/agent/src/state-store';
import { AgentDaemon, agentMain, caFile, createUsers, enrollAgent, startAgentDaemon } from '../support/agent';
import { DhtnodeProcess, dhtnodeUnavailableReason, stopDhtnodes } from '../support/dhtnode';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

const unavailable = dhtnodeUnavailableReason();
const skip = unavailable ? `agent interop: ${unavailable}` : false;

let server: TestServer;
let admin: string;
let ca: string;
let dhtnodes: DhtnodeProcess[] = [];
let ours: DhtNode;
let bootstrap: string;
const dirs: Record<string, string> = {};
const daemons: AgentDaemon[] = [];
let inProcess: EnclavePeer | undefined;

async function enroll(name: string, user: string) {
  dirs[name] = await enrollAgent(server, ca, name, user);
}

const store = (name: string) => new StateStore(dirs[name]);
const identity = (name: string) => store(name).loadIdentity();

async function startDaemon(name: string): Promise<AgentDaemon> {
  const d = await startAgentDaemon(dirs[name]);
  daemons.push(d);
  return d;
}

const cli = (name: string, args: string[]) => agentMain([...args, '--state-dir', dirs[name]]);

before(async () => {
  if (unavailable) return;
  const first = await DhtnodeProcess.start({ name: 'dhtnode-1' });
  dhtnodes = [
    first,
    ...(await Promise.all([
      DhtnodeProcess.start({ name: 'dhtnode-2', bootstrap: [first.address] }),
      DhtnodeProcess.start({ name: 'dhtnode-3', bootstrap: [first.address] }),
    ])),
  ];
  bootstrap = first.address;
  ours = new DhtNode({ host: '127.0.0.1' });
  await ours.start();
  await ours.bootstrap([bootstrap]);
  server = await startTestServer({
    ENCLAVE_DEFAULT_POLICY: JSON.stringify({ 'Account.hostname': bootstrap }),
    ENCLAVE_LOGIN_MAX_FAILURES: '50',
  });
  admin = await setUp(server);
  await createUsers(server, admin, ['alice', 'bob']);
  ca = await caFile(server);
  await enroll('alice', 'alice');
  await enroll('bob', 'bob');
  await enroll('bob2', 'bob');
});

after(async () => {
  await inProcess?.stop();
  await Promise.all(daemons.map((d) => d.stop()));
  await ours?.stop();
  await stopDhtnodes(...dhtnodes);
  await server?.close();
  await stopTestPostgres();
});

describe('two agents on a mixed dhtnode network', { skip, timeout: 90_000 }, () => {
  let alice: AgentDaemon;
  let bob: AgentDaemon;

  before(async () => {
    if (unavailable) return;
    [alice, bob] = await Promise.all([startDaemon('alice'), startDaemon('bob')]);
  });

  test('each daemon applies the policy (bootstrap from Account.hostname) and joins the dhtnodes', async () => {
    const started = await alice.waitFor((l) => l.msg === 'agent started');
    assert.deepEqual(started.bootstrap, [bootstrap]);
    assert.ok((started.nodes as number) >= 1, `routing table: ${started.nodes}`);
    // It learns more of the network than its bootstrap node through the DHT (3 dhtnodes, our node, the other
    // agent exist). On a loaded CI machine it was seen to know only the 3 dhtnodes after 45 s, so the bound is
    // 3: the bootstrap node plus at least two nodes learned from the network.
    const deadline = Date.now() + 45_000;
    let nodes = 0;
    while (nodes < 3 && Date.now() < deadline) {
      nodes = JSON.parse((await cli('alice', ['status', '--json', '--offline'])).stdout).daemon.dht.nodes;
      if (nodes < 3) await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(nodes >= 3, `routing table: ${nodes}`);
    // The device certificate (type 8) is on the dhtnodes, at the device key id.
    const aliceShort = identity('alice').deviceShortId;
    const stored = await dhtnodes[1].get(aliceShort);
    assert.ok(stored.length >= 1, 'a dhtnode serves the device certificate');
  });

  test("lookup finds a colleague's device from the name: name server → Jami ID → announcements", async () => {
    const r = await cli('alice', ['lookup', 'bob', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const found = JSON.parse(r.stdout);
    assert.equal(found.accountId, identity('bob').accountId);
    assert.ok(found.devices.some((d: { deviceId: string }) => d.deviceId === identity('bob').deviceId));
  });

  test('connect, verify each other and exchange messages both ways', async () => {
    const body = 'hello bob';
    const r = await cli('alice', ['send', 'bob', body, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const sent = JSON.parse(r.stdout) as { devices: { deviceShortId: string; status: string }[] };
    assert.deepEqual(
      sent.devices.map((d) => ({ deviceShortId: d.deviceShortId, status: d.status })),
      [{ deviceShortId: identity('bob').deviceShortId, status: 'delivered' }],
    );
    const got = await bob.waitFor((l) => l.msg === 'message received' && l.body === body);
    assert.equal(got.via, 'direct');
    assert.deepEqual(got.from, {
      accountId: identity('alice').accountId,
      deviceShortId: identity('alice').deviceShortId,
      deviceId: identity('alice').deviceId,
    });
    const back = await cli('bob', ['send', 'alice', 'hi alice']);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /delivered to alice/);
    await alice.waitFor((l) => l.msg === 'message received' && l.body === 'hi alice');
    const status = JSON.parse((await cli('alice', ['status', '--json'])).stdout);
    assert.ok(
      status.daemon.connections.some(
        (c: { deviceShortId: string }) => c.deviceShortId === identity('bob').deviceShortId,
      ),
    );
  });

  test('a message for an offline agent waits in its DHT inbox and arrives when it comes back', async () => {
    assert.equal(await bob.stop(), 0, 'clean exit on SIGTERM');
    assert.ok(bob.logs.some((l) => l.msg === 'agent stopped'));
    const r = await cli('alice', ['send', 'bob', 'while', 'you', 'were', 'away']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /queued for bob/);
    const bobAgain = await startDaemon('bob');
    const got = await bobAgain.waitFor((l) => l.msg === 'message received' && l.body === 'while you were away');
    assert.equal((got.from as { accountId: string }).accountId, identity('alice').accountId);
    await alice.waitFor((l) => l.msg === 'message delivered');
  });

  test('a revoked device is refused, both ways', async () => {
    // bob2 keeps running after its revocation (as a stale or stolen device would).
    const id = identity('bob2');
    inProcess = new EnclavePeer({
      identity: id,
      dht: { host: '127.0.0.1', bootstrap: [bootstrap] },
      ice: { bindAddress: '127.0.0.1' },
      server: new JamsClient({ url: server.localUrl, ca: id.ca.toString() }),
      connectTimeoutMs: 3_000,
    });
    await inProcess.start();
    const res = await server.request('DELETE', `/api/admin/users/bob/devices/${id.deviceId}`, { token: admin });
    assert.equal(res.status, 200, res.text());
    await new Promise((r) => setTimeout(r, 1_100)); // alice's CRL cache (--crl-max-age 1) expires

    // bob2 gets no answer (its request is refused); alice logs why.
    const attempt = inProcess.connections.connect(identity('alice').deviceShortId).then(
      () => 'connected',
      () => 'failed',
    );
    const refused = await alice.waitFor((l) => l.msg === 'peer refused' && l.deviceShortId === id.deviceShortId);
    assert.equal(refused.code, 'REVOKED');
    assert.equal(refused.direction, 'incoming');

    const r = await cli('alice', ['send', 'bob', 'to', 'all', 'your', 'devices', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const byDevice = Object.fromEntries(
      JSON.parse(r.stdout).devices.map((d: { deviceShortId: string; status: string }) => [d.deviceShortId, d.status]),
    );
    assert.equal(byDevice[identity('bob').deviceShortId], 'delivered');
    assert.equal(byDevice[id.deviceShortId], 'refused');
    const revokedStatus = await cli('bob2', ['status']);
    assert.equal(revokedStatus.code, 5);
    assert.equal(await attempt, 'failed');
  });

  test('forged signatures are rejected: an inbox message and a device announcement', async () => {
    const aliceId = identity('alice');
    const bobStore = store('bob');
    const bobKey = bobStore.identityFiles().privateKeyPem;
    const bobId = identity('bob');

    // An ImMessage "from bob" whose body was altered after bob's device key signed it, encrypted to alice.
    const signed = signValue(
      {
        type: ValueType.IM_MESSAGE,
        to: keyId(aliceId.devicePublicKey),
        data: encodeImMessage({ id: 7n, msg: 'genuine', date: 0, status: 0, datatype: TEXT_DATATYPE, metadatas: {} }),
      },
      bobKey,
    );
    const tamperedBody = packBody({
      ...signed,
      data: encodeImMessage({ id: 7n, msg: 'forged', date: 0, status: 0, datatype: TEXT_DATATYPE, metadatas: {} }),
    });
    const cypher = rsaEncrypt(
      pack({ body: new RawMsgpack(tamperedBody), sig: signed.signature! }),
      aliceId.devicePublicKey,
    );
    const forgedMessage: DhtValue = { id: 0x1234n, type: ValueType.USER_DATA, data: Buffer.alloc(0), cypher };
    await ours.put(inboxKey(aliceId.deviceShortId), forgedMessage);
    const rejected = await alice.waitFor((l) => l.msg === 'DHT value rejected' && l.reason === 'inner-signature');
    assert.equal(rejected.key, inboxKey(aliceId.deviceShortId).toString('hex'));
    assert.ok(!alice.logs.some((l) => l.msg === 'message received' && (l.body === 'forged' || l.body === 'genuine')));

    // A device announcement claiming bob's account, signed by another key.
    const intruder = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const devSpki = spkiOf(intruder.publicKey);
    const ownerSpki = spkiOf(parseCertificates(bobId.chainPem)[1].publicKey);
    const body = {
      seq: 0,
      owner: ownerSpki,
      type: ValueType.USER_DATA,
      data: pack({ dev: keyId(devSpki), pk: devSpki }),
    };
    const forgedAnnounce: DhtValue = {
      id: 0xf0f0n,
      ...body,
      signature: sign('sha512', packBody(body), intruder.privateKey),
    };
    await ours.put(accountKey(bobId.accountId), forgedAnnounce);
    const r = await cli('alice', ['lookup', 'bob', '--json']);
    const shown = JSON.parse(r.stdout).devices.map((d: { deviceShortId: string }) => d.deviceShortId);
    assert.ok(shown.includes(bobId.deviceShortId));
    assert.ok(!shown.includes(keyId(devSpki).toString('hex')), 'the forged device is not listed');
    // The real dhtnodes refused to store it too (their stores check signatures): a dhtnode get shows only
    // genuine values.
    const served = await dhtnodes[2].get(bobId.accountId);
    assert.ok(!served.some((v) => BigInt(`0x${v.id}`) === 0xf0f0n), 'dhtnode does not serve the forged value');
    assert.equal(certificateKeyId(parseCertificates(bobId.chainPem)[1]), bobId.accountId);
  });
});
