import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { issueAccountCertificate } from './account-certificate';
import { CertificateAuthority, createCertificateAuthority, importCertificateAuthority } from './ca';
import { parseCertificate } from './certificate';
import { CLOCK_SKEW_ALLOWANCE_MS } from './issuance';
import { generateKeyPair, KeyPairPem } from './keys';
import { assertPkiError, Workdir } from './openssl.test-helper';
import { PkiErrorCode } from './pki.errors';

const DAY_MS = 86_400_000;

describe('createCertificateAuthority', () => {
  let dir: Workdir;
  let rsaCa: CertificateAuthority;
  let ecCa: CertificateAuthority;
  const now = new Date('2031-05-06T07:08:09.456Z');

  before(async () => {
    dir = new Workdir();
    rsaCa = await createCertificateAuthority({
      commonName: 'Acme Root CA',
      organization: 'Acme Corp',
      algorithm: 'RSA-2048',
      now,
    });
    ecCa = await createCertificateAuthority({ commonName: 'Acme EC Root', algorithm: 'P-256' });
    dir.write('rsa-ca.pem', rsaCa.certificatePem);
    dir.write('ec-ca.pem', ecCa.certificatePem);
  });
  after(() => dir.remove());

  it('makes a self-signed RSA root with critical CA:TRUE and keyCertSign|cRLSign, SKI = AKI, SHA-256', () => {
    const text = dir.opensslOk(['x509', '-in', 'rsa-ca.pem', '-noout', '-text']);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /Subject: CN = Acme Root CA, O = Acme Corp\n/);
    assert.match(text, /Issuer: CN = Acme Root CA, O = Acme Corp\n/);
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    const ski = /Subject Key Identifier: \n\s+([0-9A-F:]+)/.exec(text)?.[1];
    const aki = /Authority Key Identifier: \n\s+([0-9A-F:]+)/.exec(text)?.[1];
    assert.ok(ski && ski.length === 59, `SKI ${ski}`);
    assert.equal(aki, ski);
    const at = String(Math.floor(now.getTime() / 1000) + 60);
    assert.match(dir.opensslOk(['verify', '-attime', at, '-CAfile', 'rsa-ca.pem', 'rsa-ca.pem']), /rsa-ca.pem: OK/);
  });

  it('makes a P-256 root signed with ecdsa-with-SHA256', () => {
    const text = dir.opensslOk(['x509', '-in', 'ec-ca.pem', '-noout', '-text']);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /ASN1 OID: prime256v1/);
    assert.match(text, /Subject: CN = Acme EC Root\n/);
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
    assert.match(dir.opensslOk(['verify', '-CAfile', 'ec-ca.pem', 'ec-ca.pem']), /OK/);
  });

  it('uses a random positive 16-byte serial reported as lowercase hex', () => {
    for (const ca of [rsaCa, ecCa]) {
      assert.match(ca.serialNumber, /^[1-7][0-9a-f]{31}$|^0[1-9a-f][0-9a-f]{30}$/);
    }
    assert.notEqual(rsaCa.serialNumber, ecCa.serialNumber);
    const opensslSerial = dir.opensslOk(['x509', '-in', 'rsa-ca.pem', '-noout', '-serial']).trim();
    assert.equal(opensslSerial, `serial=${rsaCa.serialNumber.toUpperCase()}`);
  });

  it('is valid from now minus the clock-skew allowance for validityDays (default 3650), in whole seconds', () => {
    const start = Math.floor(now.getTime() / 1000) * 1000;
    assert.equal(rsaCa.notBefore.getTime(), Math.floor((now.getTime() - CLOCK_SKEW_ALLOWANCE_MS) / 1000) * 1000);
    assert.equal(rsaCa.notAfter.getTime(), start + 3650 * DAY_MS);
    const dates = dir.opensslOk(['x509', '-in', 'rsa-ca.pem', '-noout', '-startdate', '-enddate']);
    assert.match(dates, /notBefore=May {2}6 07:03:09 2031 GMT/);
    assert.match(dates, /notAfter=May {2}3 07:08:09 2041 GMT/);
  });

  it('returns the certificate info and an unencrypted PKCS#8 key that matches it', () => {
    assert.equal(rsaCa.subject, 'CN=Acme Root CA, O=Acme Corp');
    assert.equal(rsaCa.issuer, rsaCa.subject);
    assert.match(rsaCa.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    dir.write('rsa-ca.key', rsaCa.privateKeyPem);
    assert.equal(
      dir.opensslOk(['pkey', '-in', 'rsa-ca.key', '-pubout']),
      dir.opensslOk(['x509', '-in', 'rsa-ca.pem', '-noout', '-pubkey']),
    );
  });

  it('defaults to an RSA-4096 key', async () => {
    const ca = await createCertificateAuthority({ commonName: 'Big Root', validityDays: 1 });
    dir.write('big.pem', ca.certificatePem);
    assert.match(dir.opensslOk(['x509', '-in', 'big.pem', '-noout', '-text']), /Public-Key: \(4096 bit\)/);
  });
});

