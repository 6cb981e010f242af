import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { decode } from '@msgpack/msgpack';
import { verifyDeviceAnnouncement } from './device-announcement';
import { issueDeviceReceipt, verifyReceiptSignature } from './receipt';

const pem = (k: ReturnType<typeof generateKeyPairSync>) => ({
  priv: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  pub: k.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
});
const account = pem(generateKeyPairSync('rsa', { modulusLength: 2048 }));
const device = pem(generateKeyPairSync('rsa', { modulusLength: 2048 }));
const spki = (p: string) => createPublicKey(p).export({ type: 'spki', format: 'der' });

test('the receipt names the account and device by SHA-1 key ids and its signature verifies over the exact bytes', () => {
  const r = issueDeviceReceipt({
    accountPrivateKeyPem: account.priv,
    accountPublicKeyPem: account.pub,
    devicePublicKeyPem: device.pub,
  });
  const json = JSON.parse(r.receipt);
  assert.equal(json.id, createHash('sha1').update(spki(account.pub)).digest('hex'));
  assert.equal(json.dev, createHash('sha1').update(spki(device.pub)).digest('hex'));
  assert.equal(json.eth, '');
  assert.ok(verifyReceiptSignature(r.receipt, r.signature, account.pub));
  assert.ok(!verifyReceiptSignature(r.receipt.replace('"eth":""', '"eth": ""'), r.signature, account.pub));
  assert.doesNotMatch(r.signature, /\n/);
});

test('the announce is a canonical msgpack dht::Value with pk, signed by the account over {seq,owner,type,data}', () => {
  const r = issueDeviceReceipt({
    accountPrivateKeyPem: account.priv,
    accountPublicKeyPem: account.pub,
    devicePublicKeyPem: device.pub,
  });
  const value = Buffer.from(JSON.parse(r.receipt).announce, 'base64');
  const parsed = verifyDeviceAnnouncement(value);
  assert.equal(parsed.accountId, JSON.parse(r.receipt).id);
  assert.equal(parsed.deviceShortId, JSON.parse(r.receipt).dev);
  assert.equal(parsed.deviceId, createHash('sha256').update(spki(device.pub)).digest('hex'));
  // Byte layout msgpack-c produces: map(2) {"id": 0, "dat": map(2) {"body": map(4) {seq, owner, type, data}, "sig"}}
  assert.equal(value.subarray(0, 10).toString('hex'), '82a2696400a364617482');
  const decoded = decode(value) as { dat: { body: Record<string, unknown> } };
  assert.deepEqual(Object.keys(decoded.dat.body), ['seq', 'owner', 'type', 'data']);
  assert.ok(decoded.dat.body.owner instanceof Uint8Array, 'owner is msgpack bin');
  const inner = decode(decoded.dat.body.data as Uint8Array) as Record<string, unknown>;
  assert.deepEqual(Object.keys(inner), ['dev', 'pk']);
});

test('a tampered announcement is rejected', () => {
  const r = issueDeviceReceipt({
    accountPrivateKeyPem: account.priv,
    accountPublicKeyPem: account.pub,
    devicePublicKeyPem: device.pub,
  });
  const value = Buffer.from(JSON.parse(r.receipt).announce, 'base64');
  const tampered = Buffer.from(value);
  tampered[tampered.length - 1] ^= 1;
  assert.throws(() => verifyDeviceAnnouncement(tampered), /signature does not verify/);
});
