import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issueAccountCertificate } from './account-certificate';
import { createCertificateAuthority, importCertificateAuthority } from './ca';
import { createCrl } from './crl';
import { issueDeviceCertificate } from './device-certificate';
import { respondOcsp } from './ocsp';
import { assertPkiError } from './openssl.test-helper';
import { PkiError, PkiErrorCode } from './pki.errors';
import { issueServerCertificate } from './server-certificate';
import {
  validateAccountCertificateOptions,
  validateCaImportOptions,
  validateCaOptions,
  validateCrlOptions,
  validateDeviceCertificateOptions,
  validateOcspResponderOptions,
  validateServerCertificateOptions,
} from './validate';

// The validators only check shapes, so placeholder PEM strings are enough here.
const PEM = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
const signer = { certificatePem: PEM, privateKeyPem: PEM };
const now = new Date('2030-01-01T00:00:00Z');
const later = new Date('2030-01-02T00:00:00Z');

type Case = [description: string, patch: Record<string, unknown>, problem: string];

function problemsOf(validate: (options: unknown) => void, options: unknown): string[] {
  try {
    validate(options);
  } catch (error) {
    assert.ok(error instanceof PkiError);
    assert.equal(error.code, PkiErrorCode.CONFIG_INVALID);
    const problems = error.details?.problems as string[];
    assert.ok(Array.isArray(problems));
    assert.equal(error.message, `Invalid options: ${problems.join('; ')}`);
    return problems;
  }
  return [];
}

function suite(
  name: string,
  validate: (options: unknown) => void,
  valid: Record<string, unknown>,
  cases: Case[],
): void {
  describe(name, () => {
    it('accepts valid options', () => {
      assert.deepEqual(problemsOf(validate, valid), []);
    });
    it('rejects a non-object with "options must be an object"', () => {
      for (const options of [undefined, null, 'x', 3, []]) {
        assert.deepEqual(problemsOf(validate, options), ['options must be an object']);
      }
    });
    it('ignores extra properties (structural typing)', () => {
      assert.deepEqual(problemsOf(validate, { ...valid, notAfter: new Date(), extra: 1 }), []);
    });
    for (const [description, patch, problem] of cases) {
      it(`${description} → "${problem}"`, () => {
        const options = { ...valid, ...patch };
        for (const [key, value] of Object.entries(patch)) if (value === undefined) delete options[key];
        assert.deepEqual(problemsOf(validate, options), [problem]);
      });
    }
  });
}

const validityCases: Case[] = [
  ['validityDays 0', { validityDays: 0 }, 'validityDays must be an integer between 1 and 36500'],
  ['validityDays 36501', { validityDays: 36501 }, 'validityDays must be an integer between 1 and 36500'],
  ['validityDays 1.5', { validityDays: 1.5 }, 'validityDays must be an integer between 1 and 36500'],
  ['validityDays "30"', { validityDays: '30' }, 'validityDays must be an integer between 1 and 36500'],
];
const nowCases: Case[] = [
  ['now as a string', { now: '2030-01-01' }, 'now must be a valid Date'],
  ['now an invalid Date', { now: new Date('nope') }, 'now must be a valid Date'],
];
const urlCases: Case[] = [
  ['crlUrl with ftp scheme', { crlUrl: 'ftp://x.example/crl' }, 'crlUrl must be an http(s) URL'],
  ['crlUrl not a URL', { crlUrl: 'crl' }, 'crlUrl must be an http(s) URL'],
  ['crlUrl with a space', { crlUrl: 'http://x.example/a b' }, 'crlUrl must be an http(s) URL'],
  ['crlUrl non-ASCII', { crlUrl: 'http://exämple.org/crl' }, 'crlUrl must be an http(s) URL'],
  ['ocspUrl a number', { ocspUrl: 80 }, 'ocspUrl must be an http(s) URL'],
  ['ocspUrl javascript:', { ocspUrl: 'javascript:alert(1)' }, 'ocspUrl must be an http(s) URL'],
];
const nameCases = (key: string): Case[] => [
  [`${key} empty`, { [key]: '' }, `${key} must be a non-empty string of at most 64 characters`],
  [`${key} blank`, { [key]: '   ' }, `${key} must be a non-empty string of at most 64 characters`],
  [`${key} 65 characters`, { [key]: 'x'.repeat(65) }, `${key} must be a non-empty string of at most 64 characters`],
  [`${key} not a string`, { [key]: 5 }, `${key} must be a non-empty string of at most 64 characters`],
  [`${key} with a newline`, { [key]: 'a\nb' }, `${key} must not contain control characters`],
];
const signerCases = (key: string): Case[] => [
  [`${key} missing`, { [key]: undefined }, `${key} must be an object with certificatePem and privateKeyPem`],
  [`${key} a string`, { [key]: PEM }, `${key} must be an object with certificatePem and privateKeyPem`],
  [
    `${key}.certificatePem not PEM`,
    { [key]: { ...signer, certificatePem: 'abc' } },
    `${key}.certificatePem must be a PEM string`,
  ],
  [`${key}.privateKeyPem missing`, { [key]: { certificatePem: PEM } }, `${key}.privateKeyPem must be a PEM string`],
];

