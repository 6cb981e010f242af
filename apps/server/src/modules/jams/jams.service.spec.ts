import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeDevice } from '../../../../../test/support/jami-client';
import { stopTestPostgres } from '../../../../../test/support/postgres';
import { startServiceContext, ServiceContext } from '../../../../../test/support/service-context';
import { AppError } from '../../common/app-error';
import { TransactionRunner } from '../../database/transaction-runner';
import { AccountsService } from '../accounts/accounts.service';
import { CaService } from '../ca/ca.service';
import { User } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { UsersService } from '../users/users.service';
import { JamsModule } from './jams.module';
import { JamsService } from './jams.service';

let ctx: ServiceContext;
let jams: JamsService;
let alice: User;
let bob: User;
let caKeyPem: string;

const rejects = (p: Promise<unknown>, code: string) =>
  assert.rejects(p, (e: unknown) => e instanceof AppError && e.code === code);

async function userNamed(name: string): Promise<User> {
  await ctx.get(UsersService).create({ username: name, password: `${name}-password` }, 'admin:test');
  return (await ctx.get(UsersRepository).byUsername(name)) as User;
}

function csrFor(keyPem: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-jams-spec-'));
  try {
    fs.writeFileSync(path.join(dir, 'k.pem'), keyPem, { mode: 0o600 });
    execFileSync('openssl', ['req', '-new', '-key', 'k.pem', '-subj', '/CN=Jami device', '-out', 'r.csr'], {
      cwd: dir,
      stdio: 'ignore',
    });
    return fs.readFileSync(path.join(dir, 'r.csr'), 'utf8');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const counts = async () =>
  ctx.rows(
    `SELECT (SELECT count(*)::int FROM devices) AS devices, (SELECT count(*)::int FROM accounts) AS accounts,
            (SELECT count(*)::int FROM issued_certificates) AS certs`,
  );

before(async () => {
  ctx = await startServiceContext([JamsModule]);
  jams = ctx.get(JamsService);
  const ca = ctx.get(CaService);
  // An RSA CA, so that a CSR made with the CA key passes the CSR checks and meets the key rules.
  const prepared = await ca.prepare({
    mode: 'generate',
    commonName: 'Spec CA',
    organization: 'Spec',
    algorithm: 'RSA-4096',
  });
  caKeyPem = prepared.privateKeyPem;
  await ctx.get(TransactionRunner).run((m) => ca.store(prepared, m));
  alice = await userNamed('alice');
  bob = await userNamed('bob');
});
after(async () => {
  await ctx?.close();
  await stopTestPostgres();
});

describe('JamsService enrollment on a real database', () => {
  test('enrolls a device for a user: account created once, device row, chain and receipt', async () => {
    const d = makeDevice();
    const answer = await jams.enroll(alice, { csr: d.csrPem, deviceName: 'laptop' });
    assert.equal(String(answer.certificateChain).match(/BEGIN CERTIFICATE/g)?.length, 3);
    assert.equal(JSON.parse(String(answer.deviceReceipt)).dev, d.shortId);
    const [row] = await ctx.rows('SELECT user_id, name, revoked_at FROM devices WHERE device_id = $1', [d.deviceId]);
    assert.deepEqual(row, { user_id: alice.id, name: 'laptop', revoked_at: null });
    await jams.enroll(alice, { csr: makeDevice().csrPem });
    assert.equal((await ctx.rows('SELECT id FROM accounts WHERE user_id = $1', [alice.id])).length, 1);
  });

  test('key rules: another user’s key, a revoked key, the account, pool and CA keys are refused and write nothing', async () => {
    const d = makeDevice();
    await jams.enroll(alice, { csr: d.csrPem });
    const revoked = makeDevice();
    await jams.enroll(alice, { csr: revoked.csrPem });
    await ctx.get(AccountsService).revokeDevice(alice, revoked.deviceId, 'admin:test');
    const account = await ctx.get(AccountsService).live(alice.id);
    const accountKey = ctx.get(AccountsService).signerOf(account!).privateKeyPem;
    const before = await counts();
    await rejects(jams.enroll(bob, { csr: d.csrPem }), 'DEVICE_KEY_IN_USE');
    await rejects(jams.enroll(alice, { csr: revoked.csrPem }), 'DEVICE_KEY_REVOKED');
    await rejects(jams.enroll(bob, { csr: csrFor(accountKey) }), 'DEVICE_KEY_FORBIDDEN');
    await rejects(jams.enroll(bob, { csr: csrFor(caKeyPem) }), 'DEVICE_KEY_FORBIDDEN');
    assert.deepEqual(await counts(), before);
  });

  test('re-enrolling an unrevoked device keeps its id and supersedes the old certificate', async () => {
    const d = makeDevice();
    await jams.enroll(bob, { csr: d.csrPem, deviceName: 'phone' });
    const [first] = await ctx.rows<{ id: string; certificate_id: string }>(
      'SELECT id, certificate_id FROM devices WHERE device_id = $1',
      [d.deviceId],
    );
    await rejects(jams.enroll(bob, { csr: d.csrPem }), 'DEVICE_ENROLLMENT_CONFLICT');
    await ctx.rows("UPDATE issued_certificates SET created_at = now() - interval '1 day' WHERE id = $1", [
      first.certificate_id,
    ]);
    await jams.enroll(bob, { csr: d.csrPem, deviceName: 'phone 2' });
    const [second] = await ctx.rows<{ id: string; certificate_id: string; name: string }>(
      'SELECT id, certificate_id, name FROM devices WHERE device_id = $1',
      [d.deviceId],
    );
    assert.equal(second.id, first.id);
    assert.notEqual(second.certificate_id, first.certificate_id);
    assert.equal(second.name, 'phone 2');
    const [old] = await ctx.rows('SELECT revocation_reason FROM issued_certificates WHERE id = $1', [
      first.certificate_id,
    ]);
    assert.deepEqual(old, { revocation_reason: 'superseded' });
  });

  test('ten concurrent enrollments of one CSR: one certificate, nine DEVICE_ENROLLMENT_CONFLICT', async () => {
    const d = makeDevice();
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => jams.enroll(bob, { csr: d.csrPem })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) {
      if (r.status === 'rejected') assert.equal((r.reason as AppError).code, 'DEVICE_ENROLLMENT_CONFLICT');
    }
    const certs = await ctx.rows("SELECT id FROM issued_certificates WHERE kind = 'device' AND key_id = $1", [
      d.shortId,
    ]);
    assert.equal(certs.length, 1);
  });
});
