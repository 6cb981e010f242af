import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { id_pkix_ocsp_nonce, OCSPRequest, OCSPResponse, OCSPResponseStatus } from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Extension } from '@peculiar/asn1-x509';
import { issueAccountCertificate } from './account-certificate';
import { CertificateAuthority, createCertificateAuthority } from './ca';
import { CertificateInfo, SignerPem } from './certificate';
import { issueDeviceCertificate } from './device-certificate';
import { ocspKeyHashes, ocspNameHashes } from './ids';
import { generateKeyPair } from './keys';
import { OcspCertId, OcspLookupResult, parseOcspRequest, respondOcsp } from './ocsp';
import { assertPkiError, Workdir } from './openssl.test-helper';
import { isPkiError, PkiErrorCode } from './pki.errors';

describe('OCSP', () => {
  let dir: Workdir;
  let ca: CertificateAuthority;
  let ecCa: CertificateAuthority;
  let account: SignerPem & CertificateInfo;
  let ecAccount: CertificateInfo;
  let devices: CertificateInfo[];

  before(async () => {
    dir = new Workdir();
    const accountKey = await generateKeyPair('RSA-2048');
    [ca, ecCa] = await Promise.all([
      createCertificateAuthority({ commonName: 'OCSP Test CA', algorithm: 'RSA-2048' }),
      createCertificateAuthority({ commonName: 'OCSP Test EC CA', algorithm: 'P-256' }),
    ]);
    const accountCert = await issueAccountCertificate({
      ca,
      username: 'alice',
      accountKey,
      ocspUrl: 'http://127.0.0.1/ocsp',
    });
    account = { ...accountCert, privateKeyPem: accountKey.privateKeyPem };
    ecAccount = await issueAccountCertificate({ ca: ecCa, username: 'alice', accountKey });
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
    devices = [
      await issueDeviceCertificate({ account, csrPem, ocspUrl: 'http://127.0.0.1/ocsp' }),
      await issueDeviceCertificate({ account, csrPem, ocspUrl: 'http://127.0.0.1/ocsp' }),
    ];
    dir.write('ca.pem', ca.certificatePem);
    dir.write('ec-ca.pem', ecCa.certificatePem);
    dir.write('account.pem', account.certificatePem);
    dir.write('ec-account.pem', ecAccount.certificatePem);
    dir.write('device1.pem', devices[0].certificatePem);
    dir.write('device2.pem', devices[1].certificatePem);
  });
  after(() => dir.remove());

  /** openssl ocsp request for `certs` (each preceded by its issuer); returns the DER. */
  function request(name: string, pairs: [issuer: string, cert: string][], extra: string[] = []): Buffer {
    const args = [
      'ocsp',
      ...extra,
      ...pairs.flatMap(([issuer, cert]) => ['-issuer', issuer, '-cert', cert]),
      '-reqout',
      `${name}.req`,
    ];
    dir.opensslOk(args);
    return dir.read(`${name}.req`);
  }

  /** Lookup as the server would do it: issuer by key hash, status by serial. */
  function lookupFrom(statuses: Record<string, Omit<OcspLookupResult, 'responder'>>, calls: OcspCertId[] = []) {
    const responders = [
      { hashes: ocspKeyHashes(account.certificatePem), responder: account },
      { hashes: ocspKeyHashes(ca.certificatePem), responder: ca },
      { hashes: ocspKeyHashes(ecCa.certificatePem), responder: ecCa },
    ];
    return async (certId: OcspCertId): Promise<OcspLookupResult | null> => {
      calls.push(certId);
      const issuer = responders.find(
        ({ hashes }) => hashes.sha1 === certId.issuerKeyHash || hashes.sha256 === certId.issuerKeyHash,
      );
      const status = statuses[certId.serialNumber];
      return issuer && status ? { responder: issuer.responder, ...status } : null;
    };
  }

  function statusOf(response: Buffer): OCSPResponseStatus {
    return AsnConvert.parse(response, OCSPResponse).responseStatus;
  }

  /** openssl's view of a response to a request file, verified against the CA with the issuer as responder. */
  function opensslCheck(name: string, response: Buffer, issuer = 'account.pem', caFile = 'ca.pem'): string {
    dir.write(`${name}.resp`, response);
    const result = dir.openssl([
      'ocsp',
      '-reqin',
      `${name}.req`,
      '-respin',
      `${name}.resp`,
      '-VAfile',
      issuer,
      '-CAfile',
      caFile,
      '-resp_text',
    ]);
    assert.equal(result.status, 0, result.output);
    return result.output;
  }

  it('parseOcspRequest reports the CertID (hashes equal ocspKeyHashes/ocspNameHashes) and the nonce', () => {
    const der = request('parse', [['account.pem', 'device1.pem']]);
    const info = parseOcspRequest(der);
    assert.deepEqual(info.certIds, [
      {
        hashAlgorithm: 'sha1',
        issuerNameHash: ocspNameHashes(account.certificatePem).sha1,
        issuerKeyHash: ocspKeyHashes(account.certificatePem).sha1,
        serialNumber: devices[0].serialNumber,
      },
    ]);
    const text = dir.opensslOk(['ocsp', '-reqin', 'parse.req', '-req_text']);
    const nonceHex = /OCSP Nonce: \n\s+0410([0-9A-F]+)\n/.exec(text)?.[1];
    assert.equal(info.nonce?.toString('hex').toUpperCase(), nonceHex);
    assert.equal(info.nonce?.length, 16);
  });

  it('parseOcspRequest reports SHA-256 CertIDs', () => {
    const info = parseOcspRequest(request('sha256', [['account.pem', 'device1.pem']], ['-sha256', '-no_nonce']));
    assert.equal(info.certIds[0].hashAlgorithm, 'sha256');
    assert.equal(info.certIds[0].issuerKeyHash, ocspKeyHashes(account.certificatePem).sha256);
    assert.equal(info.certIds[0].issuerNameHash, ocspNameHashes(account.certificatePem).sha256);
    assert.equal(info.nonce, undefined);
  });

  it('answers good, signed directly by the issuer, echoing the nonce, as openssl ocsp verifies', async () => {
    const der = request('good', [['account.pem', 'device1.pem']]);
    const calls: OcspCertId[] = [];
    const now = new Date('2031-02-03T04:05:06.789Z');
    const response = await respondOcsp({
      requestDer: der,
      lookup: lookupFrom({ [devices[0].serialNumber]: { status: 'good' } }, calls),
      now: new Date(),
    });
    assert.deepEqual(calls, parseOcspRequest(der).certIds);
    const text = opensslCheck('good', response);
    assert.match(text, /Response verify OK/);
    assert.doesNotMatch(text, /Nonce Verify error|WARNING/);
    assert.match(text, /Cert Status: good/);
    assert.match(text, /Responder Id: [0-9A-F]{40}\n/, 'responderID byKey');
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(
      text,
      new RegExp(`OCSP Nonce: \\n\\s+0410${parseOcspRequest(der).nonce?.toString('hex').toUpperCase()}`),
    );
    assert.match(text, /Subject: CN=alice\/UID=/, 'the responder certificate is included');

    dir.write('good-status.resp', response);
    const byCert = dir.opensslOk([
      'ocsp',
      '-respin',
      'good-status.resp',
      '-issuer',
      'account.pem',
      '-cert',
      'device1.pem',
      '-no_nonce',
      '-CAfile',
      'ca.pem',
    ]);
    assert.match(byCert, /device1.pem: good/);

    const timed = await respondOcsp({
      requestDer: der,
      lookup: lookupFrom({ [devices[0].serialNumber]: { status: 'good' } }),
      now,
      nextUpdateSeconds: 600,
    });
    dir.write('timed.resp', timed);
    const timedText = dir.opensslOk(['ocsp', '-respin', 'timed.resp', '-resp_text', '-noverify']);
    assert.match(timedText, /Produced At: Feb {2}3 04:05:06 2031 GMT/);
    assert.match(timedText, /This Update: Feb {2}3 04:05:06 2031 GMT/);
    assert.match(timedText, /Next Update: Feb {2}3 04:15:06 2031 GMT/);
  });

  it('answers revoked with the revocation time and reason', async () => {
    const der = request('revoked', [['account.pem', 'device1.pem']]);
    const revokedAt = new Date('2026-01-02T03:04:05Z');
    const response = await respondOcsp({
      requestDer: der,
      lookup: lookupFrom({ [devices[0].serialNumber]: { status: 'revoked', revokedAt, reason: 'keyCompromise' } }),
    });
    const text = opensslCheck('revoked', response);
    assert.match(text, /Response verify OK/);
    assert.match(
      text,
      /Cert Status: revoked\n\s+Revocation Time: Jan {2}2 03:04:05 2026 GMT\n\s+Revocation Reason: keyCompromise \(0x1\)/,
    );
    dir.write('revoked-status.resp', response);
    assert.match(
      dir.opensslOk([
        'ocsp',
        '-respin',
        'revoked-status.resp',
        '-issuer',
        'account.pem',
        '-cert',
        'device1.pem',
        '-no_nonce',
        '-CAfile',
        'ca.pem',
      ]),
      /device1.pem: revoked/,
    );
  });

  it('answers unknown', async () => {
    const der = request('unknown', [['account.pem', 'device1.pem']]);
    const response = await respondOcsp({
      requestDer: der,
      lookup: lookupFrom({ [devices[0].serialNumber]: { status: 'unknown' } }),
    });
    assert.match(opensslCheck('unknown', response), /Cert Status: unknown/);
  });

  it('answers several CertIDs of the same issuer in one response', async () => {
    const der = request('multi', [
      ['account.pem', 'device1.pem'],
      ['account.pem', 'device2.pem'],
    ]);
    const response = await respondOcsp({
      requestDer: der,
      lookup: lookupFrom({
        [devices[0].serialNumber]: { status: 'good' },
        [devices[1].serialNumber]: { status: 'revoked', revokedAt: new Date(), reason: 'superseded' },
      }),
    });
    const text = opensslCheck('multi', response);
    assert.match(text, /Response verify OK/);
    assert.match(text, /Cert Status: good[\s\S]*Cert Status: revoked/);
  });

  it('omits the nonce when the request has none', async () => {
    const der = request('nononce', [['account.pem', 'device1.pem']], ['-no_nonce']);
    const response = await respondOcsp({
      requestDer: der,
      lookup: lookupFrom({ [devices[0].serialNumber]: { status: 'good' } }),
    });
    const text = opensslCheck('nononce', response);
    assert.match(text, /Response verify OK/);
    assert.doesNotMatch(text, /OCSP Nonce/);
  });

  it('echoes a 32-byte nonce (as Jami sends) and refuses a 33-byte one as malformed', async () => {
    const base = AsnConvert.parse(request('jami', [['account.pem', 'device1.pem']], ['-no_nonce']), OCSPRequest);
    const withNonce = (length: number) => {
      base.tbsRequest.requestExtensions = [
        new Extension({
          extnID: id_pkix_ocsp_nonce,
          extnValue: new OctetString(AsnConvert.serialize(new OctetString(Buffer.alloc(length, 0xab)))),
        }),
      ];
      return Buffer.from(AsnConvert.serialize(base));
    };
    const jami = withNonce(32);
    dir.write('jami.req', jami);
    assert.equal(parseOcspRequest(jami).nonce?.length, 32);
    const text = opensslCheck(
      'jami',
      await respondOcsp({ requestDer: jami, lookup: lookupFrom({ [devices[0].serialNumber]: { status: 'good' } }) }),
    );
    assert.match(text, /Response verify OK/);
    assert.match(text, new RegExp(`OCSP Nonce: \\n\\s+0420${'AB'.repeat(32)}`));
    await assertPkiError(() => parseOcspRequest(withNonce(33)), PkiErrorCode.OCSP_REQUEST_INVALID, /33 bytes/);
    assert.equal(
      statusOf(await respondOcsp({ requestDer: withNonce(33), lookup: lookupFrom({}) })),
      OCSPResponseStatus.malformedRequest,
    );
  });

  it('is signed ecdsa-with-SHA256 when a P-256 CA answers for an account certificate', async () => {
    const der = request('ec', [['ec-ca.pem', 'ec-account.pem']]);
    const response = await respondOcsp({
      requestDer: der,
      lookup: lookupFrom({ [ecAccount.serialNumber]: { status: 'good' } }),
    });
    const text = opensslCheck('ec', response, 'ec-ca.pem', 'ec-ca.pem');
    assert.match(text, /Response verify OK/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /Cert Status: good/);
  });

  it('answers malformedRequest to garbage without calling the lookup', async () => {
    const good = request('garbage', [['account.pem', 'device1.pem']]);
    const calls: OcspCertId[] = [];
    for (const requestDer of [
      Buffer.from('GET / HTTP/1.1'),
      Buffer.alloc(0),
      good.subarray(0, good.length - 3),
      Buffer.concat([good, Buffer.from([0])]),
    ]) {
      const response = await respondOcsp({ requestDer, lookup: lookupFrom({}, calls) });
      assert.equal(statusOf(response), OCSPResponseStatus.malformedRequest);
      dir.write('malformed.resp', response);
      assert.match(
        dir.openssl(['ocsp', '-respin', 'malformed.resp', '-resp_text']).output,
        /Responder Error: malformedrequest \(1\)/,
      );
    }
    assert.equal(calls.length, 0);
  });

  it('answers unauthorized when the lookup does not know the issuer or serial', async () => {
    const der = request('unauth', [['account.pem', 'device1.pem']]);
    const response = await respondOcsp({ requestDer: der, lookup: async () => null });
    assert.equal(statusOf(response), OCSPResponseStatus.unauthorized);
    dir.write('unauth.resp', response);
    assert.match(
      dir.openssl(['ocsp', '-respin', 'unauth.resp', '-resp_text']).output,
      /Responder Error: unauthorized \(6\)/,
    );
  });

  it('answers unauthorized when CertIDs belong to different issuers', async () => {
    const der = request('mixed', [
      ['account.pem', 'device1.pem'],
      ['ca.pem', 'account.pem'],
    ]);
    const response = await respondOcsp({
      requestDer: der,
      lookup: lookupFrom({ [devices[0].serialNumber]: { status: 'good' }, [account.serialNumber]: { status: 'good' } }),
    });
    assert.equal(statusOf(response), OCSPResponseStatus.unauthorized);
  });

  it('answers unauthorized, and reports it, when the lookup returns a responder that is not the issuer', async () => {
    const der = request('wrongissuer', [['account.pem', 'device1.pem']]);
    const errors: unknown[] = [];
    const response = await respondOcsp({
      requestDer: der,
      lookup: async () => ({ responder: ca, status: 'good' }),
      onError: (error) => errors.push(error),
    });
    assert.equal(statusOf(response), OCSPResponseStatus.unauthorized);
    assert.ok(isPkiError(errors[0], PkiErrorCode.OCSP_LOOKUP_INVALID));
  });

  it('answers unauthorized when the CertID has the issuer key hash but another issuer name hash', async () => {
    const der = request('namehash', [['account.pem', 'device1.pem']], ['-no_nonce']);
    const nameHash = Buffer.from(ocspNameHashes(account.certificatePem).sha1, 'hex');
    const at = der.indexOf(nameHash);
    assert.ok(at > 0);
    const crafted = Buffer.from(der);
    crafted[at] ^= 0x01;
    // The lookup finds the issuer by key hash alone; the name hash must still be checked.
    const lookup = lookupFrom({ [devices[0].serialNumber]: { status: 'good' } });
    assert.equal(statusOf(await respondOcsp({ requestDer: der, lookup })), OCSPResponseStatus.successful);
    assert.equal(statusOf(await respondOcsp({ requestDer: crafted, lookup })), OCSPResponseStatus.unauthorized);
  });

  it('answers internalError and reports the cause when the lookup throws or returns an inconsistent result', async () => {
    const der = request('internal', [['account.pem', 'device1.pem']]);
    const errors: unknown[] = [];
    const failure = new Error('database down');
    const thrown = await respondOcsp({
      requestDer: der,
      lookup: async () => Promise.reject(failure),
      onError: (error) => errors.push(error),
    });
    assert.equal(statusOf(thrown), OCSPResponseStatus.internalError);
    assert.equal(errors[0], failure);
    dir.write('internal.resp', thrown);
    assert.match(
      dir.openssl(['ocsp', '-respin', 'internal.resp', '-resp_text']).output,
      /Responder Error: internalerror \(2\)/,
    );

    const noDate = await respondOcsp({
      requestDer: der,
      lookup: async () => ({ responder: account, status: 'revoked' }),
      onError: (error) => errors.push(error),
    });
    assert.equal(statusOf(noDate), OCSPResponseStatus.internalError);
    assert.ok(isPkiError(errors[1], PkiErrorCode.OCSP_LOOKUP_INVALID));

    const badKey = await respondOcsp({
      requestDer: der,
      lookup: async () => ({
        responder: { certificatePem: account.certificatePem, privateKeyPem: ca.privateKeyPem },
        status: 'good',
      }),
      onError: (error) => errors.push(error),
    });
    assert.equal(statusOf(badKey), OCSPResponseStatus.internalError);
    assert.ok(isPkiError(errors[2], PkiErrorCode.SIGNER_INVALID));
  });

  it('parseOcspRequest rejects garbage with OCSP_REQUEST_INVALID', async () => {
    await assertPkiError(
      () => parseOcspRequest(Buffer.from('nope')),
      PkiErrorCode.OCSP_REQUEST_INVALID,
      /not a single DER SEQUENCE/,
    );
    await assertPkiError(() => parseOcspRequest(Buffer.from('3000', 'hex')), PkiErrorCode.OCSP_REQUEST_INVALID);
    await assertPkiError(
      () => parseOcspRequest('30' as unknown as Buffer),
      PkiErrorCode.OCSP_REQUEST_INVALID,
      /must be a Buffer/,
    );
    await assertPkiError(
      () => parseOcspRequest(Buffer.alloc(20_000, 0x30)),
      PkiErrorCode.OCSP_REQUEST_INVALID,
      /at most 16384/,
    );
  });
});
