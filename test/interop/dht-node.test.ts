/**
 * Interop between our DHT node (libs/core/src/dht) and Debian's real dhtnode (OpenDHT 2.4.12), all on
 * 127.0.0.1 (harness: test/support/dhtnode.ts). Three small, separate networks, each kept alive for the
 * whole file (a stopped node would linger in the others' routing tables and slow every search):
 *   1. dhtnode A (with an identity) + our node X, which keeps no storage: whatever X shows for a key
 *      came from A;
 *   2. dhtnode B (with an identity) + our nodes that join it test by test;
 *   3. our node W as the only bootstrap of dhtnodes E (with an identity) and F.
 * Each test uses its own keys.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  DhtNode,
  DhtNodeOptions,
  DhtValue,
  infoHash,
  keyId,
  signValue,
  ValueRejectedEvent,
  verifyValue,
} from '@enclave/core';
import { DhtnodeProcess, dhtnodeUnavailableReason, stopDhtnodes } from '../support/dhtnode';

const unavailable = dhtnodeUnavailableReason();
const skip = unavailable ? `dhtnode interop: ${unavailable}` : false;

const run = randomBytes(4).toString('hex');
/** A fresh DHT key, as 40 hex digits (dhtnode would hash anything else). */
const key = (name: string) => infoHash(`enclave-interop/${run}/${name}`).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

const rsa = (bits: number) => {
  const k = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    privateKeyPem: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: k.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
};
const ourKey = rsa(2048);

const ourNodes: DhtNode[] = [];
async function startOurNode(opts: DhtNodeOptions = {}): Promise<DhtNode> {
  const node = new DhtNode({ host: '127.0.0.1', ...opts });
  await node.start();
  ourNodes.push(node);
  return node;
}

let A: DhtnodeProcess | undefined;
let B: DhtnodeProcess | undefined;
let E: DhtnodeProcess | undefined;
let F: DhtnodeProcess | undefined;
let X: DhtNode;
let W: DhtNode;
let xJoined: Promise<number> | undefined;
/** X's bootstrap from A, run once for the tests that need X in network 1. */
const joinX = () => (xJoined ??= X.bootstrap([A!.address]));

before(async () => {
  if (unavailable) return;
  // X keeps no storage (every value offered is refused), so what it sees must come from A.
  X = await startOurNode({ identity: { privateKeyPem: ourKey.privateKeyPem }, storage: { maxBytes: 0 } });
  W = await startOurNode();
  const results = await Promise.allSettled([
    DhtnodeProcess.start({ name: 'dhtnode-A', identity: true }),
    DhtnodeProcess.start({ name: 'dhtnode-B', identity: true }),
    DhtnodeProcess.start({ name: 'dhtnode-E', identity: true, bootstrap: [`127.0.0.1:${W.address.port}`] }),
  ]);
  [A, B, E] = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
});

after(async () => {
  await Promise.all(ourNodes.map((n) => n.stop()));
  await stopDhtnodes(A, B, E, F);
});

test('our node bootstraps from a dhtnode: each gains the other in its routing table', { skip }, async () => {
  const known = await joinX();
  assert.ok(known >= 1, 'the bootstrap found at least one node');
  const entry = X.nodes().find((n) => n.id.toString('hex') === A!.nodeId);
  assert.ok(entry, `dhtnode ${A!.nodeId} is in our routing table: ${JSON.stringify(X.nodes())}`);
  assert.equal(entry.port, A!.port);
  assert.ok(entry.good, 'it answered our requests');
  const theirs = await A!.routingTable();
  assert.ok(
    theirs.some((n) => n.id === X.id.toString('hex') && n.address === `127.0.0.1:${X.address.port}`),
    `dhtnode lists our node: ${JSON.stringify(theirs)}`,
  );
});

