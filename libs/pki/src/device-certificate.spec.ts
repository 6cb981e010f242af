import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { issueAccountCertificate } from './account-certificate';
import { CertificateAuthority, createCertificateAuthority } from './ca';
import { parseCertificate, SignerPem } from './certificate';
import { issueDeviceCertificate } from './device-certificate';
import { keyId } from './ids';
import { generateKeyPair, KeyPairPem } from './keys';
import { assertPkiError, pemToDer, Workdir } from './openssl.test-helper';
import { PkiErrorCode } from './pki.errors';

const DAY_MS = 86_400_000;

describe('issueDeviceCertificate', () => {
  let dir: Workdir;
  let accountKey: KeyPairPem;
  let rsaCa: CertificateAuthority;
  let ecCa: CertificateAuthority;
  let rsaAccount: SignerPem;
  let ecAccount: SignerPem;
  let csrPem: string;
  let csrIds: { sha1: string; sha256: string };

  before(async () => {
    dir = new Workdir();
    [rsaCa, ecCa, accountKey] = await Promise.all([
      createCertificateAuthority({ commonName: 'Device Test RSA CA', organization: 'Acme', algorithm: 'RSA-2048' }),
      createCertificateAuthority({ commonName: 'Device Test EC CA', algorithm: 'P-256' }),
      generateKeyPair('RSA-2048'),
    ]);
    const [rsaAccountCert, ecAccountCert] = await Promise.all([
      issueAccountCertificate({ ca: rsaCa, username: 'alice', organization: 'Acme', accountKey }),
      issueAccountCertificate({ ca: ecCa, username: 'alice', accountKey }),
    ]);
    rsaAccount = { certificatePem: rsaAccountCert.certificatePem, privateKeyPem: accountKey.privateKeyPem };
    ecAccount = { certificatePem: ecAccountCert.certificatePem, privateKeyPem: accountKey.privateKeyPem };
    dir.write('rsa-ca.pem', rsaCa.certificatePem);
    dir.write('ec-ca.pem', ecCa.certificatePem);
    dir.write('rsa-account.pem', rsaAccount.certificatePem);
    dir.write('ec-account.pem', ecAccount.certificatePem);
    dir.write('account.key', accountKey.privateKeyPem);

    dir.opensslOk(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'device.key']);
    csrIds = dir.opensslKeyIds('device.key', 'privkey');
    dir.opensslOk([
      'req',
      '-new',
      '-key',
      'device.key',
      '-subj',
      `/CN=Jami device/UID=${csrIds.sha1}`,
      '-out',
      'device.csr',
    ]);
    csrPem = dir.readText('device.csr');
  });
  after(() => dir.remove());

  for (const kind of ['rsa', 'ec'] as const) {
    it(`chains CA → account → device under openssl verify (${kind === 'rsa' ? 'RSA' : 'P-256'} CA)`, async () => {
      const account = kind === 'rsa' ? rsaAccount : ecAccount;
      const device = await issueDeviceCertificate({ account, csrPem });
      dir.write(`${kind}-device.pem`, device.certificatePem);
      assert.match(
        dir.opensslOk([
          'verify',
          '-x509_strict',
          '-CAfile',
          `${kind}-ca.pem`,
          '-untrusted',
          `${kind}-account.pem`,
          `${kind}-device.pem`,
        ]),
        new RegExp(`${kind}-device.pem: OK`),
      );
      // The chain the server returns to Jami: device, account, CA.
      dir.write(`${kind}-chain.pem`, device.certificatePem + account.certificatePem);
      assert.match(
        dir.opensslOk(['verify', '-CAfile', `${kind}-ca.pem`, '-untrusted', `${kind}-chain.pem`, `${kind}-device.pem`]),
        /OK/,
      );
    });
  }

  it('certifies exactly the CSR key: openssl x509 -pubkey equals openssl req -pubkey, IDs equal openssl hashes', async () => {
    const device = await issueDeviceCertificate({ account: rsaAccount, csrPem });
    dir.write('device.pem', device.certificatePem);
    assert.equal(
      dir.opensslOk(['x509', '-in', 'device.pem', '-noout', '-pubkey']),
      dir.opensslOk(['req', '-in', 'device.csr', '-noout', '-pubkey']),
    );
    assert.equal(device.deviceId, csrIds.sha256);
    assert.equal(device.shortDeviceId, csrIds.sha1);
    assert.equal(device.publicKeyPem, dir.opensslOk(['req', '-in', 'device.csr', '-noout', '-pubkey']));
    assert.equal(keyId(device.certificatePem), csrIds.sha1);
  });

  it('has the device profile: subject copied from the CSR, CA:FALSE, digitalSignature|keyEncipherment, SHA-256 by the account', async () => {
    const device = await issueDeviceCertificate({ account: rsaAccount, csrPem });
    dir.write('profile.pem', device.certificatePem);
    const text = dir.opensslOk(['x509', '-in', 'profile.pem', '-noout', '-text']);
    assert.match(text, new RegExp(`Subject: CN = Jami device, UID = ${csrIds.sha1}\\n`));
    assert.match(text, new RegExp(`Issuer: CN = alice, UID = ${keyId(accountKey.publicKeyPem)}, O = Acme\\n`));
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.doesNotMatch(text, /CRL Distribution Points|Authority Information Access/);
    assert.equal(device.subject, `CN=Jami device, UID=${csrIds.sha1}`);
    assert.match(device.serialNumber, /^[0-9a-f]{32}$/);
    const subjectDer = parseCertificate(device.certificatePem, PkiErrorCode.INTERNAL_ERROR, 'device').subjectDer;
    const csrDer = pemToDer(csrPem);
    assert.ok(csrDer.includes(subjectDer), 'the subject Name bytes are those of the CSR');
    const akid = /Authority Key Identifier: \n\s+([0-9A-F:]+)/.exec(text)?.[1];
    const accountText = dir.opensslOk(['x509', '-in', 'rsa-account.pem', '-noout', '-text']);
    assert.equal(akid, /Subject Key Identifier: \n\s+([0-9A-F:]+)/.exec(accountText)?.[1]);
  });

  it('adds the CRL distribution point and AIA OCSP URL when given', async () => {
    const device = await issueDeviceCertificate({
      account: rsaAccount,
      csrPem,
      crlUrl: 'https://enclave.example/api/crl/alice',
      ocspUrl: 'http://enclave.example/api/ocsp',
    });
    dir.write('urls.pem', device.certificatePem);
    const text = dir.opensslOk(['x509', '-in', 'urls.pem', '-noout', '-text']);
    assert.match(text, /CRL Distribution Points: \n\s+Full Name:\n\s+URI:https:\/\/enclave.example\/api\/crl\/alice\n/);
    assert.match(text, /Authority Information Access: \n\s+OCSP - URI:http:\/\/enclave.example\/api\/ocsp\n/);
    assert.equal(
      dir.opensslOk(['x509', '-in', 'urls.pem', '-noout', '-ocsp_uri']).trim(),
      'http://enclave.example/api/ocsp',
    );
  });

  it('accepts the CSR with the gnutls "NEW CERTIFICATE REQUEST" header', async () => {
    const device = await issueDeviceCertificate({
      account: rsaAccount,
      csrPem: csrPem.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST'),
    });
    assert.equal(device.deviceId, csrIds.sha256);
  });

  it('uses validityDays (default 365) and never outlives the account certificate', async () => {
    const now = new Date();
    const byDefault = await issueDeviceCertificate({ account: rsaAccount, csrPem, now });
    assert.equal(byDefault.notAfter.getTime(), Math.floor((now.getTime() + 365 * DAY_MS) / 1000) * 1000);
    const short = await issueDeviceCertificate({ account: rsaAccount, csrPem, now, validityDays: 7 });
    assert.equal(short.notAfter.getTime(), Math.floor((now.getTime() + 7 * DAY_MS) / 1000) * 1000);

    const shortAccount = await issueAccountCertificate({ ca: rsaCa, username: 'brief', accountKey, validityDays: 2 });
    const clamped = await issueDeviceCertificate({
      account: { certificatePem: shortAccount.certificatePem, privateKeyPem: accountKey.privateKeyPem },
      csrPem,
      validityDays: 365,
    });
    assert.deepEqual(clamped.notAfter, shortAccount.notAfter);
    dir.write('clamped.pem', clamped.certificatePem);
    const opensslEnd = dir
      .opensslOk(['x509', '-in', 'clamped.pem', '-noout', '-enddate'])
      .trim()
      .replace('notAfter=', '');
    assert.equal(new Date(opensslEnd).getTime(), shortAccount.notAfter.getTime());
  });

  it('refuses a CSR for the account key itself with KEY_REUSED', async () => {
    dir.opensslOk(['req', '-new', '-key', 'account.key', '-subj', '/CN=Jami device', '-out', 'reuse.csr']);
    await assertPkiError(
      issueDeviceCertificate({ account: rsaAccount, csrPem: dir.readText('reuse.csr') }),
      PkiErrorCode.KEY_REUSED,
      /account key/,
    );
  });

  it('refuses a CSR whose key ID is in forbiddenKeyIds (case-insensitive) with KEY_REUSED', async () => {
    await assertPkiError(
      issueDeviceCertificate({
        account: rsaAccount,
        csrPem,
        forbiddenKeyIds: [keyId(rsaCa.certificatePem), csrIds.sha1.toUpperCase()],
      }),
      PkiErrorCode.KEY_REUSED,
      new RegExp(csrIds.sha1),
    );
    const ok = await issueDeviceCertificate({
      account: rsaAccount,
      csrPem,
      forbiddenKeyIds: [keyId(rsaCa.certificatePem)],
    });
    assert.equal(ok.shortDeviceId, csrIds.sha1);
  });

  it('runs the CSR checks (e.g. CSR_KEY_TOO_WEAK, CSR_SIGNATURE_INVALID)', async () => {
    dir.opensslOk([
      'req',
      '-new',
      '-newkey',
      'rsa:1024',
      '-nodes',
      '-keyout',
      'weak.key',
      '-subj',
      '/CN=Jami device',
      '-out',
      'weak.csr',
    ]);
    await assertPkiError(
      issueDeviceCertificate({ account: rsaAccount, csrPem: dir.readText('weak.csr') }),
      PkiErrorCode.CSR_KEY_TOO_WEAK,
      /1024-bit/,
    );
    await assertPkiError(issueDeviceCertificate({ account: rsaAccount, csrPem: 'garbage' }), PkiErrorCode.CSR_INVALID);
  });

  it('refuses an unusable account signer: wrong key, not a CA, expired', async () => {
    const otherKey = await generateKeyPair('RSA-2048');
    await assertPkiError(
      issueDeviceCertificate({
        account: { certificatePem: rsaAccount.certificatePem, privateKeyPem: otherKey.privateKeyPem },
        csrPem,
      }),
      PkiErrorCode.SIGNER_INVALID,
      /account private key does not match the account certificate/,
    );
    const device = await issueDeviceCertificate({ account: rsaAccount, csrPem });
    await assertPkiError(
      issueDeviceCertificate({
        account: { certificatePem: device.certificatePem, privateKeyPem: dir.readText('device.key') },
        csrPem,
      }),
      PkiErrorCode.SIGNER_INVALID,
      /account certificate is not a CA/,
    );
    await assertPkiError(
      issueDeviceCertificate({ account: rsaAccount, csrPem, now: new Date(Date.now() + 4000 * DAY_MS) }),
      PkiErrorCode.SIGNER_EXPIRED,
      /account certificate expired at/,
    );
  });
});
