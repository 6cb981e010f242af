import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const MASTER_KEY_FILE = 'master.key';

export interface MasterKeySource {
  key: Buffer;
  /** 'env' when ENCLAVE_MASTER_KEY was given, otherwise the key file's path. */
  origin: 'env' | string;
  /** True when the key file was created by this call. */
  created: boolean;
}

export function parseMasterKey(value: string): Buffer {
  return /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
}

/**
 * The key that encrypts secrets at rest: ENCLAVE_MASTER_KEY, or a key file under the data directory
 * (created with mode 0600 on first start). The caller logs a loud warning when the file is created.
 */
export function loadMasterKey(configured: string | undefined, dataDir: string): MasterKeySource {
  if (configured !== undefined) return { key: parseMasterKey(configured), origin: 'env', created: false };
  const file = path.join(dataDir, MASTER_KEY_FILE);
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    const fd = fs.openSync(file, 'wx', 0o600);
    const key = randomBytes(32);
    fs.writeSync(fd, key.toString('hex') + '\n');
    fs.closeSync(fd);
    return { key, origin: file, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const mode = fs.statSync(file).mode & 0o777;
  if (mode & 0o077) fs.chmodSync(file, 0o600);
  const text = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text))
    throw new Error(`Master key file ${file} is corrupt (expected 64 hex characters)`);
  return { key: Buffer.from(text, 'hex'), origin: file, created: false };
}
