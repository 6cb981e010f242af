import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { infoHash, keyId } from './info-hash';
import { pack } from './msgpack';
import { ValueField } from './query';
import { ValueStorage } from './storage';
import { createValue, signValue, ValueType } from './value';

const owner = generateKeyPairSync('rsa', { modulusLength: 2048 });
const intruder = generateKeyPairSync('rsa', { modulusLength: 2048 });
const key = infoHash('storage-spec');

test('values expire per type, counted from their creation time', () => {
  const s = new ValueStorage();
  s.store(key, createValue({ data: 'user', id: 1n }), 0);
  s.store(key, createValue({ data: 'ice', id: 2n, type: ValueType.ICE_CANDIDATES }), 0);
  s.store(key, createValue({ data: 'old', id: 3n }), 300_000, 0);
  assert.deepEqual(s.store(key, createValue({ data: 'too old', id: 4n }), 700_000, 0), {
    stored: false,
    reason: 'expired',
  });
  assert.equal(s.get(key, [], 59_999).length, 3);
  assert.deepEqual(
    s.expire(60_000).map((e) => e.values.map((v) => v.value.id)),
    [[2n]],
  );
  assert.deepEqual(
    s.expire(600_000).flatMap((e) => e.values.map((v) => v.value.id)),
    [1n, 3n],
  );
  assert.equal(s.valueCount, 0);
  assert.equal(s.bytes, 0);
});

test('a forged signed value is refused; edits need the same owner and a higher seq', () => {
  const s = new ValueStorage();
  const v1 = signValue({ data: 'v1', id: 7n, seq: 1 }, owner.privateKey);
  const forged = { ...v1, data: Buffer.from('v9'), raw: undefined, body: undefined };
  assert.deepEqual(s.store(key, forged), { stored: false, reason: 'bad-signature' });
  assert.equal(s.store(key, v1).stored, true);
  assert.equal((s.store(key, v1) as { changed: boolean }).changed, false, 'the same bytes just refresh');
  const hijack = signValue({ data: 'mine', id: 7n, seq: 5 }, intruder.privateKey);
  assert.deepEqual(s.store(key, hijack), { stored: false, reason: 'edit-refused' });
  const stale = signValue({ data: 'v0', id: 7n, seq: 1 }, owner.privateKey);
  assert.deepEqual(s.store(key, stale), { stored: false, reason: 'edit-refused' });
  const v2 = signValue({ data: 'v2', id: 7n, seq: 2 }, owner.privateKey);
  assert.equal((s.store(key, v2) as { changed: boolean }).changed, true);
  assert.deepEqual(
    s.get(key).map((e) => e.value.data.toString()),
    ['v2'],
  );
  assert.deepEqual(s.store(key, createValue({ data: 'x', id: 7n })), { stored: false, reason: 'edit-refused' });
});

test('limits: value size, values per key, total bytes; id 0 is invalid', () => {
  const s = new ValueStorage({ maxValueSize: 200, maxValuesPerKey: 2, maxBytes: 200 });
  assert.deepEqual(s.store(key, createValue({ data: Buffer.alloc(300), id: 1n })), {
    stored: false,
    reason: 'too-large',
  });
  assert.deepEqual(s.store(key, createValue({ data: 'x', id: 0n })), { stored: false, reason: 'invalid-id' });
  assert.equal(s.store(key, createValue({ data: Buffer.alloc(100), id: 1n })).stored, true);
  assert.deepEqual(s.store(key, createValue({ data: Buffer.alloc(100), id: 2n })), {
    stored: false,
    reason: 'storage-full',
  });
  assert.equal(s.store(key, createValue({ data: 'b', id: 2n })).stored, true);
  assert.deepEqual(s.store(key, createValue({ data: 'c', id: 3n })), { stored: false, reason: 'storage-full' });
});

test('get filters with a Where clause and refresh restarts expiry', () => {
  const s = new ValueStorage();
  s.store(key, createValue({ data: 'a', id: 1n }), 0);
  s.store(key, signValue({ data: 'b', id: 2n, seq: 4 }, owner.privateKey), 0);
  assert.deepEqual(
    s.get(key, [{ field: ValueField.SEQ_NUM, value: 4n }], 1).map((e) => e.value.id),
    [2n],
  );
  assert.deepEqual(
    s.get(key, [{ field: ValueField.OWNER_PK, value: keyId(owner.publicKey) }], 1).map((e) => e.value.id),
    [2n],
  );
  assert.ok(s.refresh(key, 1n, 500_000));
  assert.equal(s.refresh(key, 99n, 500_000), undefined);
  assert.deepEqual(
    s.get(key, [], 700_000).map((e) => e.value.id),
    [1n],
  );
});

test('a certificate (type 8) is stored only at its public key id', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dht-cert-'));
  try {
    const keyFile = path.join(dir, 'k.pem');
    fs.writeFileSync(keyFile, owner.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const pem = execFileSync('openssl', ['req', '-new', '-x509', '-key', keyFile, '-subj', '/CN=dht', '-days', '1'], {
      encoding: 'utf8',
    });
    const cert = createValue({ data: pack(Buffer.from(pem)), id: 1n, type: ValueType.CERTIFICATE });
    const s = new ValueStorage();
    assert.deepEqual(s.store(key, cert), { stored: false, reason: 'certificate-key-mismatch' });
    assert.equal(s.store(keyId(owner.publicKey), cert).stored, true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