describe('importCertificateAuthority', () => {
  let dir: Workdir;
  let rsaCa: CertificateAuthority;
  let ecCa: CertificateAuthority;
  let otherKey: KeyPairPem;

  before(async () => {
    dir = new Workdir();
    rsaCa = await createCertificateAuthority({ commonName: 'Import RSA', algorithm: 'RSA-2048' });
    ecCa = await createCertificateAuthority({ commonName: 'Import EC', algorithm: 'P-256' });
    otherKey = await generateKeyPair('RSA-2048');
    dir.write('rsa-ca.key', rsaCa.privateKeyPem);
    dir.write('ec-ca.key', ecCa.privateKeyPem);
  });
  after(() => dir.remove());

  /** Self-signed certificate made by openssl req -x509 with the given extensions. */
  function opensslSelfSigned(
    name: string,
    newkey: string,
    subject: string,
    extensions: string[],
  ): { certificatePem: string; privateKeyPem: string } {
    dir.opensslOk([
      'req',
      '-x509',
      '-newkey',
      newkey,
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-subj',
      subject,
      '-days',
      '30',
      '-utf8',
      ...extensions.flatMap((extension) => ['-addext', extension]),
    ]);
    return { certificatePem: dir.readText(`${name}.pem`), privateKeyPem: dir.readText(`${name}.key`) };
  }

  it('accepts a CA made by createCertificateAuthority and returns the same certificate and info', async () => {
    const imported = await importCertificateAuthority({
      certificatePem: rsaCa.certificatePem,
      privateKeyPem: rsaCa.privateKeyPem,
    });
    assert.equal(imported.certificatePem, rsaCa.certificatePem);
    assert.equal(imported.privateKeyPem, rsaCa.privateKeyPem);
    assert.equal(imported.serialNumber, rsaCa.serialNumber);
    assert.equal(imported.subject, 'CN=Import RSA');
    assert.deepEqual(imported.notAfter, rsaCa.notAfter);
    assert.equal(imported.algorithm, 'RSA-2048');
    const ec = await importCertificateAuthority({
      certificatePem: ecCa.certificatePem,
      privateKeyPem: ecCa.privateKeyPem,
    });
    assert.equal(ec.algorithm, 'P-256');
  });

  it('converts PKCS#1 "RSA PRIVATE KEY" and SEC1 "EC PRIVATE KEY" keys to PKCS#8', async () => {
    const pkcs1 = dir.opensslOk(['pkey', '-in', 'rsa-ca.key', '-traditional']);
    assert.match(pkcs1, /^-----BEGIN RSA PRIVATE KEY-----/);
    const fromPkcs1 = await importCertificateAuthority({ certificatePem: rsaCa.certificatePem, privateKeyPem: pkcs1 });
    assert.equal(fromPkcs1.privateKeyPem, rsaCa.privateKeyPem);

    const sec1 = dir.opensslOk(['ec', '-in', 'ec-ca.key']);
    assert.match(sec1, /^-----BEGIN EC PRIVATE KEY-----/);
    const fromSec1 = await importCertificateAuthority({
      certificatePem: ecCa.certificatePem,
      privateKeyPem: sec1.replace(/\n/g, '\r\n'),
    });
    assert.match(fromSec1.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(fromSec1.privateKeyPem, ecCa.privateKeyPem);
  });

  it('accepts an openssl-made CA with UTF-8 names and issues certificates whose issuer is its exact subject', async () => {
    const ca = opensslSelfSigned('utf8', 'rsa:2048', '/C=FR/O=Société Générale/CN=Racine Ünïcode', [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    const imported = await importCertificateAuthority(ca);
    assert.equal(imported.subject, 'C=FR, O=Société Générale, CN=Racine Ünïcode');
    const accountKey = await generateKeyPair('RSA-2048');
    const account = await issueAccountCertificate({ ca: imported, username: 'bob', accountKey });
    const caParsed = parseCertificate(imported.certificatePem, PkiErrorCode.INTERNAL_ERROR, 'CA');
    const accountParsed = parseCertificate(account.certificatePem, PkiErrorCode.INTERNAL_ERROR, 'account');
    assert.ok(
      accountParsed.issuerDer.equals(caParsed.subjectDer),
      'issuer DER is byte-identical to the CA subject DER',
    );
    dir.write('utf8-account.pem', account.certificatePem);
    assert.match(dir.opensslOk(['verify', '-CAfile', 'utf8.pem', 'utf8-account.pem']), /OK/);
  });

  it('rejects an unparseable certificate with CA_CERT_INVALID', async () => {
    await assertPkiError(
      importCertificateAuthority({
        certificatePem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
        privateKeyPem: rsaCa.privateKeyPem,
      }),
      PkiErrorCode.CA_CERT_INVALID,
      /CA certificate is not a single DER-encoded X.509 certificate/,
    );
    await assertPkiError(
      importCertificateAuthority({ certificatePem: rsaCa.privateKeyPem, privateKeyPem: rsaCa.privateKeyPem }),
      PkiErrorCode.CA_CERT_INVALID,
      /PEM label "PRIVATE KEY"; expected "CERTIFICATE"/,
    );
    await assertPkiError(
      importCertificateAuthority({
        certificatePem: rsaCa.certificatePem + ecCa.certificatePem,
        privateKeyPem: rsaCa.privateKeyPem,
      }),
      PkiErrorCode.CA_CERT_INVALID,
      /exactly one PEM block; found 2/,
    );
  });

  it('rejects a self-signed certificate whose signature was tampered with (CA_CERT_INVALID)', async () => {
    const lines = rsaCa.certificatePem.trim().split('\n');
    const body = Buffer.from(lines.slice(1, -1).join(''), 'base64');
    body[body.length - 5] ^= 0x01;
    const tampered = `-----BEGIN CERTIFICATE-----\n${body.toString('base64')}\n-----END CERTIFICATE-----\n`;
    await assertPkiError(
      importCertificateAuthority({ certificatePem: tampered, privateKeyPem: rsaCa.privateKeyPem }),
      PkiErrorCode.CA_CERT_INVALID,
      /signature does not verify/,
    );
  });

  it('rejects an unusable key with CA_KEY_INVALID, including encrypted keys', async () => {
    await assertPkiError(
      importCertificateAuthority({
        certificatePem: rsaCa.certificatePem,
        privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----',
      }),
      PkiErrorCode.CA_KEY_INVALID,
      /could not be parsed/,
    );
    const encrypted = dir.opensslOk(['pkey', '-in', 'rsa-ca.key', '-aes256', '-passout', 'pass:secret']);
    await assertPkiError(
      importCertificateAuthority({ certificatePem: rsaCa.certificatePem, privateKeyPem: encrypted }),
      PkiErrorCode.CA_KEY_INVALID,
      /is encrypted/,
    );
    const legacyEncrypted = dir.opensslOk([
      'rsa',
      '-in',
      'rsa-ca.key',
      '-traditional',
      '-aes256',
      '-passout',
      'pass:secret',
    ]);
    await assertPkiError(
      importCertificateAuthority({ certificatePem: rsaCa.certificatePem, privateKeyPem: legacyEncrypted }),
      PkiErrorCode.CA_KEY_INVALID,
      /encapsulated headers/,
    );
    await assertPkiError(
      importCertificateAuthority({ certificatePem: rsaCa.certificatePem, privateKeyPem: rsaCa.certificatePem }),
      PkiErrorCode.CA_KEY_INVALID,
      /PEM label "CERTIFICATE"/,
    );
  });

  it('rejects a key that does not match the certificate with CA_KEY_MISMATCH', async () => {
    await assertPkiError(
      importCertificateAuthority({ certificatePem: rsaCa.certificatePem, privateKeyPem: otherKey.privateKeyPem }),
      PkiErrorCode.CA_KEY_MISMATCH,
      /does not match/,
    );
    await assertPkiError(
      importCertificateAuthority({ certificatePem: rsaCa.certificatePem, privateKeyPem: ecCa.privateKeyPem }),
      PkiErrorCode.CA_KEY_MISMATCH,
      /EC \(P-256\).*2048-bit RSA/,
    );
  });

  it('rejects an openssl-made leaf certificate with CA_NOT_A_CA', async () => {
    const leaf = opensslSelfSigned('leaf', 'rsa:2048', '/CN=leaf.example', ['basicConstraints=critical,CA:FALSE']);
    await assertPkiError(importCertificateAuthority(leaf), PkiErrorCode.CA_NOT_A_CA, /CA:FALSE/);
    dir.opensslOk([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'nobc.key',
      '-out',
      'nobc.pem',
      '-subj',
      '/CN=nobc',
      '-days',
      '3',
      '-config',
      dir.write('empty.cnf', '[req]\ndistinguished_name=dn\n[dn]\n'),
    ]);
    await assertPkiError(
      importCertificateAuthority({ certificatePem: dir.readText('nobc.pem'), privateKeyPem: dir.readText('nobc.key') }),
      PkiErrorCode.CA_NOT_A_CA,
      /no basicConstraints/,
    );
  });

  it('rejects an openssl-made CA whose keyUsage lacks keyCertSign with CA_KEY_USAGE', async () => {
    const ca = opensslSelfSigned('noksign', 'rsa:2048', '/CN=No Cert Sign', [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,digitalSignature,cRLSign',
    ]);
    await assertPkiError(importCertificateAuthority(ca), PkiErrorCode.CA_KEY_USAGE, /keyCertSign/);
  });

  it('rejects an expired CA with CA_EXPIRED and a not-yet-valid CA with CA_NOT_YET_VALID', async () => {
    const expired = await createCertificateAuthority({
      commonName: 'Old',
      algorithm: 'P-256',
      now: new Date(Date.now() - 40 * DAY_MS),
      validityDays: 10,
    });
    await assertPkiError(importCertificateAuthority(expired), PkiErrorCode.CA_EXPIRED, /expired at/);
    const future = await createCertificateAuthority({
      commonName: 'Future',
      algorithm: 'P-256',
      now: new Date(Date.now() + 10 * DAY_MS),
    });
    await assertPkiError(importCertificateAuthority(future), PkiErrorCode.CA_NOT_YET_VALID, /not valid before/);
    // The `now` option moves the check: both are fine at a time inside their validity.
    assert.equal(
      (await importCertificateAuthority({ ...future, now: new Date(Date.now() + 11 * DAY_MS) })).subject,
      'CN=Future',
    );
  });

  it('rejects an openssl-made 1024-bit RSA CA with CA_KEY_TOO_WEAK, stating the size', async () => {
    const weak = opensslSelfSigned('weak', 'rsa:1024', '/CN=Weak CA', [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await assertPkiError(
      importCertificateAuthority(weak),
      PkiErrorCode.CA_KEY_TOO_WEAK,
      /CA key is 1024-bit RSA; at least 2048 bits are required/,
    );
  });

  it('rejects an Ed25519 CA with CA_KEY_UNSUPPORTED', async () => {
    const ed = opensslSelfSigned('ed', 'ed25519', '/CN=Ed CA', [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await assertPkiError(importCertificateAuthority(ed), PkiErrorCode.CA_KEY_UNSUPPORTED, /ed25519/);
  });

  it('checks in the documented order: a wrong key is reported before expiry, a non-CA before expiry', async () => {
    const expired = await createCertificateAuthority({
      commonName: 'Old',
      algorithm: 'P-256',
      now: new Date(Date.now() - 40 * DAY_MS),
      validityDays: 10,
    });
    await assertPkiError(
      importCertificateAuthority({ certificatePem: expired.certificatePem, privateKeyPem: otherKey.privateKeyPem }),
      PkiErrorCode.CA_KEY_MISMATCH,
    );
    const weakLeaf = opensslSelfSigned('weakleaf', 'rsa:1024', '/CN=weak leaf', ['basicConstraints=critical,CA:FALSE']);
    await assertPkiError(importCertificateAuthority(weakLeaf), PkiErrorCode.CA_NOT_A_CA);
  });
});
