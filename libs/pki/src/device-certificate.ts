import { certificateInfo, CertificateInfo, KEY_USAGE, SignerPem } from './certificate';
import { checkCsr } from './csr';
import { basicConstraintsExtension, keyUsageExtension, revocationPointerExtensions } from './extensions';
import { issueCertificate } from './issuance';
import { samePublicKey } from './keys';
import { PkiError, PkiErrorCode } from './pki.errors';
import { assertSignerValidAt, loadSigner } from './signer';
import { validateDeviceCertificateOptions } from './validate';

export const DEFAULT_DEVICE_VALIDITY_DAYS = 365;

export interface IssueDeviceCertificateOptions {
  /** The user's account certificate and key (the device certificate's issuer). */
  account: SignerPem;
  /** PKCS#10 PEM as sent by Jami ("NEW CERTIFICATE REQUEST") or OpenSSL ("CERTIFICATE REQUEST"). */
  csrPem: string;
  /** keyId (SHA-1, 40 hex) of keys that must never be certified as a device, e.g. the CA's. The account key is always refused. */
  forbiddenKeyIds?: string[];
  /** Default 365; never beyond the account certificate's notAfter. */
  validityDays?: number;
  now?: Date;
  crlUrl?: string;
  ocspUrl?: string;
  /** Checked (1-255 characters, no control characters) but not written into the certificate. */
  deviceName?: string;
}

export interface DeviceCertificate extends CertificateInfo {
  /** SHA-256 of the device SPKI, 64 hex. */
  deviceId: string;
  /** SHA-1 of the device SPKI, 40 hex. */
  shortDeviceId: string;
  publicKeyPem: string;
}

/**
 * Certifies exactly the CSR's public key, signed by the account key: subject copied from the CSR,
 * CA:FALSE, keyUsage digitalSignature|keyEncipherment (critical), SKI/AKI, optional CRL distribution point
 * and AIA OCSP URL. Runs every parseCsr check; refuses the account key, and forbiddenKeyIds, with KEY_REUSED.
 */
export async function issueDeviceCertificate(options: IssueDeviceCertificateOptions): Promise<DeviceCertificate> {
  validateDeviceCertificateOptions(options);
  const now = options.now ?? new Date();
  const signer = loadSigner(options.account, { role: 'account', mustAllow: 'keyCertSign' });
  assertSignerValidAt(signer, now, 'account');
  const csr = await checkCsr(options.csrPem);

  if (samePublicKey(csr.publicKey, signer.certificate.publicKey)) {
    throw new PkiError(PkiErrorCode.KEY_REUSED, 'CSR key is the account key; a device must have its own key');
  }
  const forbidden = (options.forbiddenKeyIds ?? []).map((id) => id.toLowerCase());
  if (forbidden.includes(csr.shortDeviceId)) {
    throw new PkiError(
      PkiErrorCode.KEY_REUSED,
      `CSR key ${csr.shortDeviceId} is a key that must not be certified for a device (account or CA key)`,
      { keyId: csr.shortDeviceId },
    );
  }

  const certificate = await issueCertificate(
    {
      subject: csr.subjectName,
      publicKey: csr.publicKey,
      now,
      validityDays: options.validityDays ?? DEFAULT_DEVICE_VALIDITY_DAYS,
      extensions: [
        basicConstraintsExtension(false),
        keyUsageExtension(KEY_USAGE.digitalSignature | KEY_USAGE.keyEncipherment),
        ...revocationPointerExtensions(options),
      ],
    },
    { signer },
  );
  return {
    ...certificateInfo(certificate),
    deviceId: csr.deviceId,
    shortDeviceId: csr.shortDeviceId,
    publicKeyPem: csr.publicKeyPem,
  };
}
