import { KeyObject, X509Certificate } from 'node:crypto';
import { certificateFingerprint, certificateKeyId, certificateLongKeyId, parseCertificates } from './certificate';
import { TrustError, TrustErrorCode } from './trust.errors';

/** A device certificate chain that verified up to the organization's CA. */
export interface VerifiedDevice {
  device: X509Certificate;
  account: X509Certificate;
  ca: X509Certificate;
  /** Jami ID: SHA-1 key id of the account key, 40 hex. */
  accountId: string;
  /** SHA-1 key id of the device key (DHT keys), 40 hex. */
  deviceShortId: string;
  /** SHA-256 of the device key (Jami's device id), 64 hex. */
  deviceId: string;
  devicePublicKey: KeyObject;
  /** SHA-256 fingerprint of the device certificate, "AB:CD:…" (the DTLS certificate of its connections). */
  fingerprint: string;
  /** device, account (and CA) PEM, leaf first. */
  chainPem: string;
}

const fail = (code: TrustErrorCode, message: string, details?: Record<string, unknown>): never => {
  throw new TrustError(code, message, details);
};

function checkValidity(cert: X509Certificate, what: string, now: Date) {
  if (now.getTime() < new Date(cert.validFrom).getTime()) {
    fail(TrustErrorCode.CERTIFICATE_NOT_YET_VALID, `the ${what} certificate is valid only from ${cert.validFrom}`, {
      validFrom: cert.validFrom,
    });
  }
  if (now.getTime() > new Date(cert.validTo).getTime()) {
    fail(TrustErrorCode.CERTIFICATE_EXPIRED, `the ${what} certificate expired on ${cert.validTo}`, {
      validTo: cert.validTo,
    });
  }
}

function checkSignedBy(cert: X509Certificate, issuer: X509Certificate, what: string) {
  if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) {
    fail(TrustErrorCode.CHAIN_UNTRUSTED, `the ${what} certificate is not signed by its issuer`);
  }
}

/**
 * Verifies a device chain the way Jami peers do, pinned to the organization: device → account → CA, where
 * the CA is `trustedCa` (a CA certificate in the chain must be that one), every signature verifies, the
 * account certificate is a CA and the device certificate is not, all are currently valid, and the device key
 * is RSA (OpenDHT signs and encrypts with RSA only). Revocation is checked separately (RevocationChecker).
 */
export function verifyDeviceChain(chain: string, trustedCa: X509Certificate, now = new Date()): VerifiedDevice {
  const certs = parseCertificates(chain);
  if (certs.length < 2 || certs.length > 3) {
    fail(
      TrustErrorCode.CHAIN_MALFORMED,
      `a device chain has 2 or 3 certificates (device, account, CA), not ${certs.length}`,
    );
  }
  const [device, account, presentedCa] = certs;
  if (presentedCa && !presentedCa.raw.equals(trustedCa.raw)) {
    fail(TrustErrorCode.CHAIN_UNTRUSTED, 'the chain ends at a CA other than the organization CA', {
      presented: presentedCa.subject,
    });
  }
  checkSignedBy(device, account, 'device');
  checkSignedBy(account, trustedCa, 'account');
  if (!account.ca) fail(TrustErrorCode.CHAIN_BAD_CONSTRAINTS, 'the account certificate is not a CA');
  if (device.ca) fail(TrustErrorCode.CHAIN_BAD_CONSTRAINTS, 'the device certificate is a CA');
  if (device.publicKey.asymmetricKeyType !== 'rsa') {
    fail(TrustErrorCode.CHAIN_MALFORMED, 'the device key is not RSA');
  }
  checkValidity(trustedCa, 'CA', now);
  checkValidity(account, 'account', now);
  checkValidity(device, 'device', now);
  return {
    device,
    account,
    ca: trustedCa,
    accountId: certificateKeyId(account),
    deviceShortId: certificateKeyId(device),
    deviceId: certificateLongKeyId(device),
    devicePublicKey: device.publicKey,
    fingerprint: certificateFingerprint(device),
    chainPem: [device, account, trustedCa].map((c) => c.toString()).join(''),
  };
}
