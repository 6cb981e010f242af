import assert from 'node:assert/strict';
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { encode } from '@msgpack/msgpack';
import { infoHash, keyId } from './info-hash';
import { pack, RawMsgpack } from './msgpack';
import {
  createValue,
  decodeValue,
  encodeValue,
  packBody,
  signValue,
  valueExpiryMs,
  ValueFormatError,
  ValueType,
  verifyValue,
} from './value';

const signer = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });

test('infoHash is SHA-1 of the string: h("testkey") as in the dhtnode reference', () => {
  assert.equal(infoHash('testkey').toString('hex'), '913a73b565c8e2c8ed94497580f619397709b8b6');
});

test('the signed body is msgpack {seq, owner, [to], type, data, [utype]}, as @msgpack/msgpack encodes it', () => {
  const owner = signer.publicKey.export({ type: 'spki', format: 'der' });
  const to = Buffer.alloc(20, 9);
  const body = packBody({ seq: 3, owner, to, type: 4, data: Buffer.from('x'), utype: 'text/plain' });
  const expected = encode({ seq: 3, owner, to, type: 4, data: Buffer.from('x'), utype: 'text/plain' });
  assert.deepEqual(body, Buffer.from(expected));
  assert.deepEqual(
    packBody({ type: 0, data: Buffer.from('y') }),
    Buffer.from(encode({ type: 0, data: Buffer.from('y') })),
  );
});

test('a signed value verifies, keeps its exact body bytes through decode, and its owner id is the key id', () => {
  const v = signValue({ data: 'hello', seq: 2 }, signer.privateKey);
  assert.equal(v.signature!.length, 256);
  assert.ok(verifyValue(v));
  const raw = encodeValue(v);
  const back = decodeValue(raw);
  assert.equal(back.id, v.id);
  assert.equal(back.seq, 2);
  assert.equal(back.utype, 'text/plain');
  assert.deepEqual(back.body, v.body);
  assert.deepEqual(back.raw, raw);
  assert.ok(verifyValue(back));
  assert.deepEqual(keyId(back.owner!), keyId(signer.publicKey));
});

test('a forged signature is rejected: tampered data, tampered bytes, another key, a wrong signature', () => {
  const v = signValue({ data: 'genuine' }, signer.privateKey);
  assert.equal(verifyValue({ ...v, data: Buffer.from('forged!'), body: undefined }), false);

  const raw = encodeValue(v);
  const at = raw.indexOf(Buffer.from('genuine'));
  const tampered = Buffer.from(raw);
  tampered.write('forged!', at);
  assert.equal(verifyValue(decodeValue(tampered)), false);

  const otherOwner = other.publicKey.export({ type: 'spki', format: 'der' });
  assert.equal(verifyValue({ ...v, owner: otherOwner, body: undefined }), false);
  assert.equal(verifyValue({ ...v, signature: Buffer.alloc(256) }), false);
  assert.equal(verifyValue(createValue({ data: 'unsigned' })), false);
});

test('only RSA keys sign or verify (OpenDHT checks RSA-SHA512 only)', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  assert.throws(() => signValue({ data: 'x' }, ec.privateKey as KeyObject), /RSA/);
  const v = signValue({ data: 'x' }, signer.privateKey);
  assert.equal(verifyValue({ ...v, owner: ec.publicKey.export({ type: 'spki', format: 'der' }) }), false);
});

test('decoding rejects values OpenDHT rejects: owner without signature, owner without seq, no body', () => {
  const owner = signer.publicKey.export({ type: 'spki', format: 'der' });
  const noSig = pack({
    id: 1n,
    dat: { body: new RawMsgpack(packBody({ seq: 0, owner, type: 0, data: Buffer.alloc(1) })) },
  });
  assert.throws(() => decodeValue(noSig), ValueFormatError);
  const noSeq = pack({ id: 1n, dat: { body: { owner, type: 0, data: Buffer.alloc(1) }, sig: Buffer.alloc(4) } });
  assert.throws(() => decodeValue(noSeq), /no seq/);
  assert.throws(() => decodeValue(pack({ id: 1n, dat: {} })), ValueFormatError);
  assert.throws(() => decodeValue(pack({ id: 1n })), ValueFormatError);
  assert.throws(() => decodeValue(Buffer.from([0x81, 0xa2])), ValueFormatError);
});

test('plain values: a string becomes text/plain data; uint64 ids survive; cyphers decode as encrypted', () => {
  const v = createValue({ data: 'hi', id: 0xfedcba9876543210n });
  const back = decodeValue(encodeValue(v));
  assert.equal(back.id, 0xfedcba9876543210n);
  assert.equal(back.data.toString(), 'hi');
  assert.equal(back.utype, 'text/plain');
  assert.equal(back.owner, undefined);
  const enc = decodeValue(pack({ id: 5n, dat: Buffer.alloc(300, 1) }));
  assert.equal(enc.cypher!.length, 300);
  assert.equal(enc.type, 0);
});

test('expiry per value type: user data 10 min, trust requests 7 days, unknown types as user data', () => {
  assert.equal(valueExpiryMs(ValueType.USER_DATA), 600_000);
  assert.equal(valueExpiryMs(ValueType.TRUST_REQUEST), 7 * 24 * 3600_000);
  assert.equal(valueExpiryMs(ValueType.ICE_CANDIDATES), 60_000);
  assert.equal(valueExpiryMs(0x7e57), 600_000);
});
