import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { parseCsr, respondOcsp } from '@enclave/pki';
import { createDeviceCsr } from './csr';
import { parseCrl, verifyCrl } from './crl';
import { verifyDeviceChain } from './device-chain';
import { createOcspRequest, readOcspResponse } from './ocsp';
import { accountCrl, testAccount, testCa, TestAccount, testDevice, TestDevice } from './pki-fixtures.test-helper';
import { RevocationChecker } from './revocation';
import { TrustErrorCode } from './trust.errors';

let account: TestAccount;
let other: TestAccount;
let device: TestDevice;
let ca: X509Certificate;

before(async () => {
  const [orgCa, otherCa] = await Promise.all([testCa(), testCa('Other CA')]);
  account = await testAccount(orgCa);
  other = await testAccount(otherCa, 'mallory');
  device = await testDevice(account);
  ca = new X509Certificate(orgCa.certificatePem);
});

describe('createDeviceCsr', () => {
  test('builds the Jami device CSR (CN=Jami device, UID=<key id>) that openssl and the server accept', async () => {
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const pem = createDeviceCsr(key);
    assert.match(pem, /^-----BEGIN NEW CERTIFICATE REQUEST-----\n/);
    const parsed = await parseCsr(pem);
    assert.match(parsed.subject, new RegExp(`CN=Jami device, UID=${parsed.shortDeviceId}`));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-csr-'));
    try {
      fs.writeFileSync(path.join(dir, 'r.csr'), pem.replace(/NEW CERTIFICATE REQUEST/g, 'CERTIFICATE REQUEST'));
      const out = execFileSync('openssl', ['req', '-in', path.join(dir, 'r.csr'), '-verify', '-noout'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      assert.doesNotThrow(() => out);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('verifyDeviceChain', () => {
  test('accepts device → account → CA pinned to the organization CA and derives the ids', () => {
    const v = verifyDeviceChain(device.files.certificateChain, ca);
    assert.equal(v.accountId, account.jamiId);
    assert.equal(v.deviceShortId.length, 40);
    assert.equal(v.deviceId.length, 64);
    assert.equal(v.fingerprint, new X509Certificate(device.certificatePem).fingerprint256);
  });

  test('accepts the chain without the CA certificate', () => {
    const chain = device.certificatePem + account.certificatePem;
    assert.equal(verifyDeviceChain(chain, ca).accountId, account.jamiId);
  });

  test('refuses a chain from another organization', async () => {
    const foreign = await testDevice(other);
    assert.throws(() => verifyDeviceChain(foreign.files.certificateChain, ca), {
      code: TrustErrorCode.CHAIN_UNTRUSTED,
    });
    const withoutCa = foreign.certificatePem + other.certificatePem;
    assert.throws(() => verifyDeviceChain(withoutCa, ca), { code: TrustErrorCode.CHAIN_UNTRUSTED });
  });

  test('refuses a device certificate the account did not sign', async () => {
    const foreign = await testDevice(other);
    const chain = foreign.certificatePem + account.certificatePem + account.ca.certificatePem;
    assert.throws(() => verifyDeviceChain(chain, ca), { code: TrustErrorCode.CHAIN_UNTRUSTED });
  });

  test('refuses expired and not-yet-valid certificates', () => {
    const later = new Date(Date.now() + 20 * 365 * 86400_000);
    assert.throws(() => verifyDeviceChain(device.files.certificateChain, ca, later), {
      code: TrustErrorCode.CERTIFICATE_EXPIRED,
    });
    const earlier = new Date(Date.now() - 86400_000);
    assert.throws(() => verifyDeviceChain(device.files.certificateChain, ca, earlier), {
      code: TrustErrorCode.CERTIFICATE_NOT_YET_VALID,
    });
  });

  test('refuses garbage and a lone certificate', () => {
    assert.throws(() => verifyDeviceChain('nothing', ca), { code: TrustErrorCode.CHAIN_MALFORMED });
    assert.throws(() => verifyDeviceChain(device.certificatePem, ca), { code: TrustErrorCode.CHAIN_MALFORMED });
  });
});

describe('CRL', () => {
  test('parses the serials, dates and number of a CRL and verifies it against its issuer only', async () => {
    const der = await accountCrl(account, [device.serialNumber, '0abc']);
    const crl = parseCrl(der);
    assert.ok(crl.revoked.has(device.serialNumber.replace(/^0+/, '')));
    assert.ok(crl.revoked.has('abc'));
    assert.equal(crl.crlNumber, BigInt(account.crlNumber));
    assert.ok(crl.nextUpdate && crl.nextUpdate > crl.thisUpdate);
    assert.ok(verifyCrl(crl, new X509Certificate(account.certificatePem)));
    assert.ok(!verifyCrl(crl, new X509Certificate(other.certificatePem)));
    const tampered = Buffer.from(der);
    tampered[tampered.length - 5] ^= 1;
    assert.ok(!verifyCrl(parseCrl(tampered), new X509Certificate(account.certificatePem)));
  });

  test('a truncated CRL is REVOCATION_DATA_INVALID', () => {
    assert.throws(() => parseCrl(Buffer.from([0x30, 0x05, 0x01])), { code: TrustErrorCode.REVOCATION_DATA_INVALID });
  });
});

describe('RevocationChecker', () => {
  const checker = (crls: Record<string, Buffer[]>, opts: { mode?: 'require' | 'best-effort' } = {}) =>
    new RevocationChecker({ sources: [{ name: 'test', fetch: async (id) => crls[id] ?? [] }], maxAgeMs: 0, ...opts });

  test('a device on its account CRL is refused; one not listed is good', async () => {
    const v = verifyDeviceChain(device.files.certificateChain, ca);
    const revoked = await accountCrl(account, [device.serialNumber]);
    await assert.rejects(checker({ [account.jamiId]: [revoked] }).checkDevice(v), { code: TrustErrorCode.REVOKED });
    const clean = await accountCrl(account, []);
    // The CA CRL is missing: the account's status is unknown, so the device's is overall.
    assert.equal(await checker({ [account.jamiId]: [clean] }).checkDevice(v), 'unknown');
  });

  test('the newest CRL wins, and a CRL signed by someone else is ignored', async () => {
    const v = verifyDeviceChain(device.files.certificateChain, ca);
    const old = await accountCrl(account, []);
    const newer = await accountCrl(account, [device.serialNumber]);
    const forged = await accountCrl(other, []);
    await assert.rejects(checker({ [account.jamiId]: [forged, newer, old] }).checkDevice(v), {
      code: TrustErrorCode.REVOKED,
    });
  });

  test("'require' refuses a device when no revocation data can be had", async () => {
    const v = verifyDeviceChain(device.files.certificateChain, ca);
    await assert.rejects(checker({}, { mode: 'require' }).checkDevice(v), { code: TrustErrorCode.REVOCATION_UNKNOWN });
    assert.equal(await checker({}).checkDevice(v), 'unknown');
  });

  test('falls back to OCSP signed by the account', async () => {
    const v = verifyDeviceChain(device.files.certificateChain, ca);
    const answer = (status: 'good' | 'revoked') => async (requestDer: Buffer) =>
      respondOcsp({
        requestDer,
        lookup: async () => ({
          responder: { certificatePem: account.certificatePem, privateKeyPem: account.privateKeyPem },
          status,
          revokedAt: status === 'revoked' ? new Date() : undefined,
        }),
      });
    const withOcsp = (status: 'good' | 'revoked') =>
      new RevocationChecker({ sources: [], ocsp: answer(status), maxAgeMs: 0 });
    await assert.rejects(withOcsp('revoked').checkDevice(v), { code: TrustErrorCode.REVOKED });
    // Good by OCSP, but the account's own status (CA CRL) is unknown.
    assert.equal(await withOcsp('good').checkDevice(v), 'unknown');
  });
});

describe('OCSP', () => {
  test('reads a response signed by the issuer, checks the nonce, refuses one signed by another key', async () => {
    const cert = new X509Certificate(device.certificatePem);
    const issuer = new X509Certificate(account.certificatePem);
    const req = createOcspRequest(cert, issuer);
    const respond = (signer: TestAccount) =>
      respondOcsp({
        requestDer: req.der,
        lookup: async () => ({
          responder: { certificatePem: signer.certificatePem, privateKeyPem: signer.privateKeyPem },
          status: 'good',
        }),
      });
    const good = await respond(account);
    assert.equal(readOcspResponse(good, cert, issuer, req.nonce).status, 'good');
    assert.throws(() => readOcspResponse(good, cert, issuer, Buffer.alloc(32)), /nonce mismatch/);
    const forged = Buffer.from(good);
    const producedAt = forged.indexOf(Buffer.from([0x18, 0x0f])); // GeneralizedTime in the signed data
    forged[producedAt + 14] ^= 1;
    assert.throws(() => readOcspResponse(forged, cert, issuer, req.nonce), /not signed by the issuer/);
    const unauthorized = await respond(other); // the responder will not sign for another issuer
    assert.throws(() => readOcspResponse(unauthorized, cert, issuer, req.nonce), {
      code: TrustErrorCode.REVOCATION_DATA_INVALID,
    });
  });
});
