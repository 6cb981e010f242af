import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadMasterKey, MASTER_KEY_FILE } from './master-key';

test('the master key file is created once with mode 0600 and reused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-'));
  try {
    const first = loadMasterKey(undefined, dir);
    assert.equal(first.created, true);
    const file = path.join(dir, MASTER_KEY_FILE);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const second = loadMasterKey(undefined, dir);
    assert.equal(second.created, false);
    assert.deepEqual(second.key, first.key);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ENCLAVE_MASTER_KEY wins over the file and accepts hex or base64', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-'));
  try {
    const hex = 'ab'.repeat(32);
    const a = loadMasterKey(hex, dir);
    assert.equal(a.origin, 'env');
    assert.equal(fs.existsSync(path.join(dir, MASTER_KEY_FILE)), false);
    const b = loadMasterKey(Buffer.from(hex, 'hex').toString('base64'), dir);
    assert.deepEqual(a.key, b.key);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt key file stops the start with a clear error', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-'));
  try {
    fs.writeFileSync(path.join(dir, MASTER_KEY_FILE), 'nonsense', { mode: 0o600 });
    assert.throws(() => loadMasterKey(undefined, dir), /is corrupt/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
