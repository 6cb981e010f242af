import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { BackupContents, openBackup, sealBackup } from './backup';
import { isDatabaseUnavailable } from './database-errors';

const contents: BackupContents = {
  format: 1,
  createdAt: '2026-12-07T00:00:00.000Z',
  migrations: ['Init1795302523017'],
  tables: [{ name: 'users', rows: [{ username: 'alice' }] }],
  sequences: [],
};

test('an archive sealed with the master key opens with it only, and any altered byte is refused', () => {
  const masterKey = randomBytes(32);
  const archive = sealBackup(contents, { kind: 'master-key', masterKey });
  assert.equal(archive.includes('alice'), false);
  assert.deepEqual(openBackup(archive, { kind: 'master-key', masterKey }), contents);
  assert.throws(() => openBackup(archive, { kind: 'master-key', masterKey: randomBytes(32) }), /cannot be decrypted/);
  assert.throws(() => openBackup(archive, { kind: 'passphrase', passphrase: 'x'.repeat(16) }), /master key/);
  for (const at of [5, 30, archive.length - 40, archive.length - 1]) {
    const altered = Buffer.from(archive);
    altered[at] ^= 1;
    assert.throws(
      () => openBackup(altered, { kind: 'master-key', masterKey }),
      /bad magic|Corrupt|cannot be decrypted/,
    );
  }
});

test('a passphrase archive may carry the master key; a master-key archive may not', () => {
  const withKey = { ...contents, masterKey: randomBytes(32).toString('hex') };
  assert.throws(() => sealBackup(withKey, { kind: 'master-key', masterKey: randomBytes(32) }), /needs a passphrase/);
  const archive = sealBackup(withKey, { kind: 'passphrase', passphrase: 'correct horse battery' });
  assert.equal(
    openBackup(archive, { kind: 'passphrase', passphrase: 'correct horse battery' }).masterKey,
    withKey.masterKey,
  );
  assert.throws(
    () => openBackup(archive, { kind: 'passphrase', passphrase: 'wrong horse battery' }),
    /cannot be decrypted/,
  );
});

test('connection failures are recognised as DATABASE_UNAVAILABLE, query errors are not', () => {
  assert.equal(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), true);
  assert.equal(isDatabaseUnavailable(new Error('Connection terminated unexpectedly')), true);
  assert.equal(isDatabaseUnavailable({ message: 'x', driverError: { code: '57P01' } }), true);
  assert.equal(isDatabaseUnavailable(new AggregateError([Object.assign(new Error(), { code: 'ECONNREFUSED' })])), true);
  assert.equal(isDatabaseUnavailable(new Error('Query runner already released. Cannot run queries anymore.')), true);
  assert.equal(isDatabaseUnavailable({ message: 'duplicate key', code: '23505' }), false);
  assert.equal(isDatabaseUnavailable(new TypeError('x is undefined')), false);
  assert.equal(isDatabaseUnavailable(undefined), false);
});