test(
  'a dhtnode reads back what we put: plain, signed over 600 bytes (value parts), encrypted to it',
  { skip },
  async () => {
    await joinX();
    const [kPlain, kSigned, kEnc] = [key('plain'), key('signed'), key('encrypted')];
    const signedText = `signed_by_enclave_${'x'.repeat(1400)}`; // value > 1280 B: two parts

    const plain = await X.put(kPlain, 'hello_from_enclave');
    const signed = await X.putSigned(kSigned, signedText, ourKey.privateKeyPem);
    const encrypted = await X.putEncrypted(kEnc, 'secret_for_A', A!.certificatePem!);
    for (const r of [plain, signed, encrypted]) {
      assert.deepEqual(
        r.storedOn.map((n) => n.id.toString('hex')),
        [A!.nodeId],
      );
    }
    for (const k of [kPlain, kSigned, kEnc]) assert.deepEqual(X.localValues(k), [], 'our node kept no copy');

    const [gotPlain] = await A!.get(kPlain);
    assert.equal(gotPlain?.text, 'hello_from_enclave');
    assert.equal(gotPlain.utype, 'text/plain');
    assert.equal(gotPlain.signed, false);
    assert.equal(BigInt(`0x${gotPlain.id}`), plain.id);

    const [gotSigned] = await A!.get(kSigned);
    assert.equal(gotSigned?.text, signedText);
    assert.equal(gotSigned.signed, true, `dhtnode verified our signature: ${gotSigned.line.slice(0, 80)}`);

    const [gotEnc] = await A!.get(kEnc);
    assert.equal(gotEnc?.text, 'secret_for_A');
    assert.equal(gotEnc.decrypted, true, 'dhtnode decrypted it with its key');
    assert.equal(gotEnc.signed, true, 'and verified the inner signature');
  },
);

test('we read values a dhtnode stored, plain and signed (verified, owner = its public key id)', { skip }, async () => {
  const [kPlain, kSigned] = [key('from-dhtnode'), key('from-dhtnode-signed')];
  // B is alone when it puts, so it is the only node holding these values.
  const putPlain = await B!.put(kPlain, 'plain_from_dhtnode');
  await B!.putSigned(kSigned, 'signed_by_dhtnode');
  const storage = await B!.storage();
  assert.ok(
    storage.some((s) => s.key === kPlain && s.values === 1),
    `B stores the value: ${JSON.stringify(storage)}`,
  );

  const Y = await startOurNode();
  await Y.bootstrap([B!.address]);
  const plain = await Y.get(kPlain);
  assert.deepEqual(
    plain.map((v) => [v.id, v.data.toString(), v.utype]),
    [[BigInt(`0x${putPlain.id}`), 'plain_from_dhtnode', 'text/plain']],
  );

  const signed = await Y.get(kSigned);
  assert.equal(signed.length, 1);
  const v = signed[0];
  assert.equal(v.data.toString(), 'signed_by_dhtnode');
  assert.ok(v.owner && v.signature, 'the value is signed');
  assert.ok(verifyValue(v), 'its RSA-SHA512 signature verifies over the body bytes as received');
  assert.ok(v.raw!.length > 600, `it came in value parts (${v.raw!.length} bytes)`);
  assert.equal(keyId(v.owner).toString('hex'), B!.publicKeyId, 'signed by the dhtnode identity');
  assert.deepEqual(Y.localValues(kSigned), [], 'read from the dhtnode, not from our storage');
});

