import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as pki from './index';

describe('libs/pki public API', () => {
  it('exports every function the server codes against', () => {
    const functions = [
      'generateKeyPair',
      'keyId',
      'longKeyId',
      'ocspKeyHashes',
      'ocspNameHashes',
      'createCertificateAuthority',
      'importCertificateAuthority',
      'issueServerCertificate',
      'issueAccountCertificate',
      'parseCsr',
      'issueDeviceCertificate',
      'reissueCertificate',
      'createCrl',
      'parseOcspRequest',
      'respondOcsp',
      'validateCaOptions',
      'validateCaImportOptions',
      'validateAccountCertificateOptions',
      'validateDeviceCertificateOptions',
      'validateCrlOptions',
      'validateServerCertificateOptions',
      'validateOcspResponderOptions',
      'validateReissueOptions',
      'signData',
      'verifyData',
      'isPkiError',
    ] as const;
    for (const name of functions) assert.equal(typeof pki[name], 'function', name);
    assert.equal(new pki.PkiError(pki.PkiErrorCode.CSR_INVALID, 'x').code, 'CSR_INVALID');
    assert.ok(new pki.PkiError(pki.PkiErrorCode.CSR_INVALID, 'x') instanceof Error);
  });

  it('uses string error codes equal to their names', () => {
    for (const [name, value] of Object.entries(pki.PkiErrorCode)) assert.equal(value, name);
  });
});
