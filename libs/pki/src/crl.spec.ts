import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { issueAccountCertificate } from './account-certificate';
import { CertificateAuthority, createCertificateAuthority } from './ca';
import { SignerPem } from './certificate';
import { createCrl } from './crl';
import { issueDeviceCertificate } from './device-certificate';
import { generateKeyPair } from './keys';
import { assertPkiError, pemToDer, Workdir } from './openssl.test-helper';
import { PkiErrorCode } from './pki.errors';

describe('createCrl', () => {
  let dir: Workdir;
  let ca: CertificateAuthority;
  let ecCa: CertificateAuthority;
  let account: SignerPem & { serialNumber: string };
  let deviceSerials: string[];
  const thisUpdate = new Date(Date.now() - 60_000);
  const nextUpdate = new Date(Date.now() + 3_600_000);

  before(async () => {
    dir = new Workdir();
    const accountKey = await generateKeyPair('RSA-2048');
    [ca, ecCa] = await Promise.all([
      createCertificateAuthority({ commonName: 'CRL Test CA', algorithm: 'RSA-2048' }),
      createCertificateAuthority({ commonName: 'CRL Test EC CA', algorithm: 'P-256' }),
    ]);
    const accountCert = await issueAccountCertificate({ ca, username: 'alice', accountKey });
    account = {
      certificatePem: accountCert.certificatePem,
      privateKeyPem: accountKey.privateKeyPem,
      serialNumber: accountCert.serialNumber,
    };
    dir.opensslOk([
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'device.key',
      '-subj',
      '/CN=Jami device',
      '-out',
      'device.csr',
    ]);
    const csrPem = dir.readText('device.csr');
    const devices = [
      await issueDeviceCertificate({ account, csrPem }),
      await issueDeviceCertificate({ account, csrPem }),
    ];
    deviceSerials = devices.map((device) => device.serialNumber);
    dir.write('ca.pem', ca.certificatePem);
    dir.write('ec-ca.pem', ecCa.certificatePem);
    dir.write('account.pem', account.certificatePem);
    dir.write('revoked-device.pem', devices[0].certificatePem);
    dir.write('good-device.pem', devices[1].certificatePem);
  });
  after(() => dir.remove());

  it('makes a v2 CRL signed by the CA that openssl verifies and lists with its number, reason and AKI', async () => {
    const { crlPem, crlDer } = await createCrl({
      issuer: ca,
      crlNumber: 42,
      entries: [{ serialNumber: account.serialNumber, revocationDate: thisUpdate, reason: 'keyCompromise' }],
      thisUpdate,
      nextUpdate,
    });
    assert.match(crlPem, /^-----BEGIN X509 CRL-----\n/);
    assert.deepEqual(pemToDer(crlPem), crlDer);
    dir.write('ca.crl', crlPem);
    const verify = dir.openssl(['crl', '-in', 'ca.crl', '-CAfile', 'ca.pem', '-noout', '-verify']);
    assert.equal(verify.status, 0, verify.output);
    assert.match(verify.output, /verify OK/);
    const text = dir.opensslOk(['crl', '-in', 'ca.crl', '-noout', '-text']);
    assert.match(text, /Version 2 \(0x1\)/);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /Issuer: CN = CRL Test CA\n/);
    assert.match(text, /X509v3 CRL Number: \n\s+42\n/);
    assert.match(text, new RegExp(`Serial Number: ${account.serialNumber.toUpperCase()}\\n`));
    assert.match(text, /X509v3 CRL Reason Code: \n\s+Key Compromise\n/);
    const caText = dir.opensslOk(['x509', '-in', 'ca.pem', '-noout', '-text']);
    const caSki = /Subject Key Identifier: \n\s+([0-9A-F:]+)/.exec(caText)?.[1];
    assert.equal(/Authority Key Identifier: \n\s+([0-9A-F:]+)/.exec(text)?.[1], caSki);
    const dates = dir.opensslOk(['crl', '-in', 'ca.crl', '-noout', '-lastupdate', '-nextupdate']);
    assert.equal(
      new Date(/lastUpdate=(.*)/.exec(dates)?.[1] ?? '').getTime(),
      Math.floor(thisUpdate.getTime() / 1000) * 1000,
    );
    assert.equal(
      new Date(/nextUpdate=(.*)/.exec(dates)?.[1] ?? '').getTime(),
      Math.floor(nextUpdate.getTime() / 1000) * 1000,
    );
  });

  it('makes an account-issued CRL that revokes a device for openssl verify -crl_check', async () => {
    const { crlPem } = await createCrl({
      issuer: account,
      crlNumber: 1n,
      entries: [{ serialNumber: deviceSerials[0], revocationDate: thisUpdate }],
      nextUpdate,
    });
    dir.write('account.crl', crlPem);
    const verify = dir.openssl(['crl', '-in', 'account.crl', '-CAfile', 'account.pem', '-noout', '-verify']);
    assert.match(verify.output, /verify OK/);
    const chainArgs = [
      'verify',
      '-crl_check',
      '-CAfile',
      'ca.pem',
      '-untrusted',
      'account.pem',
      '-CRLfile',
      'account.crl',
    ];
    const revoked = dir.openssl([...chainArgs, 'revoked-device.pem']);
    assert.notEqual(revoked.status, 0);
    assert.match(revoked.output, /certificate revoked/);
    assert.match(dir.opensslOk([...chainArgs, 'good-device.pem']), /good-device.pem: OK/);
    assert.doesNotMatch(
      dir.opensslOk(['crl', '-in', 'account.crl', '-noout', '-text']),
      /Reason Code/,
      'no reason given, no reasonCode',
    );
  });

  it('makes an empty CRL without a revokedCertificates list, signed ECDSA by a P-256 CA', async () => {
    const { crlPem } = await createCrl({ issuer: ecCa, crlNumber: 0, entries: [], nextUpdate });
    dir.write('ec.crl', crlPem);
    assert.match(
      dir.openssl(['crl', '-in', 'ec.crl', '-CAfile', 'ec-ca.pem', '-noout', '-verify']).output,
      /verify OK/,
    );
    const text = dir.opensslOk(['crl', '-in', 'ec.crl', '-noout', '-text']);
    assert.match(text, /No Revoked Certificates\./);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /X509v3 CRL Number: \n\s+0\n/);
  });

  it('encodes serials with the high bit set as positive, normalizes case and leading zeros, writes every reason', async () => {
    const reasons = [
      'unspecified',
      'caCompromise',
      'affiliationChanged',
      'superseded',
      'cessationOfOperation',
      'certificateHold',
      'privilegeWithdrawn',
    ] as const;
    const { crlPem } = await createCrl({
      issuer: ca,
      crlNumber: 2n ** 100n,
      entries: [
        { serialNumber: 'FF01', revocationDate: thisUpdate },
        { serialNumber: '000aBc', revocationDate: thisUpdate },
        ...reasons.map((reason, index) => ({
          serialNumber: (index + 16).toString(16),
          revocationDate: thisUpdate,
          reason,
        })),
      ],
      nextUpdate,
    });
    dir.write('serials.crl', crlPem);
    assert.match(
      dir.openssl(['crl', '-in', 'serials.crl', '-CAfile', 'ca.pem', '-noout', '-verify']).output,
      /verify OK/,
    );
    const text = dir.opensslOk(['crl', '-in', 'serials.crl', '-noout', '-text']);
    assert.match(text, /Serial Number: FF01\n/);
    assert.match(text, /Serial Number: 0ABC\n/);
    assert.match(text, new RegExp(`X509v3 CRL Number: \\n\\s+${(2n ** 100n).toString()}\\n`));
    for (const label of [
      'CA Compromise',
      'Affiliation Changed',
      'Superseded',
      'Cessation Of Operation',
      'Certificate Hold',
      'Privilege Withdrawn',
    ]) {
      assert.match(text, new RegExp(`CRL Reason Code: \\n\\s+${label}\\n`));
    }
    assert.equal((text.match(/CRL Reason Code/g) ?? []).length, 6, "'unspecified' writes no reasonCode");
  });

  it('refuses a signer whose key does not match, or that is not a CA', async () => {
    await assertPkiError(
      createCrl({
        issuer: { certificatePem: ca.certificatePem, privateKeyPem: account.privateKeyPem },
        crlNumber: 1,
        entries: [],
        nextUpdate,
      }),
      PkiErrorCode.SIGNER_INVALID,
      /CRL issuer private key does not match/,
    );
    await assertPkiError(
      createCrl({
        issuer: { certificatePem: dir.readText('good-device.pem'), privateKeyPem: dir.readText('device.key') },
        crlNumber: 1,
        entries: [],
        nextUpdate,
      }),
      PkiErrorCode.SIGNER_INVALID,
      /CRL issuer certificate is not a CA/,
    );
  });
});
