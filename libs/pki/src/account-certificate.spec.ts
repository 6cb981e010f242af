import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { issueAccountCertificate } from './account-certificate';
import { CertificateAuthority, createCertificateAuthority } from './ca';
import { generateKeyPair, KeyPairPem } from './keys';
import { assertPkiError, Workdir } from './openssl.test-helper';
import { PkiErrorCode } from './pki.errors';

const DAY_MS = 86_400_000;

describe('issueAccountCertificate', () => {
  let dir: Workdir;
  let rsaCa: CertificateAuthority;
  let ecCa: CertificateAuthority;
  let accountKey: KeyPairPem;
  let opensslIds: { sha1: string; sha256: string };

  before(async () => {
    dir = new Workdir();
    [rsaCa, ecCa, accountKey] = await Promise.all([
      createCertificateAuthority({ commonName: 'Account Test CA', organization: 'Acme', algorithm: 'RSA-2048' }),
      createCertificateAuthority({ commonName: 'Account Test EC CA', algorithm: 'P-256' }),
      generateKeyPair('RSA-2048'),
    ]);
    dir.write('rsa-ca.pem', rsaCa.certificatePem);
    dir.write('ec-ca.pem', ecCa.certificatePem);
    dir.write('account.pub', accountKey.publicKeyPem);
    opensslIds = dir.opensslKeyIds('account.pub', 'pubkey');
  });
  after(() => dir.remove());

  it('has CN=username, UID=Jami ID (SHA-1 of the SPKI, per openssl), O=organization', async () => {
    const account = await issueAccountCertificate({ ca: rsaCa, username: 'alice', organization: 'Acme', accountKey });
    assert.equal(account.jamiId, opensslIds.sha1);
    assert.equal(account.subject, `CN=alice, UID=${opensslIds.sha1}, O=Acme`);
    assert.equal(account.issuer, 'CN=Account Test CA, O=Acme');
    dir.write('subject.pem', account.certificatePem);
    const text = dir.opensslOk(['x509', '-in', 'subject.pem', '-noout', '-text']);
    assert.match(text, new RegExp(`Subject: CN = alice, UID = ${opensslIds.sha1}, O = Acme\\n`));
  });

  it('is a CA for devices: critical CA:TRUE (pathlen 0), critical keyCertSign|cRLSign|digitalSignature, SKI/AKI, SHA-256', async () => {
    const account = await issueAccountCertificate({ ca: rsaCa, username: 'alice', accountKey });
    dir.write('profile.pem', account.certificatePem);
    const text = dir.opensslOk(['x509', '-in', 'profile.pem', '-noout', '-text']);
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0\n/);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature, Certificate Sign, CRL Sign\n/);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /Subject Key Identifier: \n\s+[0-9A-F:]{59}\n/);
    const caText = dir.opensslOk(['x509', '-in', 'rsa-ca.pem', '-noout', '-text']);
    const caSki = /Subject Key Identifier: \n\s+([0-9A-F:]+)/.exec(caText)?.[1];
    assert.equal(/Authority Key Identifier: \n\s+([0-9A-F:]+)/.exec(text)?.[1], caSki);
    assert.match(
      text,
      new RegExp(`Subject: CN = alice, UID = ${opensslIds.sha1}\\n`),
      'no O attribute when no organization is given',
    );
    assert.doesNotMatch(text, /CRL Distribution Points|Authority Information Access/);
    assert.match(dir.opensslOk(['verify', '-x509_strict', '-CAfile', 'rsa-ca.pem', 'profile.pem']), /profile.pem: OK/);
    dir.write('account.pem', account.certificatePem);
    assert.equal(dir.opensslOk(['x509', '-in', 'account.pem', '-noout', '-pubkey']), accountKey.publicKeyPem);
  });

  it('is signed ecdsa-with-SHA256 by a P-256 CA and verifies', async () => {
    const account = await issueAccountCertificate({ ca: ecCa, username: 'carol', accountKey });
    dir.write('ec-account.pem', account.certificatePem);
    assert.match(
      dir.opensslOk(['x509', '-in', 'ec-account.pem', '-noout', '-text']),
      /Signature Algorithm: ecdsa-with-SHA256/,
    );
    assert.match(dir.opensslOk(['verify', '-x509_strict', '-CAfile', 'ec-ca.pem', 'ec-account.pem']), /OK/);
  });

  it('adds the CRL distribution point and AIA OCSP URL when given', async () => {
    const account = await issueAccountCertificate({
      ca: rsaCa,
      username: 'alice',
      accountKey,
      crlUrl: 'http://enclave.example/crl/ca.crl',
      ocspUrl: 'https://enclave.example/ocsp',
    });
    dir.write('urls.pem', account.certificatePem);
    const text = dir.opensslOk(['x509', '-in', 'urls.pem', '-noout', '-text']);
    assert.match(text, /URI:http:\/\/enclave.example\/crl\/ca.crl\n/);
    assert.match(text, /OCSP - URI:https:\/\/enclave.example\/ocsp\n/);
  });

  it('uses validityDays (default 3650) clamped to the CA notAfter', async () => {
    const now = new Date();
    const oneYear = await issueAccountCertificate({ ca: rsaCa, username: 'alice', accountKey, validityDays: 365, now });
    assert.equal(oneYear.notAfter.getTime(), Math.floor((now.getTime() + 365 * DAY_MS) / 1000) * 1000);
    const byDefault = await issueAccountCertificate({ ca: rsaCa, username: 'alice', accountKey, now });
    assert.deepEqual(
      byDefault.notAfter,
      rsaCa.notAfter,
      'CA created a moment earlier with 3650 days bounds the account',
    );
    const shortCa = await createCertificateAuthority({ commonName: 'Short CA', algorithm: 'P-256', validityDays: 30 });
    const clamped = await issueAccountCertificate({ ca: shortCa, username: 'alice', accountKey });
    assert.deepEqual(clamped.notAfter, shortCa.notAfter);
    assert.ok(clamped.notBefore.getTime() >= shortCa.notBefore.getTime());
  });

  it('rejects a non-RSA, a 1024-bit, a mismatched or an unparseable account key with ACCOUNT_KEY_INVALID', async () => {
    const ec = await generateKeyPair('P-256');
    await assertPkiError(
      issueAccountCertificate({ ca: rsaCa, username: 'alice', accountKey: ec }),
      PkiErrorCode.ACCOUNT_KEY_INVALID,
      /EC \(P-256\); Jami account keys must be RSA/,
    );
    const small = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    await assertPkiError(
      issueAccountCertificate({
        ca: rsaCa,
        username: 'alice',
        accountKey: { publicKeyPem: small.publicKey, privateKeyPem: small.privateKey },
      }),
      PkiErrorCode.ACCOUNT_KEY_INVALID,
      /account key is 1024-bit RSA; at least 2048 bits are required/,
    );
    await assertPkiError(
      issueAccountCertificate({
        ca: rsaCa,
        username: 'alice',
        accountKey: { publicKeyPem: accountKey.publicKeyPem, privateKeyPem: small.privateKey },
      }),
      PkiErrorCode.ACCOUNT_KEY_INVALID,
      /does not match/,
    );
    await assertPkiError(
      issueAccountCertificate({
        ca: rsaCa,
        username: 'alice',
        accountKey: {
          publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
          privateKeyPem: accountKey.privateKeyPem,
        },
      }),
      PkiErrorCode.ACCOUNT_KEY_INVALID,
      /account public key could not be parsed/,
    );
  });

  it('rejects the CA key as account key with KEY_REUSED', async () => {
    const caKeys = { publicKeyPem: rsaCa.certificatePem, privateKeyPem: rsaCa.privateKeyPem };
    await assertPkiError(
      issueAccountCertificate({ ca: rsaCa, username: 'alice', accountKey: caKeys }),
      PkiErrorCode.KEY_REUSED,
      /CA key/,
    );
  });

  it('refuses an unusable CA signer with SIGNER_INVALID / SIGNER_EXPIRED', async () => {
    await assertPkiError(
      issueAccountCertificate({
        ca: { certificatePem: rsaCa.certificatePem, privateKeyPem: ecCa.privateKeyPem },
        username: 'alice',
        accountKey,
      }),
      PkiErrorCode.SIGNER_INVALID,
      /CA private key does not match the CA certificate/,
    );
    await assertPkiError(
      issueAccountCertificate({
        ca: rsaCa,
        username: 'alice',
        accountKey,
        now: new Date(rsaCa.notAfter.getTime() + 1000),
      }),
      PkiErrorCode.SIGNER_EXPIRED,
    );
    await assertPkiError(
      issueAccountCertificate({
        ca: rsaCa,
        username: 'alice',
        accountKey,
        now: new Date(rsaCa.notBefore.getTime() - 1000),
      }),
      PkiErrorCode.SIGNER_NOT_YET_VALID,
    );
  });
});
