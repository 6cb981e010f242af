/**
 * Zero-config bootstrap: with no policy setting at all, the server delivers its own DHT node as
 * Account.hostname, and two enrolled agents find and message each other through it. An agent with no
 * bootstrap node that answers stops with exit code 15 and a hint instead of running alone.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StateStore } from '../../apps/agent/src/state-store';
import { AgentDaemon, agentMain, caFile, createUsers, enrollAgent, startAgentDaemon } from '../support/agent';
import { freeUdpPort } from '../support/dhtnode';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

let server: TestServer;
let admin: string;
let dhtPort: number;
const dirs: Record<string, string> = {};
const daemons: AgentDaemon[] = [];

const cli = (name: string, args: string[]) => agentMain([...args, '--state-dir', dirs[name]]);
const identity = (name: string) => new StateStore(dirs[name]).loadIdentity();

before(async () => {
  dhtPort = await freeUdpPort();
  server = await startTestServer({ ENCLAVE_DHT_PORT: String(dhtPort), ENCLAVE_LOGIN_MAX_FAILURES: '50' });
  admin = await setUp(server);
  await createUsers(server, admin, ['alice', 'bob']);
  const ca = await caFile(server);
  // The server makes an RSA-4096 account key at each first enrollment: on a loaded machine that can exceed the
  // agent's 15 s request timeout once, so one retry (a timed-out enrollment issued nothing).
  const enroll = (user: string) => enrollAgent(server, ca, user, user).catch(() => enrollAgent(server, ca, user, user));
  dirs.alice = await enroll('alice');
  dirs.bob = await enroll('bob');
});

after(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await server?.close();
  await stopTestPostgres();
});

describe('two agents, no policy setting at all', { timeout: 90_000 }, () => {
  test('the effective policy bootstraps from the server itself, with source "server"', async () => {
    const res = await server.request('GET', '/api/admin/users/alice/effective-policy', { token: admin });
    assert.equal(res.status, 200, res.text());
    const eff = res.json<{ keys: Record<string, unknown>; sources: Record<string, { via: string }> }>();
    assert.equal(eff.keys['Account.hostname'], `127.0.0.1:${dhtPort}`);
    assert.equal(eff.sources['Account.hostname'].via, 'server');
    const policy = JSON.parse(fs.readFileSync(path.join(dirs.alice, 'policy.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(policy['Account.hostname'], `127.0.0.1:${dhtPort}`, 'the enrollment answer carried it');
  });

  test('they join the server node and message each other; status shows the node count', async () => {
    const [alice, bob] = await Promise.all([startAgentDaemon(dirs.alice), startAgentDaemon(dirs.bob)]);
    daemons.push(alice, bob);
    const started = await alice.waitFor((l) => l.msg === 'agent started');
    assert.deepEqual(started.bootstrap, [`127.0.0.1:${dhtPort}`]);
    assert.ok((started.nodes as number) >= 1);

    const r = await cli('alice', ['send', 'bob', 'hello through the server node', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const got = await bob.waitFor((l) => l.msg === 'message received' && l.body === 'hello through the server node');
    assert.equal((got.from as { accountId: string }).accountId, identity('alice').accountId);
    const back = await cli('bob', ['send', 'alice', 'hi alice']);
    assert.equal(back.code, 0, back.stderr);
    await alice.waitFor((l) => l.msg === 'message received' && l.body === 'hi alice');

    const status = await cli('alice', ['status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /\d+\/[1-9]\d* nodes/, status.stdout);
    const json = JSON.parse((await cli('alice', ['status', '--json'])).stdout) as {
      daemon: { dht: { nodes: number } };
    };
    assert.ok(json.daemon.dht.nodes >= 1);
  });
});

describe('presence', () => {
  interface Presence {
    jamiId: string | null;
    cached: boolean;
    checkedAt: string;
    devices: { deviceId: string; name: string; announced: boolean; lastLoginAt: string | null; revoked: boolean }[];
    otherAnnouncements: unknown[];
  }
  const presence = (user: string, token: string | undefined = admin) =>
    server.request('GET', `/api/admin/users/${user}/presence`, { token });

  test("GET /api/admin/users/{u}/presence: the running agent's device is announced now, with its last login", async () => {
    const res = await presence('alice');
    assert.equal(res.status, 200, res.text());
    const p = res.json<Presence>();
    assert.equal(p.jamiId, identity('alice').accountId);
    assert.equal(p.cached, false);
    assert.deepEqual(
      p.devices.map((d) => [d.deviceId, d.name, d.announced, d.revoked]),
      [[identity('alice').deviceId, 'alice', true, false]],
    );
    assert.ok(p.devices[0].lastLoginAt, 'the daemon logged in with its certificate');
    assert.deepEqual(p.otherAnnouncements, []);
    const again = (await presence('alice')).json<Presence>();
    assert.equal(again.cached, true, 'a second look within 30 s comes from the cache');
    assert.equal(again.checkedAt, p.checkedAt);
  });

  test('a user without a device has nothing announced; unknown users and missing tokens are refused', async () => {
    await createUsers(server, admin, ['carol']);
    const carol = await presence('carol');
    assert.equal(carol.status, 200, carol.text());
    assert.deepEqual(
      { ...carol.json<Presence>(), checkedAt: undefined },
      {
        username: 'carol',
        jamiId: null,
        checkedAt: undefined,
        cached: false,
        devices: [],
        otherAnnouncements: [],
      },
    );
    const unknown = await presence('nobody-here');
    assert.equal(unknown.status, 404, unknown.text());
    assert.equal(unknown.json<{ code: string }>().code, 'USER_NOT_FOUND');
    assert.equal((await presence('alice', '')).status, 401);
  });
});

test('run with no reachable bootstrap node stops with exit code 15 and a hint', async () => {
  // A bootstrap port where nothing answers, and no node cache of its own.
  const stateDir = `${dirs.alice}-copy`;
  const skipped = new Set(['dht-nodes.json', 'dht-node.json', 'agent.sock', 'run']);
  fs.cpSync(dirs.alice, stateDir, { recursive: true, filter: (src) => !skipped.has(path.basename(src)) });
  const silent = await freeUdpPort();
  const r = await agentMain([
    'run',
    ...['--state-dir', stateDir, '--bind', '127.0.0.1', '--bootstrap', `127.0.0.1:${silent}`],
  ]);
  assert.equal(r.code, 15, r.stderr);
  assert.match(r.stderr, /no DHT bootstrap node answered \(tried 127\.0\.0\.1:\d+\)/);
  assert.match(r.stderr, /UDP/);

  const none = await agentMain(['run', '--state-dir', stateDir, '--bind', '127.0.0.1', '--bootstrap', ',']);
  assert.equal(none.code, 15, none.stderr);
  assert.match(none.stderr, /no DHT bootstrap node: the policy sets no Account.hostname/);
});
