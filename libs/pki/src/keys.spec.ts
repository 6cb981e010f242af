import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, KeyAlgorithm } from './keys';
import { assertPkiError, Workdir } from './openssl.test-helper';
import { PkiErrorCode } from './pki.errors';

describe('generateKeyPair', () => {
  let dir: Workdir;
  before(() => {
    dir = new Workdir();
  });
  after(() => dir.remove());

  it('generates RSA-2048 with exponent 65537 as SPKI and unencrypted PKCS#8 PEM, checked by openssl', async () => {
    const keys = await generateKeyPair('RSA-2048');
    assert.match(keys.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.match(keys.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    dir.write('rsa.key', keys.privateKeyPem);
    const text = dir.opensslOk(['pkey', '-in', 'rsa.key', '-noout', '-text']);
    assert.match(text, /Private-Key: \(2048 bit, 2 primes\)/);
    assert.match(text, /publicExponent: 65537 \(0x10001\)/);
    assert.equal(dir.opensslOk(['pkey', '-in', 'rsa.key', '-pubout']), keys.publicKeyPem);
  });

  it('generates P-256 keys on prime256v1', async () => {
    const keys = await generateKeyPair('P-256');
    dir.write('ec.key', keys.privateKeyPem);
    assert.match(dir.opensslOk(['pkey', '-in', 'ec.key', '-noout', '-text']), /ASN1 OID: prime256v1/);
    assert.equal(dir.opensslOk(['pkey', '-in', 'ec.key', '-pubout']), keys.publicKeyPem);
  });

  it('defaults to RSA-4096', async () => {
    const keys = await generateKeyPair();
    const details = createPublicKey(keys.publicKeyPem).asymmetricKeyDetails;
    assert.equal(details?.modulusLength, 4096);
    assert.equal(details?.publicExponent, 65537n);
    assert.equal(createPrivateKey(keys.privateKeyPem).asymmetricKeyDetails?.modulusLength, 4096);
  });

  it('runs off the main thread: the event loop keeps turning while an RSA key is generated', async () => {
    let ticks = 0;
    let generating = true;
    const spin = () => {
      if (!generating) return;
      ticks++;
      setImmediate(spin);
    };
    setImmediate(spin);
    await generateKeyPair('RSA-2048');
    generating = false;
    assert.ok(ticks > 1, `event loop ran ${ticks} times during generation`);
  });

  it('rejects an unknown algorithm with CONFIG_INVALID instead of a TypeError', async () => {
    const error = await assertPkiError(generateKeyPair('RSA-1024' as KeyAlgorithm), PkiErrorCode.CONFIG_INVALID);
    assert.deepEqual(error.details?.problems, ['algorithm must be one of RSA-4096, RSA-2048, P-256']);
  });
});
