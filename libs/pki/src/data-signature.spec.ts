import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signData, verifyData } from './data-signature';
import { generateKeyPair, KeyPairPem } from './keys';
import { assertPkiError, Workdir } from './openssl.test-helper';
import { PkiErrorCode } from './pki.errors';

describe('signData / verifyData (RSA PKCS#1 v1.5 SHA-512, Jami receipts)', () => {
  let dir: Workdir;
  let keys: KeyPairPem;
  const receipt = Buffer.from('{"id":"abc","dev":"def","eth":"","announce":"AAAA"}', 'utf8');

  before(async () => {
    dir = new Workdir();
    keys = await generateKeyPair('RSA-2048');
    dir.write('key.pem', keys.privateKeyPem);
    dir.write('pub.pem', keys.publicKeyPem);
    dir.write('receipt.json', receipt);
  });
  after(() => dir.remove());

  it('round-trips, and the signature is 256 bytes for a 2048-bit key', () => {
    const signature = signData(keys.privateKeyPem, receipt);
    assert.equal(signature.length, 256);
    assert.equal(verifyData(keys.publicKeyPem, receipt, signature), true);
  });

  it('fails verification for tampered data, a tampered signature and another key', async () => {
    const signature = signData(keys.privateKeyPem, receipt);
    const tamperedData = Buffer.from(receipt);
    tamperedData[2] ^= 0x01;
    assert.equal(verifyData(keys.publicKeyPem, tamperedData, signature), false);
    const tamperedSignature = Buffer.from(signature);
    tamperedSignature[10] ^= 0x80;
    assert.equal(verifyData(keys.publicKeyPem, receipt, tamperedSignature), false);
    const other = await generateKeyPair('RSA-2048');
    assert.equal(verifyData(other.publicKeyPem, receipt, signature), false);
  });

  it('interoperates with openssl dgst -sha512 both ways', () => {
    dir.write('ours.sig', signData(keys.privateKeyPem, receipt));
    assert.match(
      dir.opensslOk(['dgst', '-sha512', '-verify', 'pub.pem', '-signature', 'ours.sig', 'receipt.json']),
      /Verified OK/,
    );
    dir.opensslOk(['dgst', '-sha512', '-sign', 'key.pem', '-out', 'theirs.sig', 'receipt.json']);
    assert.equal(verifyData(keys.publicKeyPem, receipt, dir.read('theirs.sig')), true);
  });

  it('is deterministic (PKCS#1 v1.5) and verifyData accepts a certificate or private key PEM as the key', () => {
    assert.deepEqual(signData(keys.privateKeyPem, receipt), signData(keys.privateKeyPem, receipt));
    dir.opensslOk(['req', '-x509', '-key', 'key.pem', '-subj', '/CN=x', '-days', '1', '-out', 'cert.pem']);
    assert.equal(verifyData(dir.readText('cert.pem'), receipt, signData(keys.privateKeyPem, receipt)), true);
  });

  it('rejects non-RSA keys with KEY_INVALID and non-Buffer data with CONFIG_INVALID', async () => {
    const ec = await generateKeyPair('P-256');
    await assertPkiError(() => signData(ec.privateKeyPem, receipt), PkiErrorCode.KEY_INVALID, /EC \(P-256\)/);
    await assertPkiError(() => verifyData(ec.publicKeyPem, receipt, Buffer.alloc(64)), PkiErrorCode.KEY_INVALID);
    await assertPkiError(() => signData(keys.privateKeyPem, 'text' as unknown as Buffer), PkiErrorCode.CONFIG_INVALID);
    await assertPkiError(
      () => verifyData(keys.publicKeyPem, receipt, null as unknown as Buffer),
      PkiErrorCode.CONFIG_INVALID,
    );
    await assertPkiError(() => signData('garbage', receipt), PkiErrorCode.KEY_INVALID);
  });
});
