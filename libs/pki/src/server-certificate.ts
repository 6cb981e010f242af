import { isIPv4, isIPv6 } from 'node:net';
import { certificateInfo, CertificateInfo, KEY_USAGE, SignerPem } from './certificate';
import {
  basicConstraintsExtension,
  ipv6Bytes,
  keyUsageExtension,
  serverAuthExtension,
  subjectAltNameExtension,
} from './extensions';
import { issueCertificate } from './issuance';
import { describeKey, generateKeyPair, KeyAlgorithm, readPrivateKey } from './keys';
import { buildName, OID_COMMON_NAME } from './names';
import { PkiErrorCode } from './pki.errors';
import { assertSignerValidAt, loadSigner } from './signer';
import { validateServerCertificateOptions } from './validate';

export const DEFAULT_SERVER_VALIDITY_DAYS = 397;

export interface IssueServerCertificateOptions {
  ca: SignerPem;
  /** DNS names (optionally "*.") and IPv4/IPv6 literals; the first one is also the subject CN. */
  hostnames: string[];
  /** Default 397. */
  validityDays?: number;
  now?: Date;
  /** Default P-256. */
  algorithm?: KeyAlgorithm;
}

/**
 * TLS server certificate with a fresh key: CN = first hostname, SAN dNSName/iPAddress for every hostname,
 * CA:FALSE, EKU serverAuth, keyUsage digitalSignature (+ keyEncipherment for RSA keys).
 */
export async function issueServerCertificate(
  options: IssueServerCertificateOptions,
): Promise<SignerPem & CertificateInfo> {
  validateServerCertificateOptions(options);
  const now = options.now ?? new Date();
  const signer = loadSigner(options.ca, { role: 'CA', mustAllow: 'keyCertSign' });
  assertSignerValidAt(signer, now, 'CA');
  const hostnames = uniqueHostnames(options.hostnames);
  const keys = await generateKeyPair(options.algorithm ?? 'P-256');
  const privateKey = readPrivateKey(keys.privateKeyPem, PkiErrorCode.INTERNAL_ERROR, 'generated server key');
  // keyEncipherment only makes sense for RSA key transport; RFC 5480 forbids it for EC keys.
  const usage =
    describeKey(privateKey).kind === 'rsa'
      ? KEY_USAGE.digitalSignature | KEY_USAGE.keyEncipherment
      : KEY_USAGE.digitalSignature;
  const certificate = await issueCertificate(
    {
      subject: buildName([[OID_COMMON_NAME, hostnames[0]]]),
      publicKey: privateKey,
      now,
      validityDays: options.validityDays ?? DEFAULT_SERVER_VALIDITY_DAYS,
      extensions: [
        basicConstraintsExtension(false),
        keyUsageExtension(usage),
        serverAuthExtension(),
        subjectAltNameExtension(hostnames),
      ],
    },
    { signer },
  );
  return { ...certificateInfo(certificate), privateKeyPem: keys.privateKeyPem };
}

/** Lowercases DNS names and drops duplicates (IPv6 literals compared by value), keeping the first order. */
function uniqueHostnames(hostnames: readonly string[]): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const hostname of hostnames) {
    const key = isIPv6(hostname)
      ? ipv6Bytes(hostname).toString('hex')
      : isIPv4(hostname)
        ? hostname
        : hostname.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(isIPv4(hostname) || isIPv6(hostname) ? hostname : hostname.toLowerCase());
  }
  return result;
}