suite(
  'validateCaOptions',
  validateCaOptions,
  { commonName: 'Acme Root CA', organization: 'Acme', algorithm: 'P-256', validityDays: 3650, now },
  [
    ['commonName missing', { commonName: undefined }, 'commonName must be a non-empty string of at most 64 characters'],
    ...nameCases('commonName'),
    ...nameCases('organization'),
    ['algorithm RSA-1024', { algorithm: 'RSA-1024' }, 'algorithm must be one of RSA-4096, RSA-2048, P-256'],
    ...validityCases,
    ...nowCases,
  ],
);

suite('validateCaImportOptions', validateCaImportOptions, { certificatePem: PEM, privateKeyPem: PEM, now }, [
  ['certificatePem missing', { certificatePem: undefined }, 'certificatePem must be a PEM string'],
  ['certificatePem without BEGIN line', { certificatePem: 'MIIB' }, 'certificatePem must be a PEM string'],
  ['privateKeyPem a Buffer', { privateKeyPem: Buffer.from(PEM) }, 'privateKeyPem must be a PEM string'],
  ...nowCases,
]);

suite(
  'validateServerCertificateOptions',
  validateServerCertificateOptions,
  {
    ca: signer,
    hostnames: ['enclave.example', '*.enclave.example', '10.0.0.1', '::1', 'localhost'],
    validityDays: 397,
    now,
    algorithm: 'RSA-2048',
  },
  [
    ...signerCases('ca'),
    ['hostnames missing', { hostnames: undefined }, 'hostnames must contain at least one DNS name or IP address'],
    ['hostnames empty', { hostnames: [] }, 'hostnames must contain at least one DNS name or IP address'],
    [
      'hostnames a string',
      { hostnames: 'enclave.example' },
      'hostnames must contain at least one DNS name or IP address',
    ],
    [
      'a hostname with a space',
      { hostnames: ['a b'] },
      'hostnames[0] must be a DNS name or an IPv4/IPv6 address, got "a b"',
    ],
    [
      'a URL as hostname',
      { hostnames: ['x.example', 'https://x.example'] },
      'hostnames[1] must be a DNS name or an IPv4/IPv6 address, got "https://x.example"',
    ],
    [
      'a bracketed IPv6',
      { hostnames: ['[::1]'] },
      'hostnames[0] must be a DNS name or an IPv4/IPv6 address, got "[::1]"',
    ],
    [
      'an out-of-range IPv4',
      { hostnames: ['300.1.1.1'] },
      'hostnames[0] must be a DNS name or an IPv4/IPv6 address, got "300.1.1.1"',
    ],
    [
      'a label starting with "-"',
      { hostnames: ['-x.example'] },
      'hostnames[0] must be a DNS name or an IPv4/IPv6 address, got "-x.example"',
    ],
    [
      'a trailing dot',
      { hostnames: ['x.example.'] },
      'hostnames[0] must be a DNS name or an IPv4/IPv6 address, got "x.example."',
    ],
    ['a non-string hostname', { hostnames: [7] }, 'hostnames[0] must be a DNS name or an IPv4/IPv6 address, got 7'],
    [
      '101 hostnames',
      { hostnames: Array.from({ length: 101 }, (_, i) => `h${i}.example`) },
      'hostnames must contain at most 100 entries',
    ],
    [
      'a first hostname longer than 64 characters',
      { hostnames: [`${'a'.repeat(60)}.example`] },
      'hostnames[0] must be at most 64 characters (it becomes the subject CN)',
    ],
    ['algorithm Ed25519', { algorithm: 'Ed25519' }, 'algorithm must be one of RSA-4096, RSA-2048, P-256'],
    ...validityCases,
    ...nowCases,
  ],
);

