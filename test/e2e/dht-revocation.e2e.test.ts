/**
 * Revocations reach the network: agent A (alice) and agent B (bob) are connected; A can no longer reach the
 * HTTPS server (it enrolled through a TCP relay that is then shut: connections refused); the admin revokes
 * B's device. The server publishes bob's account CRL at his account id on the DHT, A sees it there, drops
 * B and refuses B's next connection, all within 10 seconds.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { StateStore } from '../../apps/agent/src/state-store';
import { accountKey, crlsIn, parseCrl } from '@enclave/core';
import { DhtService } from '../../apps/server/src/modules/dht/dht.service';
import { AgentDaemon, agentMain, caFile, createUsers, enrollAgent, startAgentDaemon } from '../support/agent';
import { freeUdpPort } from '../support/dhtnode';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

let server: TestServer;
let admin: string;
const dirs: Record<string, string> = {};
const daemons: AgentDaemon[] = [];
let relay: net.Server | undefined;
const relayed = new Set<net.Socket>();

const identity = (name: string) => new StateStore(dirs[name]).loadIdentity();
const cli = (name: string, args: string[]) => agentMain([...args, '--state-dir', dirs[name]]);

/** A plain TCP relay to the server's HTTPS port: alice's only way to the server. */
async function startRelay(target: number): Promise<number> {
  relay = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      relayed.add(s);
      s.on('close', () => relayed.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => relay!.listen(0, '127.0.0.1', resolve));
  return (relay.address() as net.AddressInfo).port;
}

async function shutRelay(): Promise<void> {
  const closed = new Promise<void>((resolve) => relay!.close(() => resolve()));
  for (const s of relayed) s.destroy();
  await closed;
}

before(async () => {
  const dhtPort = await freeUdpPort();
  server = await startTestServer({ ENCLAVE_DHT_PORT: String(dhtPort), ENCLAVE_LOGIN_MAX_FAILURES: '50' });
  admin = await setUp(server);
  await createUsers(server, admin, ['alice', 'bob']);
  const ca = await caFile(server);
  const relayPort = await startRelay(server.port);
  const viaRelay = { ...server, localUrl: `https://127.0.0.1:${relayPort}` };
  // An RSA-4096 account key per first enrollment can exceed the 15 s request timeout on a loaded machine.
  const enroll = (s: TestServer, user: string) =>
    enrollAgent(s, ca, user, user).catch(() => enrollAgent(s, ca, user, user));
  dirs.alice = await enroll(viaRelay, 'alice');
  dirs.bob = await enroll(server, 'bob');
});

after(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  if (relay?.listening) await shutRelay();
  await server?.close();
  await stopTestPostgres();
});

test(
  'a revoked device is dropped and refused within 10 s by an agent that cannot reach the server',
  { timeout: 120_000 },
  async () => {
    const [alice, bob] = await Promise.all([startAgentDaemon(dirs.alice), startAgentDaemon(dirs.bob)]);
    daemons.push(alice, bob);
    await alice.waitFor((l) => l.msg === 'policy fetched');
    const bobId = identity('bob');

    const r = await cli('alice', ['send', 'bob', 'before the revocation']);
    assert.equal(r.code, 0, r.stderr);
    await bob.waitFor((l) => l.msg === 'message received' && l.body === 'before the revocation');
    const connected = JSON.parse((await cli('alice', ['status', '--json', '--offline'])).stdout);
    assert.ok(
      connected.daemon.connections.some((c: { deviceShortId: string }) => c.deviceShortId === bobId.deviceShortId),
      'alice is connected to bob',
    );

    await shutRelay();
    const check = await cli('alice', ['status', '--json']);
    assert.equal(JSON.parse(check.stdout).serverStatus.state, 'unreachable', 'alice cannot reach the server');

    const revokedAt = Date.now();
    const res = await server.request('DELETE', `/api/admin/users/bob/devices/${bobId.deviceId}`, { token: admin });
    assert.equal(res.status, 200, res.text());

    const dropped = await alice.waitFor(
      (l) => l.msg === 'peer refused' && l.deviceShortId === bobId.deviceShortId && l.code === 'REVOKED',
      10_000,
    );
    assert.match(String(dropped.reason), /revoked/);
    const after1 = JSON.parse((await cli('alice', ['status', '--json', '--offline'])).stdout);
    assert.ok(
      !after1.daemon.connections.some((c: { deviceShortId: string }) => c.deviceShortId === bobId.deviceShortId),
      'alice dropped the connection to bob',
    );

    // bob's next connection is refused (bob's daemon still runs and tries to deliver).
    const refusedBefore = alice.logs.filter((l) => l.msg === 'peer refused').length;
    void cli('bob', ['send', 'alice', 'after the revocation']);
    const refused = await alice.waitFor(
      (l) =>
        l.msg === 'peer refused' &&
        l.deviceShortId === bobId.deviceShortId &&
        l.code === 'REVOKED' &&
        alice.logs.filter((x) => x.msg === 'peer refused').indexOf(l) >= refusedBefore,
      Math.max(1_000, 10_000 - (Date.now() - revokedAt)),
    );
    assert.equal(refused.direction, 'incoming');
    assert.ok(Date.now() - revokedAt <= 10_000, `within 10 s: ${Date.now() - revokedAt} ms`);
    await new Promise((r2) => setTimeout(r2, 1_000));
    assert.ok(
      !alice.logs.some((l) => l.msg === 'message received' && l.body === 'after the revocation'),
      'nothing from the revoked device was accepted',
    );

    // What the network holds at bob's account id: the CRL signed by his account key, revoking the device.
    const values = await server.app.get(DhtService).node!.get(accountKey(bobId.accountId));
    const crls = crlsIn(values).map(parseCrl);
    const serial = bobId.device.serialNumber.toLowerCase().replace(/^0+/, '');
    assert.ok(
      crls.some((c) => c.revoked.has(serial)),
      'the CRL at the account id revokes the device',
    );
  },
);
