import { generateKeyPair, KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { EnrollmentAnswer, JamsClient } from '../jams/jams-client';
import { JamsError, JamsErrorCode } from '../jams/jams.errors';
import { createDeviceCsr } from '../trust/csr';
import { TrustError, TrustErrorCode } from '../trust/trust.errors';
import { DeviceIdentity, DeviceIdentityFiles, exportPrivateKey, loadDeviceIdentity } from './device-identity';

const generateKeyPairAsync = promisify(generateKeyPair);

/** Jami device keys are RSA-4096 (jams-protocol.md §5.2). */
export const DEVICE_KEY_BITS = 4096;

export type EnrollmentPhase = 'generating-key' | 'requesting-certificate' | 'verifying';

export interface EnrollOptions {
  client: JamsClient;
  username: string;
  password: string;
  deviceName: string;
  /** Default 4096. The server refuses fewer than 2048. */
  keyBits?: number;
  /** An existing device key to re-enroll with (Jami reuses it); default a new key. */
  privateKey?: KeyObject;
  onPhase?: (phase: EnrollmentPhase) => void;
  /** Check the server and the clock first (JamsClient.preflight). Default true. */
  preflight?: boolean;
  now?: () => number;
}

export interface Enrollment {
  identity: DeviceIdentity;
  /** The identity as stored, the key unencrypted (the caller encrypts it for storage). */
  files: DeviceIdentityFiles;
  answer: EnrollmentAnswer;
}

/** Generates a device key in a worker thread (RSA-4096 takes seconds). */
export async function generateDeviceKey(bits = DEVICE_KEY_BITS): Promise<KeyObject> {
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: bits, publicExponent: 65537 });
  return privateKey;
}

/**
 * Enrolls this device the way a Jami client does (jams-protocol.md §4.1): a local RSA key, a CSR sent with
 * the user's credentials, then every start-time check on what came back. A certificate that is not valid
 * yet by our clock is reported as clock skew.
 */
export async function enrollDevice(opts: EnrollOptions): Promise<Enrollment> {
  if (opts.preflight !== false) await opts.client.preflight();
  opts.onPhase?.('generating-key');
  const key = opts.privateKey ?? (await generateDeviceKey(opts.keyBits ?? DEVICE_KEY_BITS));
  opts.onPhase?.('requesting-certificate');
  const answer = await opts.client.enroll({
    username: opts.username,
    password: opts.password,
    csr: createDeviceCsr(key),
    deviceName: opts.deviceName,
  });
  opts.onPhase?.('verifying');
  const files: DeviceIdentityFiles = {
    privateKeyPem: exportPrivateKey(key),
    certificateChain: answer.certificateChain,
    receipt: answer.deviceReceipt,
    receiptSignature: answer.receiptSignature,
  };
  try {
    const identity = loadDeviceIdentity(files, undefined, new Date((opts.now ?? Date.now)()));
    return { identity, files, answer };
  } catch (err) {
    if (
      err instanceof TrustError &&
      (err.code === TrustErrorCode.CERTIFICATE_NOT_YET_VALID || err.code === TrustErrorCode.CERTIFICATE_EXPIRED)
    ) {
      throw new JamsError(
        JamsErrorCode.CLOCK_SKEW,
        `the new certificate is not valid by this machine's clock (${err.message}): check the system time`,
      );
    }
    throw err;
  }
}
