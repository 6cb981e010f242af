// Test-only: a small organization PKI (CA → account → devices) built with @enclave/pki, as the server does.
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import {
  createCertificateAuthority,
  createCrl,
  issueAccountCertificate,
  issueDeviceCertificate,
  type CertificateAuthority,
} from '@enclave/pki';
import { DeviceIdentityFiles, exportPrivateKey } from '../account/device-identity';
import { issueDeviceReceipt } from '../identity/receipt';
import { createDeviceCsr } from './csr';

export interface TestAccount {
  ca: CertificateAuthority;
  certificatePem: string;
  privateKeyPem: string;
  publicKeyPem: string;
  jamiId: string;
  crlNumber: number;
}

export interface TestDevice {
  key: KeyObject;
  certificatePem: string;
  serialNumber: string;
  files: DeviceIdentityFiles;
}

export const rsaKeyPair = (bits = 2048) => {
  const k = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    privateKeyPem: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: k.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    key: k.privateKey,
  };
};

export function testCa(name = 'Test Org CA'): Promise<CertificateAuthority> {
  return createCertificateAuthority({ commonName: name, algorithm: 'P-256' });
}

export async function testAccount(ca: CertificateAuthority, username = 'alice'): Promise<TestAccount> {
  const keys = rsaKeyPair();
  const cert = await issueAccountCertificate({ ca, username, accountKey: keys });
  return { ca, certificatePem: cert.certificatePem, ...keys, jamiId: cert.jamiId, crlNumber: 0 };
}

export async function testDevice(
  account: TestAccount,
  opts: { validityDays?: number; now?: Date; bits?: number } = {},
): Promise<TestDevice> {
  const key = generateKeyPairSync('rsa', { modulusLength: opts.bits ?? 2048 }).privateKey;
  const cert = await issueDeviceCertificate({
    account: { certificatePem: account.certificatePem, privateKeyPem: account.privateKeyPem },
    csrPem: createDeviceCsr(key),
    validityDays: opts.validityDays,
    now: opts.now,
  });
  const receipt = issueDeviceReceipt({
    accountPrivateKeyPem: account.privateKeyPem,
    accountPublicKeyPem: account.publicKeyPem,
    devicePublicKeyPem: cert.publicKeyPem,
  });
  return {
    key,
    certificatePem: cert.certificatePem,
    serialNumber: cert.serialNumber,
    files: {
      privateKeyPem: exportPrivateKey(key),
      certificateChain: cert.certificatePem + account.certificatePem + account.ca.certificatePem,
      receipt: receipt.receipt,
      receiptSignature: receipt.signature,
    },
  };
}

/** The account's CRL listing these device serials. */
export async function accountCrl(account: TestAccount, revokedSerials: string[]): Promise<Buffer> {
  const { crlDer } = await createCrl({
    issuer: { certificatePem: account.certificatePem, privateKeyPem: account.privateKeyPem },
    crlNumber: ++account.crlNumber,
    entries: revokedSerials.map((serialNumber) => ({ serialNumber, revocationDate: new Date() })),
    nextUpdate: new Date(Date.now() + 3600_000),
  });
  return crlDer;
}

/** The CA's CRL (revoked account certificates). */
export async function caCrl(ca: CertificateAuthority, revokedSerials: string[] = []): Promise<Buffer> {
  const { crlDer } = await createCrl({
    issuer: ca,
    crlNumber: 1,
    entries: revokedSerials.map((serialNumber) => ({ serialNumber, revocationDate: new Date() })),
    nextUpdate: new Date(Date.now() + 3600_000),
  });
  return crlDer;
}
