/**
 * enclave-agent against the real server (in-process, HTTPS with a certificate from the org CA): enrollment,
 * status, devices, name lookup, backup/restore, and an exit code and message for every failure. Most
 * commands run in-process through the CLI's main(); enrollment and --help also run through the real
 * launcher (what `npx enclave-agent` executes).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExitCode } from '../../apps/agent/src/agent.errors';
import { agentMain, caFile, createUsers, runAgentCli, tempStateDir } from '../support/agent';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

const POLICY = { 'Account.hostname': '127.0.0.1:4999', 'TURN.enable': true, 'TURN.server': 'turn.example.org:3478' };
let server: TestServer;
let admin: string;
let ca: string;
let aliceDir: string;
const PASSPHRASE = 'agent passphrase 1';

const enrollArgs = (dir: string, user: string, extra: string[] = []) => [
  'enroll',
  '--server',
  server.localUrl,
  '--username',
  user,
  '--password-stdin',
  '--ca',
  ca,
  '--key-bits',
  '2048',
  '--device-name',
  `${user}-laptop`,
  '--state-dir',
  dir,
  ...extra,
];

before(async () => {
  server = await startTestServer({ ENCLAVE_DEFAULT_POLICY: JSON.stringify(POLICY), ENCLAVE_LOGIN_MAX_FAILURES: '50' });
  admin = await setUp(server);
  await createUsers(server, admin, ['alice', 'bob']);
  ca = await caFile(server);
});

after(async () => {
  await server?.close();
  await stopTestPostgres();
});

describe('enclave-agent enroll', () => {
  test('generates the key locally with a progress indicator, enrolls, stores everything privately (launcher)', async () => {
    aliceDir = tempStateDir('alice');
    const r = await runAgentCli([...enrollArgs(aliceDir, 'alice'), '--passphrase-stdin'], {
      stdin: `alice-password\n${PASSPHRASE}\n`,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /Generating the RSA-2048 device key\.\.\.\n.*Generating the RSA-2048 device key: done \(\d+\.\d s\)/s,
    );
    assert.match(r.stdout, /Enrolled "alice-laptop" for alice/);
    assert.match(r.stdout, /Jami ID: {3}[0-9a-f]{40}/);
    assert.match(r.stdout, /encrypted with your passphrase/);

    assert.equal(fs.statSync(aliceDir).mode & 0o777, 0o700);
    for (const f of fs.readdirSync(aliceDir)) assert.equal(fs.statSync(path.join(aliceDir, f)).mode & 0o777, 0o600, f);
    assert.match(fs.readFileSync(path.join(aliceDir, 'device.key'), 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
    assert.equal(
      (fs.readFileSync(path.join(aliceDir, 'device.crt'), 'utf8').match(/BEGIN CERTIFICATE/g) ?? []).length,
      3,
    );
    const receipt = JSON.parse(fs.readFileSync(path.join(aliceDir, 'receipt.json'), 'utf8'));
    assert.ok(receipt.receipt && receipt.receiptSignature);
    const policy = JSON.parse(fs.readFileSync(path.join(aliceDir, 'policy.json'), 'utf8'));
    assert.equal(policy['TURN.server'], 'turn.example.org:3478');
    assert.equal(policy['Account.hostname'], '127.0.0.1:4999');
  });

  test('a wrong password exits 4 with a clear message, and nothing is stored', async () => {
    const dir = tempStateDir('bad-pw');
    const r = await agentMain(enrollArgs(dir, 'bob'), { stdin: 'not-the-password\n' });
    assert.equal(r.code, ExitCode.CREDENTIALS_REJECTED);
    assert.match(r.stderr, /refused the credentials of "bob"/);
    assert.ok(!fs.existsSync(path.join(dir, 'device.key')));
  });

  test('an unreachable server exits 3', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const args = enrollArgs(tempStateDir('down'), 'bob');
    args[2] = `https://127.0.0.1:${closed}`;
    const r = await agentMain(args, { stdin: 'bob-password\n' });
    assert.equal(r.code, ExitCode.SERVER_UNREACHABLE);
    assert.match(r.stderr, /cannot reach https:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    assert.match(r.stderr, /check the server URL/);
  });

  test('a server certificate from an unknown CA exits 11 and says to pass --ca', async () => {
    const args = enrollArgs(tempStateDir('tls'), 'bob').filter((a, i, all) => a !== '--ca' && all[i - 1] !== '--ca');
    const r = await agentMain(args, { stdin: 'bob-password\n' });
    assert.equal(r.code, ExitCode.TLS_UNTRUSTED);
    assert.match(r.stderr, /--ca FILE/);
  });

  test('a clock off by two hours exits 6 (clock skew)', async () => {
    const r = await agentMain(enrollArgs(tempStateDir('skew'), 'alice'), {
      stdin: 'alice-password\n',
      env: { ENCLAVE_AGENT_CLOCK_OFFSET_MS: String(-2 * 3600_000) },
    });
    assert.equal(r.code, ExitCode.CLOCK_SKEW);
    assert.match(r.stderr, /clock is 120 min behind the server's/);
  });

  test('enrolling again over an identity exits 7 unless --force', async () => {
    const r = await agentMain(enrollArgs(aliceDir, 'alice'), { stdin: 'alice-password\n' });
    assert.equal(r.code, ExitCode.STATE);
    assert.match(r.stderr, /already enrolled as "alice"/);
  });

  test('usage errors exit 2', async () => {
    assert.equal((await agentMain(['enroll', '--server', 'https://x'])).code, ExitCode.USAGE);
    assert.equal((await agentMain(['frobnicate'])).code, ExitCode.USAGE);
    assert.equal((await agentMain(['status', '--no-such-option'])).code, ExitCode.USAGE);
  });
});

describe('enclave-agent status, devices, lookup', () => {
  const env = { ENCLAVE_AGENT_PASSPHRASE: PASSPHRASE };

  test('status shows the identity and that the server accepts the device', async () => {
    const r = await agentMain(['status', '--state-dir', aliceDir, '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.username, 'alice');
    assert.match(s.accountId, /^[0-9a-f]{40}$/);
    assert.match(s.deviceId, /^[0-9a-f]{64}$/);
    assert.deepEqual(s.serverStatus, { state: 'ok' });
    assert.equal(s.daemon, null);
  });

  test('an encrypted key without its passphrase exits 9; a wrong one too', async () => {
    const r = await agentMain(['status', '--state-dir', aliceDir]);
    assert.equal(r.code, ExitCode.PASSPHRASE);
    assert.match(r.stderr, /passphrase/);
    const wrong = await agentMain(['status', '--state-dir', aliceDir], { env: { ENCLAVE_AGENT_PASSPHRASE: 'nope' } });
    assert.equal(wrong.code, ExitCode.PASSPHRASE);
    assert.match(wrong.stderr, /wrong passphrase/);
  });

  test('devices lists this device as the server knows it', async () => {
    const r = await agentMain(['devices', '--state-dir', aliceDir, '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const devices = JSON.parse(r.stdout);
    assert.equal(devices.length, 1);
    assert.deepEqual(
      { ...devices[0], deviceId: 'x' },
      { deviceId: 'x', alias: 'alice-laptop', revoked: false, current: true },
    );
  });

  test("lookup finds a colleague's Jami ID on the name server; an unknown name exits 8", async () => {
    const bobDir = tempStateDir('bob');
    assert.equal((await agentMain(enrollArgs(bobDir, 'bob'), { stdin: 'bob-password\n' })).code, 0);
    const bobId = JSON.parse(
      (await agentMain(['status', '--state-dir', bobDir, '--json', '--offline'])).stdout,
    ).accountId;
    // No DHT in this file: the policy's bootstrap node does not exist, so the DHT part finds nothing.
    const r = await agentMain(['lookup', 'bob', '--state-dir', aliceDir, '--json', '--bootstrap', '']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { name: 'bob', accountId: bobId, devices: null });
    const none = await agentMain(['lookup', 'nobody', '--state-dir', aliceDir]);
    assert.equal(none.code, ExitCode.NOT_FOUND);
    assert.match(none.stderr, /no user named "nobody"/);
  });

  test('commands on a machine that is not enrolled exit 7', async () => {
    const r = await agentMain(['devices', '--state-dir', tempStateDir('empty')]);
    assert.equal(r.code, ExitCode.STATE);
    assert.match(r.stderr, /not enrolled/);
  });
});

describe('enclave-agent backup and restore', () => {
  test('backs up to an encrypted archive and restores it into another state directory', async () => {
    const file = path.join(path.dirname(aliceDir), 'alice.backup');
    const b = await agentMain(['backup', file, '--state-dir', aliceDir], {
      env: { ENCLAVE_AGENT_PASSPHRASE: PASSPHRASE },
    });
    assert.equal(b.code, 0, b.stderr);
    const archive = fs.readFileSync(file);
    assert.equal(archive.subarray(0, 8).toString(), 'ENCLARC1');
    assert.ok(!archive.includes(Buffer.from('PRIVATE KEY')) && !archive.includes(Buffer.from('alice')));
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);

    const target = tempStateDir('restored');
    const wrong = await agentMain(['restore', file, '--state-dir', target], {
      env: { ENCLAVE_AGENT_PASSPHRASE: 'wrong' },
    });
    assert.equal(wrong.code, ExitCode.PASSPHRASE);
    assert.match(wrong.stderr, /wrong passphrase, or the backup is damaged/);

    const r = await agentMain(['restore', file, '--state-dir', target], {
      env: { ENCLAVE_AGENT_PASSPHRASE: PASSPHRASE },
    });
    assert.equal(r.code, 0, r.stderr);
    const before = JSON.parse(
      (
        await agentMain(['status', '--state-dir', aliceDir, '--json', '--offline'], {
          env: { ENCLAVE_AGENT_PASSPHRASE: PASSPHRASE },
        })
      ).stdout,
    );
    const s = await agentMain(['status', '--state-dir', target, '--json'], {
      env: { ENCLAVE_AGENT_PASSPHRASE: PASSPHRASE },
    });
    assert.equal(s.code, 0, s.stderr);
    const restored = JSON.parse(s.stdout);
    assert.equal(restored.deviceId, before.deviceId);
    assert.deepEqual(restored.serverStatus, { state: 'ok' });
    assert.equal(fs.statSync(target).mode & 0o777, 0o700);

    const again = await agentMain(['restore', file, '--state-dir', target], {
      env: { ENCLAVE_AGENT_PASSPHRASE: PASSPHRASE },
    });
    assert.equal(again.code, ExitCode.STATE);
    const notArchive = await agentMain(['restore', path.join(target, 'agent.json'), '--state-dir', tempStateDir('x')], {
      env: { ENCLAVE_AGENT_PASSPHRASE: PASSPHRASE },
    });
    assert.equal(notArchive.code, ExitCode.STATE);
    assert.match(notArchive.stderr, /not an enclave-agent backup/);
  });

  test('backup without a passphrase exits 9', async () => {
    const r = await agentMain(['backup', path.join(path.dirname(aliceDir), 'nopass.backup'), '--state-dir', aliceDir]);
    assert.equal(r.code, ExitCode.PASSPHRASE);
  });
});

describe('revocation', () => {
  test('a revoked device: status and devices exit 5 with a clear message', async () => {
    const dir = tempStateDir('bob-phone');
    assert.equal((await agentMain(enrollArgs(dir, 'bob'), { stdin: 'bob-password\n' })).code, 0);
    const { deviceId } = JSON.parse((await agentMain(['status', '--state-dir', dir, '--json', '--offline'])).stdout);
    const res = await server.request('DELETE', `/api/admin/users/bob/devices/${deviceId}`, { token: admin });
    assert.equal(res.status, 200, res.text());
    const s = await agentMain(['status', '--state-dir', dir]);
    assert.equal(s.code, ExitCode.DEVICE_REVOKED);
    assert.match(s.stdout, /REVOKED: this device has been revoked/);
    const d = await agentMain(['devices', '--state-dir', dir]);
    assert.equal(d.code, ExitCode.DEVICE_REVOKED);
    assert.match(d.stderr, /has been revoked/);
    assert.match(d.stderr, /enroll again/);
  });
});

test('npx enclave-agent --help works from the repository root', async () => {
  const r = await runAgentCli(['--no-install', 'enclave-agent', '--help'], { command: ['npx'] });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /enclave-agent enroll --server URL --username NAME/);
});
