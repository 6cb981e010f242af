import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DeviceIdentityFiles, PolicyData } from '@enclave/core';
import { AgentError, ExitCode } from './agent.errors';
import { AgentConfig } from './state-store';

/**
 * The identity backup, in the spirit of Jami's archive.gz: the device key, chain, receipt, policy and agent
 * settings as gzipped JSON, encrypted with AES-256-GCM under a key derived from a passphrase (scrypt).
 * Layout: "ENCLARC1" ‖ salt(16) ‖ iv(12) ‖ ciphertext ‖ tag(16); the magic and salt are authenticated too.
 */

const MAGIC = Buffer.from('ENCLARC1', 'latin1');
const SALT_LEN = 16;
const IV_LEN = 12;
const TAG_LEN = 16;
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export interface ArchiveContent {
  version: 1;
  createdAt: string;
  config: AgentConfig;
  /** The device key, unencrypted inside the encrypted archive. */
  identity: DeviceIdentityFiles;
  policy: PolicyData;
  serverCa?: string;
}

const deriveKey = (passphrase: string, salt: Buffer) => scryptSync(passphrase.normalize('NFC'), salt, 32, SCRYPT);

export function sealArchive(content: ArchiveContent, passphrase: string): Buffer {
  const salt = randomBytes(SALT_LEN);
  const iv = randomBytes(IV_LEN);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(passphrase, salt), iv);
  cipher.setAAD(Buffer.concat([MAGIC, salt]));
  const body = Buffer.concat([cipher.update(gzipSync(Buffer.from(JSON.stringify(content)))), cipher.final()]);
  return Buffer.concat([MAGIC, salt, iv, body, cipher.getAuthTag()]);
}

export function openArchive(data: Buffer, passphrase: string): ArchiveContent {
  if (data.length < MAGIC.length + SALT_LEN + IV_LEN + TAG_LEN || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new AgentError(ExitCode.STATE, 'this file is not an enclave-agent backup');
  }
  const salt = data.subarray(MAGIC.length, MAGIC.length + SALT_LEN);
  const iv = data.subarray(MAGIC.length + SALT_LEN, MAGIC.length + SALT_LEN + IV_LEN);
  const body = data.subarray(MAGIC.length + SALT_LEN + IV_LEN, data.length - TAG_LEN);
  const decipher = createDecipheriv('aes-256-gcm', deriveKey(passphrase, salt), iv);
  decipher.setAAD(Buffer.concat([MAGIC, salt]));
  decipher.setAuthTag(data.subarray(data.length - TAG_LEN));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new AgentError(ExitCode.PASSPHRASE, 'wrong passphrase, or the backup is damaged');
  }
  const content = JSON.parse(gunzipSync(plain).toString('utf8')) as ArchiveContent;
  if (content.version !== 1 || !content.identity?.privateKeyPem || !content.config?.server) {
    throw new AgentError(ExitCode.STATE, 'unsupported backup version');
  }
  return content;
}
