import { certificateInfo, CertificateInfo, KEY_USAGE, SignerPem } from './certificate';
import { basicConstraintsExtension, keyUsageExtension, revocationPointerExtensions } from './extensions';
import { keyId } from './ids';
import { issueCertificate } from './issuance';
import { describeKey, KeyPairPem, keyLabel, MIN_RSA_BITS, readPrivateKey, readPublicKey, samePublicKey } from './keys';
import { buildName, OID_COMMON_NAME, OID_ORGANIZATION, OID_USER_ID } from './names';
import { PkiError, PkiErrorCode } from './pki.errors';
import { assertSignerValidAt, loadSigner } from './signer';
import { validateAccountCertificateOptions } from './validate';

export const DEFAULT_ACCOUNT_VALIDITY_DAYS = 3650;

export interface IssueAccountCertificateOptions {
  ca: SignerPem;
  username: string;
  organization?: string;
  /** The user's account key pair: RSA, at least 2048 bits (Jami uses 4096). */
  accountKey: KeyPairPem;
  /** Default 3650; never beyond the CA's notAfter. */
  validityDays?: number;
  now?: Date;
  crlUrl?: string;
  ocspUrl?: string;
}

/**
 * The per-user account certificate, a CA for the user's devices: subject CN=<username>, UID=<Jami ID>
 * [, O=<organization>], basicConstraints CA:TRUE pathlen:0 and keyUsage keyCertSign|cRLSign|digitalSignature
 * (both critical), SKI/AKI, optional CRL distribution point and AIA OCSP URL, signed by the CA.
 */
export async function issueAccountCertificate(
  options: IssueAccountCertificateOptions,
): Promise<CertificateInfo & { jamiId: string }> {
  validateAccountCertificateOptions(options);
  const now = options.now ?? new Date();
  const signer = loadSigner(options.ca, { role: 'CA', mustAllow: 'keyCertSign' });
  assertSignerValidAt(signer, now, 'CA');

  const code = PkiErrorCode.ACCOUNT_KEY_INVALID;
  const publicKey = readPublicKey(options.accountKey.publicKeyPem, code, 'account public key');
  const privateKey = readPrivateKey(options.accountKey.privateKeyPem, code, 'account private key');
  if (!samePublicKey(publicKey, privateKey)) {
    throw new PkiError(code, 'account private key does not match the account public key');
  }
  const key = describeKey(publicKey);
  if (key.kind !== 'rsa') {
    throw new PkiError(code, `account key is ${keyLabel(publicKey)}; Jami account keys must be RSA`);
  }
  if (key.bits < MIN_RSA_BITS) {
    throw new PkiError(code, `account key is ${key.bits}-bit RSA; at least ${MIN_RSA_BITS} bits are required`, {
      bits: key.bits,
    });
  }
  if (samePublicKey(publicKey, signer.certificate.publicKey)) {
    throw new PkiError(PkiErrorCode.KEY_REUSED, 'account key is the CA key; every account needs its own key');
  }

  const jamiId = keyId(options.accountKey.publicKeyPem);
  const certificate = await issueCertificate(
    {
      subject: buildName([
        [OID_COMMON_NAME, options.username],
        [OID_USER_ID, jamiId],
        [OID_ORGANIZATION, options.organization],
      ]),
      publicKey,
      now,
      validityDays: options.validityDays ?? DEFAULT_ACCOUNT_VALIDITY_DAYS,
      extensions: [
        basicConstraintsExtension(true, 0),
        keyUsageExtension(KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign | KEY_USAGE.digitalSignature),
        ...revocationPointerExtensions(options),
      ],
    },
    { signer },
  );
  return { ...certificateInfo(certificate), jamiId };
}
