import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SecretBox } from './secret-box';

const box = new SecretBox(randomBytes(32));

test('SecretBox round-trips and never stores the plaintext', () => {
  const sealed = box.seal('-----BEGIN PRIVATE KEY-----abc', 'ca-key:1');
  assert.ok(!sealed.includes('PRIVATE'));
  assert.equal(box.openText(sealed, 'ca-key:1'), '-----BEGIN PRIVATE KEY-----abc');
});

test('SecretBox refuses a ciphertext moved to another purpose, a tampered one, and another key', () => {
  const sealed = box.seal('secret', 'ca-key:1');
  assert.throws(() => box.open(sealed, 'ca-key:2'));
  const parts = sealed.split(':');
  const data = Buffer.from(parts[3], 'base64');
  data[0] ^= 1;
  parts[3] = data.toString('base64');
  assert.throws(() => box.open(parts.join(':'), 'ca-key:1'));
  assert.throws(() => new SecretBox(randomBytes(32)).open(sealed, 'ca-key:1'));
  assert.throws(() => new SecretBox(randomBytes(16)), /32 bytes/);
});