test(
  'dhtnodes that bootstrap only from our node store on it: a value put by one is served to another',
  { skip },
  async () => {
    const [kPlain, kSigned] = [key('via-ours'), key('via-ours-signed')];
    await eventually('our node W knows dhtnode E', () => W.nodes().some((n) => n.id.toString('hex') === E!.nodeId));
    const putPlain = await E!.put(kPlain, 'plain_via_enclave');
    const putSigned = await E!.putSigned(kSigned, 'signed_via_enclave');
    assert.ok(putPlain.acked && putSigned.acked, 'our node acknowledged both puts');
    assert.deepEqual(
      W.localValues(kPlain).map((v) => v.data.toString()),
      ['plain_via_enclave'],
    );
    const [storedSigned] = W.localValues(kSigned);
    assert.equal(storedSigned?.data.toString(), 'signed_via_enclave');
    assert.equal(
      keyId(storedSigned.owner!).toString('hex'),
      E!.publicKeyId,
      'the signed put arrived whole and verified',
    );

    // dhtnode publishes its certificate (type 8) at its public key id; our store policy checks that id.
    await eventually('E published its certificate on our node', () => W.localValues(E!.publicKeyId!).length > 0);
    assert.equal(W.localValues(E!.publicKeyId!)[0].type, 8);

    // E goes away, so only our node holds the values when F asks.
    await E!.stop();
    F = await DhtnodeProcess.start({ name: 'dhtnode-F', bootstrap: [`127.0.0.1:${W.address.port}`] });
    const [gotPlain] = await F.get(kPlain);
    assert.equal(gotPlain?.text, 'plain_via_enclave');
    const [gotSigned] = await F.get(kSigned);
    assert.equal(gotSigned?.text, 'signed_via_enclave');
    assert.equal(gotSigned.signed, true, 'F verified the signature of the value our node served');
  },
);

test('a forged signature is rejected by our node: a tampered value a dhtnode serves is dropped', { skip }, async () => {
  await joinX();
  const k = key('forged');
  // An unregistered value type: dhtnode then stores without checking signatures (readers must check).
  const genuine = signValue({ type: 0x7e57, data: 'genuine', utype: 'text/plain' }, ourKey.privateKeyPem);
  const original = signValue({ type: 0x7e57, data: 'original', utype: 'text/plain' }, ourKey.privateKeyPem);
  const forged: DhtValue = { ...original, data: Buffer.from('tampered'), raw: undefined, body: undefined };
  await X.put(k, genuine);
  await X.put(k, forged);
  await eventually('A stores both values', async () => (await A!.storage()).some((s) => s.key === k && s.values === 2));

  const rejected: ValueRejectedEvent[] = [];
  const onRejected = (e: ValueRejectedEvent) => {
    if (e.key.toString('hex') === k) rejected.push(e);
  };
  X.on('value-rejected', onRejected);
  try {
    const values = await X.get(k);
    assert.deepEqual(
      values.map((v) => v.data.toString()),
      ['genuine'],
    );
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0].reason, 'bad-signature');
    assert.equal(rejected[0].value?.data.toString(), 'tampered');
    assert.equal(rejected[0].from?.port, A!.port, 'the forged value came from the dhtnode');
  } finally {
    X.off('value-rejected', onRejected);
  }
});

test('our node listens on a dhtnode: a value it stores later is pushed to us', { skip }, async () => {
  await joinX();
  const k = key('listen-on-dhtnode');
  const seen: string[] = [];
  const cancel = await X.listen(k, (values, expired) => {
    for (const v of values) seen.push(`${expired ? 'expired' : 'new'}:${v.data.toString()}`);
  });
  try {
    assert.deepEqual(seen, []);
    await A!.put(k, 'pushed_by_dhtnode');
    await eventually('the update from A', () => seen.length > 0, 5_000);
    assert.deepEqual(seen, ['new:pushed_by_dhtnode']);
    assert.deepEqual(X.localValues(k), [], 'X stores nothing: the value came as an update');
  } finally {
    cancel();
  }
});

test('a dhtnode listens on our node: a value we then store is pushed to it', { skip }, async () => {
  const k = key('listen-on-ours');
  const Z = await startOurNode();
  await Z.bootstrap([B!.address]);
  await B!.listen(k);
  await eventually('B registered its listen with our node', () => Z.stats().remoteListeners > 0);
  const value = signValue({ data: 'pushed_by_enclave', utype: 'text/plain' }, ourKey.privateKeyPem);
  assert.deepEqual(Z.store(k, value), { stored: true });
  await eventually('B printed the value', () => B!.listenedValues().some((v) => v.text === 'pushed_by_enclave'));
  const got = B!.listenedValues().find((v) => v.text === 'pushed_by_enclave')!;
  assert.equal(got.signed, true);
  assert.equal(BigInt(`0x${got.id}`), value.id);
});