suite(
  'validateAccountCertificateOptions',
  validateAccountCertificateOptions,
  {
    ca: signer,
    username: 'alice_01-x',
    organization: 'Acme',
    accountKey: { publicKeyPem: PEM, privateKeyPem: PEM },
    validityDays: 365,
    now,
    crlUrl: 'http://enclave.example/crl/ca',
    ocspUrl: 'https://enclave.example/ocsp',
  },
  [
    ...signerCases('ca'),
    ['username missing', { username: undefined }, 'username must match [a-z0-9_-]{3,32}'],
    ['username too short', { username: 'ab' }, 'username must match [a-z0-9_-]{3,32}'],
    ['username too long', { username: 'a'.repeat(33) }, 'username must match [a-z0-9_-]{3,32}'],
    ['username uppercase', { username: 'Alice' }, 'username must match [a-z0-9_-]{3,32}'],
    ['username with a dot', { username: 'a.b.c' }, 'username must match [a-z0-9_-]{3,32}'],
    ['username with a trailing newline', { username: 'alice\n' }, 'username must match [a-z0-9_-]{3,32}'],
    ...nameCases('organization'),
    [
      'accountKey missing',
      { accountKey: undefined },
      'accountKey must be an object with publicKeyPem and privateKeyPem',
    ],
    [
      'accountKey.publicKeyPem missing',
      { accountKey: { privateKeyPem: PEM } },
      'accountKey.publicKeyPem must be a PEM string',
    ],
    [
      'accountKey.privateKeyPem not PEM',
      { accountKey: { publicKeyPem: PEM, privateKeyPem: 'x' } },
      'accountKey.privateKeyPem must be a PEM string',
    ],
    ...validityCases,
    ...nowCases,
    ...urlCases,
  ],
);

suite(
  'validateDeviceCertificateOptions',
  validateDeviceCertificateOptions,
  {
    account: signer,
    csrPem: '-----BEGIN NEW CERTIFICATE REQUEST-----\n...',
    forbiddenKeyIds: ['0123456789abcdef0123456789ABCDEF01234567'],
    validityDays: 365,
    now,
    crlUrl: 'https://enclave.example/crl/alice',
    ocspUrl: 'http://enclave.example:8080/ocsp',
    deviceName: 'alice-laptop',
  },
  [
    ...signerCases('account'),
    ['csrPem missing', { csrPem: undefined }, 'csrPem must be a non-empty string'],
    ['csrPem blank', { csrPem: ' \n' }, 'csrPem must be a non-empty string'],
    [
      'forbiddenKeyIds a string',
      { forbiddenKeyIds: 'abc' },
      'forbiddenKeyIds must be an array of 40-digit hex key IDs',
    ],
    [
      'forbiddenKeyIds with a SHA-256 ID',
      { forbiddenKeyIds: ['a'.repeat(64)] },
      'forbiddenKeyIds must be an array of 40-digit hex key IDs',
    ],
    [
      'forbiddenKeyIds with non-hex',
      { forbiddenKeyIds: ['g'.repeat(40)] },
      'forbiddenKeyIds must be an array of 40-digit hex key IDs',
    ],
    [
      'deviceName empty',
      { deviceName: '' },
      'deviceName must be a string of 1 to 255 characters without control characters',
    ],
    [
      'deviceName 256 characters',
      { deviceName: 'd'.repeat(256) },
      'deviceName must be a string of 1 to 255 characters without control characters',
    ],
    [
      'deviceName with a NUL',
      { deviceName: 'a\u0000b' },
      'deviceName must be a string of 1 to 255 characters without control characters',
    ],
    ...validityCases,
    ...nowCases,
    ...urlCases,
  ],
);

