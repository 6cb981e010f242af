import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseCsr } from './csr';
import { assertPkiError, pemToDer, toPem, Workdir } from './openssl.test-helper';
import { PkiErrorCode } from './pki.errors';

describe('parseCsr', () => {
  let dir: Workdir;
  let csrPem: string;
  let ids: { sha1: string; sha256: string };

  /** A CSR made by openssl like Jami's: CN=Jami device, UID=<SHA-1 key ID>. */
  function opensslCsr(name: string, genpkeyArgs: string[], reqArgs: string[] = []): string {
    dir.opensslOk(['genpkey', ...genpkeyArgs, '-out', `${name}.key`]);
    const keyIds = dir.opensslKeyIds(`${name}.key`, 'privkey');
    dir.opensslOk([
      'req',
      '-new',
      '-key',
      `${name}.key`,
      '-subj',
      `/CN=Jami device/UID=${keyIds.sha1}`,
      ...reqArgs,
      '-out',
      `${name}.csr`,
    ]);
    return dir.readText(`${name}.csr`);
  }

  before(() => {
    dir = new Workdir();
    csrPem = opensslCsr('device', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
    ids = dir.opensslKeyIds('device.csr', 'req');
  });
  after(() => dir.remove());

  it('accepts an openssl CSR and reports the key, IDs computed independently by openssl, and the subject', async () => {
    assert.match(csrPem, /^-----BEGIN CERTIFICATE REQUEST-----/);
    const parsed = await parseCsr(csrPem);
    assert.equal(parsed.deviceId, ids.sha256);
    assert.equal(parsed.shortDeviceId, ids.sha1);
    assert.equal(parsed.subject, `CN=Jami device, UID=${ids.sha1}`);
    assert.equal(parsed.modulusBits, 2048);
    assert.equal(parsed.publicExponent, 65537);
    assert.equal(parsed.publicKeyPem, dir.opensslOk(['req', '-in', 'device.csr', '-noout', '-pubkey']));
  });

  it('accepts the gnutls "NEW CERTIFICATE REQUEST" header, CRLF line ends and surrounding whitespace', async () => {
    const gnutlsStyle = csrPem.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST');
    assert.equal((await parseCsr(gnutlsStyle)).deviceId, ids.sha256);
    const crlf = `\r\n  ${gnutlsStyle.replace(/\n/g, '\r\n')}  \r\n\r\n`;
    assert.equal((await parseCsr(crlf)).deviceId, ids.sha256);
    // Sanity: openssl agrees the re-headered PEM is the same request.
    dir.write('new.csr', gnutlsStyle);
    const check = dir.openssl(['req', '-in', 'new.csr', '-noout', '-verify']);
    assert.equal(check.status, 0, check.output);
    assert.match(check.output, /verify OK/);
  });

  it('accepts a 3072-bit request signed with SHA-512', async () => {
    const pem = opensslCsr('big', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072'], ['-sha512']);
    assert.equal((await parseCsr(pem)).modulusBits, 3072);
  });

  it('rejects a CSR whose signature byte was flipped with CSR_SIGNATURE_INVALID', async () => {
    const der = pemToDer(csrPem);
    der[der.length - 1] ^= 0x01;
    await assertPkiError(
      parseCsr(toPem(der, 'CERTIFICATE REQUEST')),
      PkiErrorCode.CSR_SIGNATURE_INVALID,
      /does not verify/,
    );
  });

  it('rejects a CSR whose subject was altered after signing with CSR_SIGNATURE_INVALID', async () => {
    const der = pemToDer(csrPem);
    const at = der.indexOf(Buffer.from('Jami device'));
    der[at] = 'K'.charCodeAt(0);
    await assertPkiError(parseCsr(toPem(der, 'CERTIFICATE REQUEST')), PkiErrorCode.CSR_SIGNATURE_INVALID);
  });

  it('rejects a SHA-1 signed CSR with CSR_SIGNATURE_INVALID', async () => {
    dir.opensslOk(['req', '-new', '-key', 'device.key', '-subj', '/CN=Jami device', '-sha1', '-out', 'sha1.csr']);
    await assertPkiError(
      parseCsr(dir.readText('sha1.csr')),
      PkiErrorCode.CSR_SIGNATURE_INVALID,
      /sha1WithRSAEncryption; SHA-256 or stronger/,
    );
  });

  it('rejects a 1024-bit key with CSR_KEY_TOO_WEAK, stating the size', async () => {
    dir.opensslOk([
      'req',
      '-new',
      '-newkey',
      'rsa:1024',
      '-nodes',
      '-keyout',
      'small.key',
      '-subj',
      '/CN=Jami device',
      '-out',
      'small.csr',
    ]);
    const error = await assertPkiError(
      parseCsr(dir.readText('small.csr')),
      PkiErrorCode.CSR_KEY_TOO_WEAK,
      /CSR key is 1024-bit RSA; at least 2048 bits are required/,
    );
    assert.equal(error.details?.bits, 1024);
  });

  it('rejects public exponent 3 with CSR_KEY_EXPONENT, stating the exponent', async () => {
    const pem = opensslCsr('e3', [
      '-algorithm',
      'RSA',
      '-pkeyopt',
      'rsa_keygen_bits:2048',
      '-pkeyopt',
      'rsa_keygen_pubexp:3',
    ]);
    await assertPkiError(
      parseCsr(pem),
      PkiErrorCode.CSR_KEY_EXPONENT,
      /CSR key has public exponent 3; 65537 is required/,
    );
  });

  it('rejects EC and Ed25519 keys with CSR_KEY_NOT_RSA', async () => {
    const ec = opensslCsr('ec', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    await assertPkiError(
      parseCsr(ec),
      PkiErrorCode.CSR_KEY_NOT_RSA,
      /CSR key is EC \(P-256\); only RSA keys are accepted/,
    );
    const ed = opensslCsr('ed', ['-algorithm', 'ED25519']);
    await assertPkiError(parseCsr(ed), PkiErrorCode.CSR_KEY_NOT_RSA, /ed25519/);
  });

  it('rejects what is not a PEM CSR with CSR_INVALID', async () => {
    const cases: [unknown, RegExp][] = [
      ['hello world', /CSR has unexpected text before the PEM block/],
      ['', /CSR is not PEM/],
      [undefined, /CSR must be a PEM string/],
      [
        csrPem.replace(/CERTIFICATE REQUEST/g, 'CERTIFICATE'),
        /PEM label "CERTIFICATE"; expected "CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST"/,
      ],
      [csrPem.replace('-----END CERTIFICATE REQUEST-----', ''), /has no END line/],
      [csrPem.replace('-----END CERTIFICATE REQUEST-----', '-----END NEW CERTIFICATE REQUEST-----'), /is closed by/],
      [`${csrPem}${csrPem}`, /exactly one PEM block; found 2/],
      [`Certificate Request:\n${csrPem}`, /unexpected text before the PEM block/],
      [`${csrPem}trailing text\n`, /unexpected text after the PEM block/],
      [csrPem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!'), /not valid base64/],
      [
        '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n',
        /not a DER-encoded PKCS#10 request/,
      ],
      [toPem(Buffer.from('3003020100', 'hex'), 'CERTIFICATE REQUEST'), /not a DER-encoded PKCS#10 request/],
    ];
    for (const [input, message] of cases) {
      await assertPkiError(parseCsr(input as string), PkiErrorCode.CSR_INVALID, message);
    }
  });

  it('rejects DER with trailing bytes after the request with CSR_INVALID', async () => {
    const der = Buffer.concat([pemToDer(csrPem), Buffer.from([0x00, 0x00, 0x05])]);
    await assertPkiError(
      parseCsr(toPem(der, 'CERTIFICATE REQUEST')),
      PkiErrorCode.CSR_INVALID,
      /3 bytes of trailing data/,
    );
  });

  it('rejects a CSR larger than 16 KiB with CSR_INVALID before parsing it', async () => {
    const padded = csrPem + ' '.repeat(16 * 1024);
    await assertPkiError(parseCsr(padded), PkiErrorCode.CSR_INVALID, /at most 16384 are accepted/);
  });
});
