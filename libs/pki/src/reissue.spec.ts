import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { issueAccountCertificate } from './account-certificate';
import { CertificateAuthority, createCertificateAuthority } from './ca';
import { parseCertificate, SignerPem } from './certificate';
import { issueDeviceCertificate } from './device-certificate';
import { generateKeyPair, KeyPairPem } from './keys';
import { assertPkiError, Workdir } from './openssl.test-helper';
import { PkiErrorCode } from './pki.errors';
import { reissueCertificate } from './reissue';

const DAY_MS = 86_400_000;
/** openssl -attime takes seconds since the epoch. */
const at = (date: Date) => String(Math.floor(date.getTime() / 1000));

describe('reissueCertificate', () => {
  let dir: Workdir;
  let oldCa: CertificateAuthority;
  let newCa: CertificateAuthority;
  let accountKey: KeyPairPem;
  let account: SignerPem;
  let devicePem: string;

  before(async () => {
    dir = new Workdir();
    [oldCa, newCa, accountKey] = await Promise.all([
      createCertificateAuthority({ commonName: 'Acme CA', organization: 'Acme', algorithm: 'P-256' }),
      createCertificateAuthority({ commonName: 'Acme CA 2', organization: 'Acme', algorithm: 'RSA-2048' }),
      generateKeyPair('RSA-2048'),
    ]);
    const accountCert = await issueAccountCertificate({
      ca: oldCa,
      username: 'alice',
      organization: 'Acme',
      accountKey,
      validityDays: 30,
      crlUrl: 'https://enclave.example/api/crl/old',
      ocspUrl: 'https://enclave.example/api/ocsp',
    });
    account = { certificatePem: accountCert.certificatePem, privateKeyPem: accountKey.privateKeyPem };
    dir.opensslOk(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'device.key']);
    dir.opensslOk(['req', '-new', '-key', 'device.key', '-subj', '/CN=Jami device', '-out', 'device.csr']);
    devicePem = (await issueDeviceCertificate({ account, csrPem: dir.readText('device.csr'), validityDays: 10 }))
      .certificatePem;
    dir.write('old-root.pem', oldCa.certificatePem);
    dir.write('new-root.pem', newCa.certificatePem);
    dir.write('account.pem', account.certificatePem);
    dir.write('device.pem', devicePem);
  });
  after(() => dir.remove());

  it('renews with the same key, subject and extensions, a new serial and a new validity', async () => {
    const renewed = await reissueCertificate({ certificatePem: devicePem, issuer: account, validityDays: 365 });
    const before = parseCertificate(devicePem, PkiErrorCode.CONFIG_INVALID, 'old');
    const after = parseCertificate(renewed.certificatePem, PkiErrorCode.CONFIG_INVALID, 'new');
    assert.notEqual(after.serialNumber, before.serialNumber);
    assert.ok(after.subjectDer.equals(before.subjectDer));
    assert.ok(after.spkiDer.equals(before.spkiDer));
    assert.ok(after.issuerDer.equals(before.issuerDer));
    assert.deepEqual(
      after.asn.tbsCertificate.extensions?.map((e) => e.extnID).sort(),
      before.asn.tbsCertificate.extensions?.map((e) => e.extnID).sort(),
    );
    // Clamped into the account certificate's validity (30 days), not 365.
    assert.ok(after.notAfter.getTime() <= Date.now() + 30 * DAY_MS);
    assert.ok(after.notAfter.getTime() > before.notAfter.getTime());
    dir.write('device-renewed.pem', renewed.certificatePem);
    dir.opensslOk(['verify', '-CAfile', 'old-root.pem', '-untrusted', 'account.pem', 'device-renewed.pem']);
  });

  it('moves an account certificate to a new CA with its CRL pointer, and device certificates still chain', async () => {
    const moved = await reissueCertificate({
      certificatePem: account.certificatePem,
      issuer: newCa,
      validityDays: 365,
      crlUrl: 'https://enclave.example/api/crl/new',
    });
    dir.write('account-new.pem', moved.certificatePem);
    assert.equal(moved.issuer, newCa.subject);
    const text = dir.opensslOk(['x509', '-in', 'account-new.pem', '-noout', '-text']);
    assert.match(text, /api\/crl\/new/);
    assert.doesNotMatch(text, /api\/crl\/old/);
    assert.match(text, /OCSP - URI:https:\/\/enclave\.example\/api\/ocsp/);
    assert.match(text, /CA:TRUE, pathlen:0/);
    // The device certificate issued under the old account certificate chains through the new one.
    dir.opensslOk(['verify', '-CAfile', 'new-root.pem', '-untrusted', 'account-new.pem', 'device.pem']);
  });

  it('cross-signs two CAs so chains to either root verify during the overlap, and not after it', async () => {
    const overlapEnd = new Date(Date.now() + 20 * DAY_MS);
    const newByOld = await reissueCertificate({
      certificatePem: newCa.certificatePem,
      issuer: oldCa,
      notAfter: overlapEnd,
    });
    const oldByNew = await reissueCertificate({
      certificatePem: oldCa.certificatePem,
      issuer: newCa,
      notAfter: overlapEnd,
    });
    assert.equal(newByOld.subject, newCa.subject);
    assert.equal(newByOld.issuer, oldCa.subject);
    assert.equal(newByOld.notAfter.getTime(), Math.floor(overlapEnd.getTime() / 1000) * 1000);
    dir.write('new-by-old.pem', newByOld.certificatePem);
    dir.write('old-by-new.pem', oldByNew.certificatePem);
    dir.write('pre-untrusted.pem', account.certificatePem + oldByNew.certificatePem);
    const movedAccount = await reissueCertificate({ certificatePem: account.certificatePem, issuer: newCa });
    dir.write('post-untrusted.pem', movedAccount.certificatePem + newByOld.certificatePem);
    dir.write('post-account.pem', movedAccount.certificatePem);

    // Issued before the rotation: verifies against the old root, and against the new root through old-by-new.
    dir.opensslOk(['verify', '-CAfile', 'old-root.pem', '-untrusted', 'account.pem', 'device.pem']);
    dir.opensslOk(['verify', '-CAfile', 'new-root.pem', '-untrusted', 'pre-untrusted.pem', 'device.pem']);
    // Issued after: verifies against the new root, and the old root through new-by-old.
    dir.opensslOk(['verify', '-CAfile', 'new-root.pem', '-untrusted', 'post-account.pem', 'device.pem']);
    dir.opensslOk(['verify', '-CAfile', 'old-root.pem', '-untrusted', 'post-untrusted.pem', 'device.pem']);

    // After the overlap the cross certificates have expired: only the new root's own chain is left.
    const later = at(new Date(overlapEnd.getTime() + DAY_MS));
    const crossed = dir.openssl([
      'verify',
      '-attime',
      later,
      '-CAfile',
      'old-root.pem',
      '-untrusted',
      'post-untrusted.pem',
      'post-account.pem',
    ]);
    assert.notEqual(crossed.status, 0, crossed.output);
    assert.match(crossed.output, /expired/);
    dir.opensslOk(['verify', '-attime', later, '-CAfile', 'new-root.pem', 'post-account.pem']);
  });

  it('refuses an issuer that is not a CA and bad options, naming them', async () => {
    await assertPkiError(
      reissueCertificate({
        certificatePem: devicePem,
        issuer: { certificatePem: devicePem, privateKeyPem: accountKey.privateKeyPem },
      }),
      PkiErrorCode.SIGNER_INVALID,
    );
    await assertPkiError(
      reissueCertificate({ certificatePem: 'nope', issuer: account, validityDays: 0 }),
      PkiErrorCode.CONFIG_INVALID,
      /certificatePem must be a PEM string/,
    );
  });
});
