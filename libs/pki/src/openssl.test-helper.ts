// Test support: run the openssl CLI against files in a private temporary directory.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { PkiError, PkiErrorCode } from './pki.errors';

export const OPENSSL = '/usr/bin/openssl';

export interface OpensslResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together (openssl prints verification results on either). */
  output: string;
}

export class Workdir {
  readonly path = mkdtempSync(join(tmpdir(), 'enclave-pki-'));

  file(name: string): string {
    return join(this.path, name);
  }

  write(name: string, content: string | Uint8Array): string {
    const path = this.file(name);
    writeFileSync(path, content);
    return path;
  }

  read(name: string): Buffer {
    return readFileSync(this.file(name));
  }

  readText(name: string): string {
    return readFileSync(this.file(name), 'utf8');
  }

  /** Runs openssl in this directory (file names are relative to it). */
  openssl(args: string[], input?: string | Uint8Array): OpensslResult {
    const result = spawnSync(OPENSSL, args, { cwd: this.path, input, encoding: 'buffer' });
    const stdout = result.stdout?.toString('utf8') ?? '';
    const stderr = result.stderr?.toString('utf8') ?? '';
    return { status: result.status, stdout, stderr, output: stdout + stderr };
  }

  /** Runs openssl and fails the test with its output when it exits non-zero. */
  opensslOk(args: string[], input?: string | Uint8Array): string {
    const result = this.openssl(args, input);
    assert.equal(result.status, 0, `openssl ${args.join(' ')} failed:\n${result.output}`);
    return result.stdout;
  }

  /** SHA-1 and SHA-256 of the DER SPKI of a key/certificate/CSR file, computed by openssl. */
  opensslKeyIds(file: string, kind: 'pubkey' | 'privkey' | 'cert' | 'req'): { sha1: string; sha256: string } {
    let publicPem: string;
    if (kind === 'cert') publicPem = this.opensslOk(['x509', '-in', file, '-noout', '-pubkey']);
    else if (kind === 'req') publicPem = this.opensslOk(['req', '-in', file, '-noout', '-pubkey']);
    else if (kind === 'privkey') publicPem = this.opensslOk(['pkey', '-in', file, '-pubout']);
    else publicPem = readFileSync(this.file(file), 'utf8');
    const pubFile = `${file}.spki.pem`;
    const derFile = `${file}.spki.der`;
    this.write(pubFile, publicPem);
    this.opensslOk(['pkey', '-pubin', '-in', pubFile, '-outform', 'DER', '-out', derFile]);
    const digest = (algorithm: string) => this.opensslOk(['dgst', `-${algorithm}`, '-r', derFile]).split(/\s+/)[0];
    return { sha1: digest('sha1'), sha256: digest('sha256') };
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Asserts that `promiseOrFn` fails with a PkiError of the given code (and message pattern) and returns it. */
export async function assertPkiError(
  promiseOrFn: Promise<unknown> | (() => unknown),
  code: PkiErrorCode,
  message?: RegExp,
): Promise<PkiError> {
  let error: unknown;
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (caught) {
    error = caught;
  }
  assert.ok(
    error instanceof PkiError,
    `expected PkiError ${code}, got ${error === undefined ? 'no error' : String(error)}`,
  );
  assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
  if (message) assert.match(error.message, message);
  return error;
}

export function sha(algorithm: 'sha1' | 'sha256', data: Uint8Array): string {
  return createHash(algorithm).update(data).digest('hex');
}

/** Re-wraps DER in PEM with any label. */
export function toPem(der: Uint8Array, label: string): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** DER of the first PEM block of any label. */
export function pemToDer(pem: string): Buffer {
  const body = pem.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}
