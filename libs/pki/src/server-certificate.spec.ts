import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CertificateAuthority, createCertificateAuthority } from './ca';
import { assertPkiError, Workdir } from './openssl.test-helper';
import { PkiErrorCode } from './pki.errors';
import { issueServerCertificate } from './server-certificate';

const DAY_MS = 86_400_000;

describe('issueServerCertificate', () => {
  let dir: Workdir;
  let ca: CertificateAuthority;

  before(async () => {
    dir = new Workdir();
    ca = await createCertificateAuthority({ commonName: 'Server Test CA', algorithm: 'RSA-2048' });
    dir.write('ca.pem', ca.certificatePem);
  });
  after(() => dir.remove());

  it('issues a P-256 TLS server certificate with DNS and IP SANs that openssl accepts for sslserver', async () => {
    const server = await issueServerCertificate({
      ca,
      hostnames: [
        'Enclave.Example',
        '*.enclave.example',
        '192.0.2.7',
        '2001:db8::1',
        '::ffff:192.0.2.8',
        'enclave.example',
      ],
    });
    dir.write('server.pem', server.certificatePem);
    dir.write('server.key', server.privateKeyPem);
    const text = dir.opensslOk(['x509', '-in', 'server.pem', '-noout', '-text']);
    assert.match(text, /Subject: CN = enclave.example\n/);
    assert.match(
      text,
      /X509v3 Subject Alternative Name: \n\s+DNS:enclave.example, DNS:\*.enclave.example, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:1, IP Address:0:0:0:0:0:FFFF:C000:208\n/,
    );
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication\n/);
    assert.match(text, /ASN1 OID: prime256v1/);
    assert.match(
      dir.opensslOk(['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', 'ca.pem', 'server.pem']),
      /server.pem: OK/,
    );
    for (const host of ['enclave.example', 'api.enclave.example']) {
      assert.match(dir.opensslOk(['verify', '-CAfile', 'ca.pem', '-verify_hostname', host, 'server.pem']), /OK/);
    }
    assert.match(dir.opensslOk(['verify', '-CAfile', 'ca.pem', '-verify_ip', '2001:db8::1', 'server.pem']), /OK/);
    assert.notEqual(
      dir.openssl(['verify', '-CAfile', 'ca.pem', '-verify_hostname', 'other.example', 'server.pem']).status,
      0,
    );
    assert.equal(
      dir.opensslOk(['pkey', '-in', 'server.key', '-pubout']),
      dir.opensslOk(['x509', '-in', 'server.pem', '-noout', '-pubkey']),
    );
    assert.equal(server.subject, 'CN=enclave.example');
    assert.equal(server.issuer, 'CN=Server Test CA');
  });

  it('adds keyEncipherment for an RSA key', async () => {
    const server = await issueServerCertificate({ ca, hostnames: ['rsa.example'], algorithm: 'RSA-2048' });
    dir.write('rsa-server.pem', server.certificatePem);
    const text = dir.opensslOk(['x509', '-in', 'rsa-server.pem', '-noout', '-text']);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
    assert.match(text, /Public-Key: \(2048 bit\)/);
  });

  it('is valid for validityDays (default 397), clamped to the CA notAfter', async () => {
    const now = new Date();
    const byDefault = await issueServerCertificate({ ca, hostnames: ['a.example'], now });
    assert.equal(byDefault.notAfter.getTime(), Math.floor((now.getTime() + 397 * DAY_MS) / 1000) * 1000);
    const shortCa = await createCertificateAuthority({ commonName: 'Short', algorithm: 'P-256', validityDays: 30 });
    const clamped = await issueServerCertificate({ ca: shortCa, hostnames: ['a.example'] });
    assert.deepEqual(clamped.notAfter, shortCa.notAfter);
  });

  it('refuses a signer that is not a CA, or whose key does not match', async () => {
    const leaf = await issueServerCertificate({ ca, hostnames: ['leaf.example'] });
    await assertPkiError(
      issueServerCertificate({ ca: leaf, hostnames: ['x.example'] }),
      PkiErrorCode.SIGNER_INVALID,
      /CA certificate is not a CA/,
    );
    await assertPkiError(
      issueServerCertificate({
        ca: { certificatePem: ca.certificatePem, privateKeyPem: leaf.privateKeyPem },
        hostnames: ['x.example'],
      }),
      PkiErrorCode.SIGNER_INVALID,
      /does not match/,
    );
  });
});
