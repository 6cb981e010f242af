/**
 * Backup and restore (issue 14): `npm run backup` of a running installation, `npm run restore` into a fresh
 * database and data directory, and the restored server honours what the old one knew: an enrolled device
 * logs in with its certificate (mTLS POST /api/login), a device revoked before the backup stays revoked.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { deviceLogin, enrollOk } from '../support/jami-client';
import { createTestDatabase, stopTestPostgres, TestDatabase } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-backup-'));
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await stopTestPostgres();
  fs.rmSync(work, { recursive: true, force: true });
});

function tool(script: 'backup' | 'restore', args: string[], env: Record<string, string>) {
  return run(process.execPath, ['-r', './scripts/register.cjs', `scripts/${script}.ts`, ...args], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ENCLAVE_PUBLIC_URL: 'https://127.0.0.1:8443',
      LOG_LEVEL: 'warn',
      ...env,
    },
  }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );
}

async function freshTarget(): Promise<{ db: TestDatabase; dataDir: string }> {
  const db = await createTestDatabase();
  const dataDir = fs.mkdtempSync(path.join(work, 'data-'));
  cleanups.push(() => db.drop());
  return { db, dataDir };
}

test(
  'a backup restored into a fresh installation keeps enrolled devices working and revocations in force',
  { timeout: 300_000 },
  async () => {
    const masterKey = randomBytes(32).toString('hex');
    const source: TestServer = await startTestServer({
      ENCLAVE_MASTER_KEY: masterKey,
      ENCLAVE_LOGIN_MAX_FAILURES: '50',
    });
    cleanups.push(() => source.close());
    const admin = await setUp(source);
    for (const username of ['alice', 'bob']) {
      const res = await source.request('POST', '/api/admin/users', {
        token: admin,
        body: { username, password: `${username}-password` },
      });
      assert.equal(res.status, 201, res.text());
    }
    const kept = await enrollOk(source, 'alice', 'alice-password');
    const revoked = await enrollOk(source, 'bob', 'bob-password');
    const del = await source.request('DELETE', `/api/admin/users/bob/devices/${revoked.device.deviceId}`, {
      token: admin,
    });
    assert.equal(del.status, 200, del.text());
    assert.equal((await deviceLogin(source, kept)).status, 200);
    assert.equal((await deviceLogin(source, revoked)).status, 401);

    // Backup while the server runs, sealed with the master key (which is not inside).
    const archive = path.join(work, 'enclave.backup');
    const sourceEnv = { DATABASE_URL: source.db.url, ENCLAVE_DATA_DIR: source.dataDir, ENCLAVE_MASTER_KEY: masterKey };
    const backup = await tool('backup', [archive], sourceEnv);
    assert.equal(backup.code, 0, backup.out);
    const bytes = fs.readFileSync(archive);
    assert.equal(fs.statSync(archive).mode & 0o777, 0o600);
    assert.match(bytes.subarray(0, 17).toString(), /^ENCLAVE-BACKUP 1\n/);
    for (const plain of ['alice', 'BEGIN CERTIFICATE', masterKey, Buffer.from(masterKey, 'hex').toString('base64')]) {
      assert.equal(bytes.includes(plain), false, `the archive does not contain ${plain.slice(0, 20)} in clear`);
    }
    await source.close();
    cleanups.pop();

    // A wrong key is refused and changes nothing.
    const wrong = await freshTarget();
    const refused = await tool('restore', [archive], {
      DATABASE_URL: wrong.db.url,
      ENCLAVE_DATA_DIR: wrong.dataDir,
      ENCLAVE_MASTER_KEY: randomBytes(32).toString('hex'),
    });
    assert.notEqual(refused.code, 0);
    assert.match(refused.out, /cannot be decrypted: wrong master key or passphrase/);

    // Restore into a fresh database and data directory, with the master key kept apart.
    const target = await freshTarget();
    const targetEnv = { DATABASE_URL: target.db.url, ENCLAVE_DATA_DIR: target.dataDir, ENCLAVE_MASTER_KEY: masterKey };
    const restore = await tool('restore', [archive], targetEnv);
    assert.equal(restore.code, 0, restore.out);
    const again = await tool('restore', [archive], targetEnv);
    assert.notEqual(again.code, 0, 'a restore never overwrites an installation in use');
    assert.match(again.out, /not empty: restore into a fresh installation/);

    const restored = await startTestServer(targetEnv);
    cleanups.push(() => restored.close());
    const login = await deviceLogin(restored, kept);
    assert.equal(login.status, 200, login.text());
    assert.ok(login.json().access_token);
    const stillRevoked = await deviceLogin(restored, revoked);
    assert.equal(stillRevoked.status, 401, stillRevoked.text());
    assert.equal(stillRevoked.json().code, 'DEVICE_REVOKED');
    const adminLogin = await restored.request('POST', '/api/admin/login', {
      body: { username: 'admin', password: 'admin-password-1' },
    });
    assert.equal(adminLogin.status, 200, 'the admin accounts came back too');
    // The sealed CA key is usable: a new device enrolls against the restored CA.
    const fresh = await enrollOk(restored, 'alice', 'alice-password');
    assert.equal(fresh.certs.at(-1)?.fingerprint256, kept.certs.at(-1)?.fingerprint256, 'same CA');
  },
);

test(
  'an archive with the master key inside needs a passphrase and restores the key into an empty data directory',
  { timeout: 300_000 },
  async () => {
    const masterKey = randomBytes(32).toString('hex');
    const source = await startTestServer({ ENCLAVE_MASTER_KEY: masterKey });
    cleanups.push(() => source.close());
    await setUp(source);
    const env = { DATABASE_URL: source.db.url, ENCLAVE_DATA_DIR: source.dataDir, ENCLAVE_MASTER_KEY: masterKey };
    const archive = path.join(work, 'with-key.backup');
    const noPass = await tool('backup', [archive, '--include-master-key'], env);
    assert.notEqual(noPass.code, 0);
    assert.match(noPass.out, /--include-master-key needs --passphrase-file/);
    const passFile = path.join(work, 'passphrase');
    fs.writeFileSync(passFile, 'correct horse battery staple\n');
    const ok = await tool('backup', [archive, '--include-master-key', '--passphrase-file', passFile], env);
    assert.equal(ok.code, 0, ok.out);

    const target = await freshTarget();
    const restore = await tool('restore', [archive, '--passphrase-file', passFile], {
      DATABASE_URL: target.db.url,
      ENCLAVE_DATA_DIR: target.dataDir,
    });
    assert.equal(restore.code, 0, restore.out);
    assert.equal(fs.readFileSync(path.join(target.dataDir, 'master.key'), 'utf8').trim(), masterKey);
    assert.equal(fs.statSync(path.join(target.dataDir, 'master.key')).mode & 0o777, 0o600);
  },
);
