import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { admitValue } from './admission';
import { DhtProxyError, proxyUrl } from './dht-proxy-client';
import { keyId } from './info-hash';
import { valueFromProxyJson, valueToProxyJson } from './proxy-json';
import { createValue, encodeValue, signValue, ValueFormatError } from './value';
import { encryptValue } from './value-crypto';

const rsa = () => {
  const k = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: k.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    key: k.privateKey,
  };
};
const alice = rsa();
const bob = rsa();

/** What the proxy hands back, as a received value goes through the same checks as one from UDP. */
const roundTrip = (json: unknown) => admitValue(encodeValue(valueFromProxyJson(JSON.parse(JSON.stringify(json)))));

describe('OpenDHT proxy JSON values', () => {
  test('a plain value: id in decimal, data in base64, utype', () => {
    const v = createValue({ id: 18446744073709551615n, data: 'hello' });
    const j = valueToProxyJson(v);
    assert.deepEqual(j, { id: '18446744073709551615', type: 0, data: 'aGVsbG8=', utype: 'text/plain' });
    const a = roundTrip(j);
    assert.ok(a.ok);
    assert.equal(a.value.id, v.id);
    assert.equal(a.value.data.toString(), 'hello');
    assert.equal(a.value.utype, 'text/plain');
  });

  test('a signed value: owner as PEM (GnuTLS adds a NUL), seq, sig; the signature still verifies', () => {
    const v = signValue({ data: Buffer.alloc(900, 7), type: 8, seq: 5, to: keyId(bob.publicKeyPem) }, alice.key);
    const j = valueToProxyJson(v, { permanent: true });
    assert.match(j.owner!, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(j.to, keyId(bob.publicKeyPem).toString('hex'));
    assert.equal(j.permanent, true);
    const a = roundTrip({ ...j, owner: `${j.owner}\u0000` });
    assert.ok(a.ok, 'verifies after the JSON round trip');
    assert.equal(a.value.seq, 5);
    assert.equal(a.value.type, 8);
    assert.ok(a.value.to!.equals(keyId(bob.publicKeyPem)));
  });

  test('a tampered signed value is rejected (bad-signature)', () => {
    const j = valueToProxyJson(signValue({ data: 'original' }, alice.key));
    const a = roundTrip({ ...j, data: Buffer.from('tampered').toString('base64') });
    assert.equal(a.ok, false);
    assert.equal(!a.ok && a.reason, 'bad-signature');
    const b = roundTrip({ ...j, seq: 1 });
    assert.equal(!b.ok && b.reason, 'bad-signature', 'seq is signed too');
  });

  test('an encrypted value carries only id and cypher, and decrypts for its recipient', () => {
    const v = encryptValue({ data: 'secret', type: 3 }, alice.key, bob.publicKeyPem);
    const j = valueToProxyJson(v);
    assert.deepEqual(Object.keys(j).sort(), ['cypher', 'id']);
    const a = admitValue(encodeValue(valueFromProxyJson(j)), bob.key);
    assert.ok(a.ok);
    assert.equal(a.value.decrypted, true);
    assert.equal(a.value.data.toString(), 'secret');
    assert.equal(a.value.type, 3);
  });

  test('malformed JSON values are refused with the field named', () => {
    const cases: [unknown, RegExp][] = [
      [null, /not an object/],
      [[], /not an object/],
      [{ id: 12 }, /id is not a uint64/],
      [{ id: '18446744073709551616' }, /id is not a uint64/],
      [{ id: '1', data: 'not base64!' }, /data is not base64/],
      [{ id: '1', type: -1, data: '' }, /type is not an integer/],
      [{ id: '1', type: 70000, data: '' }, /type is not an integer/],
      [{ id: '1', data: '', owner: 'not a key' }, /owner is not a public key/],
      [{ id: '1', data: '', owner: alice.publicKeyPem, to: 'abc' }, /to is not 40 hex/],
      [{ id: '1', cypher: 5 }, /cypher is not base64/],
      [{ id: '1', data: '', utype: 3 }, /utype is not a string/],
    ];
    for (const [json, message] of cases) {
      assert.throws(
        () => valueFromProxyJson(json),
        (e: Error) => e instanceof ValueFormatError && message.test(e.message),
      );
    }
  });
});

describe('proxyUrl (Account.proxyServer)', () => {
  test('host:port means http; a full URL is kept; a port range picks a port in it', () => {
    assert.equal(proxyUrl('127.0.0.1:8080').href, 'http://127.0.0.1:8080/');
    assert.equal(proxyUrl(' https://proxy.example.org/dht ').href, 'https://proxy.example.org/dht');
    assert.equal(proxyUrl('[::1]:9000').hostname, '[::1]');
    for (let i = 0; i < 50; i++) {
      const port = Number(proxyUrl('dhtproxy.example.org:[80-95]').port || 80);
      assert.ok(port >= 80 && port <= 95, `port ${port}`);
    }
  });

  test('bad addresses are refused (BAD_URL)', () => {
    for (const bad of ['', 'ftp://x.example', 'x.example:[95-80]', 'x.example:[0-5]', 'http://']) {
      assert.throws(
        () => proxyUrl(bad),
        (e: Error) => e instanceof DhtProxyError && e.code === 'BAD_URL',
        bad,
      );
    }
  });
});
