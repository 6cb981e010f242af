import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt } from 'node:crypto';
import { test } from 'node:test';
import { keyId } from './info-hash';
import { decodeValue, encodeValue, verifyValue } from './value';
import {
  decryptValue,
  DecryptionError,
  EncryptedValueRejected,
  encryptValue,
  rsaDecrypt,
  rsaEncrypt,
} from './value-crypto';

const sender = generateKeyPairSync('rsa', { modulusLength: 2048 });
const recipient = generateKeyPairSync('rsa', { modulusLength: 2048 });
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });

test('an encrypted value round-trips: signed by the sender, addressed to the recipient key id', () => {
  const v = encryptValue({ data: 'secret', type: 4, utype: 'text/plain' }, sender.privateKey, recipient.publicKey);
  assert.ok(v.cypher);
  const wire = decodeValue(encodeValue(v));
  assert.equal(wire.type, 0, 'storing nodes see a type-0 value');
  assert.deepEqual(wire.cypher, v.cypher);
  const d = decryptValue(wire, recipient.privateKey);
  assert.equal(d.decrypted, true);
  assert.equal(d.id, v.id);
  assert.equal(d.data.toString(), 'secret');
  assert.equal(d.type, 4);
  assert.deepEqual(d.to, keyId(recipient.publicKey));
  assert.deepEqual(keyId(d.owner!), keyId(sender.publicKey));
  assert.ok(verifyValue(d));
});

test('the cypher is RSA-PKCS#1 v1.5(AES-256 key) ‖ IV(12) ‖ AES-GCM ciphertext ‖ tag(16)', () => {
  const plaintext = Buffer.alloc(1000, 7);
  const cypher = rsaEncrypt(plaintext, recipient.publicKey);
  assert.equal(cypher.length, 256 + 12 + 1000 + 16);
  // The first block unwraps with plain PKCS#1 v1.5 to a 32-byte key (checked here with RSA_NO_PADDING).
  const em = privateDecrypt({ key: recipient.privateKey, padding: constants.RSA_NO_PADDING }, cypher.subarray(0, 256));
  assert.deepEqual([em[0], em[1]], [0, 2]);
  assert.equal(em.length - em.indexOf(0, 2) - 1, 32);
  assert.deepEqual(rsaDecrypt(cypher, recipient.privateKey), plaintext);
});

test('a short plaintext is one PKCS#1 v1.5 block, decrypted without Node’s refused PKCS#1 private mode', () => {
  const block = publicEncrypt({ key: recipient.publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from('hi'));
  assert.deepEqual(rsaDecrypt(block, recipient.privateKey), Buffer.from('hi'));
  assert.equal(rsaEncrypt(Buffer.from('hi'), recipient.publicKey).length, 256);
});

test('decryption fails cleanly for another key and for a tampered cypher', () => {
  const v = encryptValue({ data: 'secret' }, sender.privateKey, recipient.publicKey);
  assert.throws(() => decryptValue(v, stranger.privateKey), DecryptionError);
  const tampered = Buffer.from(v.cypher!);
  tampered[tampered.length - 20] ^= 1;
  assert.throws(() => decryptValue({ ...v, cypher: tampered }, recipient.privateKey), DecryptionError);
  assert.throws(() => rsaDecrypt(Buffer.alloc(10), recipient.privateKey), DecryptionError);
});

test('a value encrypted to us but addressed to someone else, or with a bad inner signature, is rejected', () => {
  // Addressed (signed `to`) to the stranger, but encrypted to the recipient's key.
  const misaddressed = encryptValue({ data: 'x' }, sender.privateKey, stranger.publicKey);
  const inner = rsaDecrypt(misaddressed.cypher!, stranger.privateKey);
  const rewrapped = { ...misaddressed, cypher: rsaEncrypt(inner, recipient.publicKey) };
  assert.throws(
    () => decryptValue(rewrapped, recipient.privateKey),
    (e) => {
      return e instanceof EncryptedValueRejected && e.message === 'recipient mismatch';
    },
  );

  const genuine = encryptValue({ data: 'original' }, sender.privateKey, recipient.publicKey);
  const plain = rsaDecrypt(genuine.cypher!, recipient.privateKey);
  const at = plain.indexOf(Buffer.from('original'));
  plain.write('tampered', at);
  const forged = { ...genuine, cypher: rsaEncrypt(plain, recipient.publicKey) };
  assert.throws(() => decryptValue(forged, recipient.privateKey), /signature mismatch/);
});