suite(
  'validateCrlOptions',
  validateCrlOptions,
  {
    issuer: signer,
    crlNumber: 7n,
    entries: [
      { serialNumber: '0A1b', revocationDate: now, reason: 'keyCompromise' },
      { serialNumber: '7f'.repeat(20), revocationDate: now },
    ],
    thisUpdate: now,
    nextUpdate: later,
  },
  [
    ...signerCases('issuer'),
    ['crlNumber -1', { crlNumber: -1 }, 'crlNumber must be a non-negative integer'],
    ['crlNumber -1n', { crlNumber: -1n }, 'crlNumber must be a non-negative integer'],
    ['crlNumber 1.5', { crlNumber: 1.5 }, 'crlNumber must be a non-negative integer'],
    ['crlNumber "3"', { crlNumber: '3' }, 'crlNumber must be a non-negative integer'],
    ['crlNumber above 2^53', { crlNumber: 2 ** 60 }, 'crlNumber must be a non-negative integer'],
    ['crlNumber 2^159', { crlNumber: 2n ** 159n }, 'crlNumber must be below 2^159 (at most 20 octets)'],
    ['entries missing', { entries: undefined }, 'entries must be an array'],
    [
      'an entry that is not an object',
      { entries: ['0a'] },
      'entries[0] must be an object with serialNumber and revocationDate',
    ],
    [
      'a non-hex serial',
      { entries: [{ serialNumber: 'xyz', revocationDate: now }] },
      'entries[0].serialNumber must be a positive hex serial number of 1 to 40 digits',
    ],
    [
      'a zero serial',
      { entries: [{ serialNumber: '00', revocationDate: now }] },
      'entries[0].serialNumber must be a positive hex serial number of 1 to 40 digits',
    ],
    [
      'a 41-digit serial',
      { entries: [{ serialNumber: '1'.repeat(41), revocationDate: now }] },
      'entries[0].serialNumber must be a positive hex serial number of 1 to 40 digits',
    ],
    [
      'a colon-separated serial',
      { entries: [{ serialNumber: '0a:1b', revocationDate: now }] },
      'entries[0].serialNumber must be a positive hex serial number of 1 to 40 digits',
    ],
    [
      'the same serial twice in different spellings',
      {
        entries: [
          { serialNumber: '0A1B', revocationDate: now },
          { serialNumber: 'a1b', revocationDate: now },
        ],
      },
      'entries list serial number 0a1b more than once',
    ],
    [
      'a revocationDate string',
      { entries: [{ serialNumber: '01', revocationDate: '2030-01-01' }] },
      'entries[0].revocationDate must be a valid Date',
    ],
    [
      'an unknown reason',
      { entries: [{ serialNumber: '01', revocationDate: now, reason: 'removeFromCRL' }] },
      'entries[0].reason must be one of unspecified, keyCompromise, caCompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn',
    ],
    ['thisUpdate invalid', { thisUpdate: new Date(NaN) }, 'thisUpdate must be a valid Date'],
    ['nextUpdate missing', { nextUpdate: undefined }, 'nextUpdate must be a valid Date'],
    ['nextUpdate equal to thisUpdate', { nextUpdate: now }, 'nextUpdate must be after thisUpdate'],
    ['nextUpdate before thisUpdate', { thisUpdate: later, nextUpdate: now }, 'nextUpdate must be after thisUpdate'],
    [
      'nextUpdate in the past without thisUpdate',
      { thisUpdate: undefined, nextUpdate: new Date(Date.now() - 1000) },
      'nextUpdate must be after thisUpdate',
    ],
  ],
);

suite(
  'validateOcspResponderOptions',
  validateOcspResponderOptions,
  {
    requestDer: Buffer.from([0x30, 0x00]),
    lookup: async () => null,
    now,
    nextUpdateSeconds: 3600,
    onError: () => undefined,
  },
  [
    ['requestDer a string', { requestDer: '3000' }, 'requestDer must be a Buffer or Uint8Array'],
    ['lookup missing', { lookup: undefined }, 'lookup must be a function'],
    ['nextUpdateSeconds 0', { nextUpdateSeconds: 0 }, 'nextUpdateSeconds must be an integer between 1 and 604800'],
    [
      'nextUpdateSeconds 8 days',
      { nextUpdateSeconds: 8 * 86400 },
      'nextUpdateSeconds must be an integer between 1 and 604800',
    ],
    ['onError not a function', { onError: 'log' }, 'onError must be a function'],
    ...nowCases,
  ],
);

describe('validation reporting', () => {
  it('lists every problem at once', () => {
    assert.deepEqual(problemsOf(validateCaOptions, { commonName: '', validityDays: 0, algorithm: 'DSA', now: 1 }), [
      'commonName must be a non-empty string of at most 64 characters',
      'algorithm must be one of RSA-4096, RSA-2048, P-256',
      'validityDays must be an integer between 1 and 36500',
      'now must be a valid Date',
    ]);
  });

  it('every issuing function validates its options before doing any work', async () => {
    await assertPkiError(createCertificateAuthority({ commonName: '' }), PkiErrorCode.CONFIG_INVALID, /commonName/);
    await assertPkiError(
      importCertificateAuthority({ certificatePem: '', privateKeyPem: PEM }),
      PkiErrorCode.CONFIG_INVALID,
      /certificatePem/,
    );
    await assertPkiError(
      issueServerCertificate({ ca: signer, hostnames: [] }),
      PkiErrorCode.CONFIG_INVALID,
      /hostnames/,
    );
    await assertPkiError(
      issueAccountCertificate({ ca: signer, username: 'A', accountKey: { publicKeyPem: PEM, privateKeyPem: PEM } }),
      PkiErrorCode.CONFIG_INVALID,
      /username/,
    );
    await assertPkiError(
      issueDeviceCertificate({ account: signer, csrPem: PEM, validityDays: 0 }),
      PkiErrorCode.CONFIG_INVALID,
      /validityDays/,
    );
    await assertPkiError(
      createCrl({ issuer: signer, crlNumber: -1, entries: [], nextUpdate: later }),
      PkiErrorCode.CONFIG_INVALID,
      /crlNumber/,
    );
    await assertPkiError(
      respondOcsp({ requestDer: Buffer.alloc(0), lookup: 'x' as never }),
      PkiErrorCode.CONFIG_INVALID,
      /lookup/,
    );
  });
});
