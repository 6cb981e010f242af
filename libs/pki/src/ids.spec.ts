import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCertificateAuthority } from './ca';
import { ocspKeyHashes, keyId, longKeyId, ocspNameHashes } from './ids';
import { generateKeyPair, KeyPairPem } from './keys';
import { assertPkiError, Workdir } from './openssl.test-helper';
import { PkiErrorCode } from './pki.errors';
import { issueServerCertificate } from './server-certificate';

describe('keyId / longKeyId / ocspKeyHashes', () => {
  let dir: Workdir;
  let keys: KeyPairPem;
  let ca: Awaited<ReturnType<typeof createCertificateAuthority>>;
  let leafPem: string;

  before(async () => {
    dir = new Workdir();
    keys = await generateKeyPair('RSA-2048');
    ca = await createCertificateAuthority({ commonName: 'Ids Test CA', algorithm: 'RSA-2048' });
    leafPem = (await issueServerCertificate({ ca, hostnames: ['ids.example'] })).certificatePem;
    dir.write('pub.pem', keys.publicKeyPem);
    dir.write('key.pem', keys.privateKeyPem);
    dir.write('ca.pem', ca.certificatePem);
    dir.write('leaf.pem', leafPem);
  });
  after(() => dir.remove());

  it('equals SHA-1 / SHA-256 of the DER SPKI as computed by openssl (Jami ID and device ID)', () => {
    const expected = dir.opensslKeyIds('pub.pem', 'pubkey');
    assert.equal(keyId(keys.publicKeyPem), expected.sha1);
    assert.equal(longKeyId(keys.publicKeyPem), expected.sha256);
    assert.match(keyId(keys.publicKeyPem), /^[0-9a-f]{40}$/);
    assert.match(longKeyId(keys.publicKeyPem), /^[0-9a-f]{64}$/);
  });

  it('gives the same IDs for the private key, a PKCS#1 private key, a PKCS#1 public key and a certificate', () => {
    const pkcs1Private = dir.opensslOk(['pkey', '-in', 'key.pem', '-traditional']);
    assert.match(pkcs1Private, /BEGIN RSA PRIVATE KEY/);
    const pkcs1Public = dir.opensslOk(['rsa', '-in', 'key.pem', '-RSAPublicKey_out']);
    assert.match(pkcs1Public, /BEGIN RSA PUBLIC KEY/);
    for (const pem of [keys.privateKeyPem, pkcs1Private, pkcs1Public]) {
      assert.equal(keyId(pem), keyId(keys.publicKeyPem));
      assert.equal(longKeyId(pem), longKeyId(keys.publicKeyPem));
    }
    const caIds = dir.opensslKeyIds('ca.pem', 'cert');
    assert.equal(keyId(ca.certificatePem), caIds.sha1);
    assert.equal(longKeyId(ca.certificatePem), caIds.sha256);
    assert.equal(keyId(ca.privateKeyPem), caIds.sha1);
  });

  it('ocspKeyHashes and ocspNameHashes match the CertID openssl builds for a certificate the CA issued', () => {
    for (const digest of ['sha1', 'sha256'] as const) {
      dir.opensslOk([
        'ocsp',
        '-issuer',
        'ca.pem',
        `-${digest}`,
        '-cert',
        'leaf.pem',
        '-no_nonce',
        '-reqout',
        `req-${digest}.der`,
      ]);
      const text = dir.opensslOk(['ocsp', '-reqin', `req-${digest}.der`, '-req_text']);
      const keyHash = /Issuer Key Hash: ([0-9A-F]+)/.exec(text)?.[1]?.toLowerCase();
      const nameHash = /Issuer Name Hash: ([0-9A-F]+)/.exec(text)?.[1]?.toLowerCase();
      assert.equal(ocspKeyHashes(ca.certificatePem)[digest], keyHash);
      assert.equal(ocspNameHashes(ca.certificatePem)[digest], nameHash);
    }
    assert.notEqual(
      ocspKeyHashes(ca.certificatePem).sha1,
      keyId(ca.certificatePem),
      'key hash is over the BIT STRING, not the SPKI',
    );
  });

  it('rejects input that is not a PEM key or certificate with KEY_INVALID', async () => {
    await assertPkiError(() => keyId('not a key'), PkiErrorCode.KEY_INVALID, /is not PEM/);
    await assertPkiError(() => longKeyId(42 as unknown as string), PkiErrorCode.KEY_INVALID, /must be a PEM string/);
    await assertPkiError(
      () => keyId('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'),
      PkiErrorCode.KEY_INVALID,
      /could not be parsed/,
    );
    await assertPkiError(
      () => ocspKeyHashes('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----'),
      PkiErrorCode.KEY_INVALID,
      /PEM label "X509 CRL"/,
    );
    await assertPkiError(() => ocspNameHashes(keys.publicKeyPem), PkiErrorCode.KEY_INVALID, /PEM label "PUBLIC KEY"/);
  });
});
