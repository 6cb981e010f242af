import { createHmac, randomBytes } from 'node:crypto';

/** RFC 6238 TOTP (HOTP, RFC 4226, over 30-second steps) with node:crypto; SHA-1 and 6 digits for authenticator apps. */

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

export interface TotpOptions {
  digits?: number;
  stepSeconds?: number;
  algorithm?: TotpAlgorithm;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(data: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const idx = BASE32.indexOf(ch);
    if (idx < 0) throw new Error('not base32');
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** HOTP value for one counter (RFC 4226 §5.3 dynamic truncation). */
export function hotp(secret: Buffer, counter: number, digits = 6, algorithm: TotpAlgorithm = 'sha1'): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, secret).update(msg).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(binary).padStart(digits, '0');
}

export const totpStep = (unixSeconds: number, stepSeconds = 30): number => Math.floor(unixSeconds / stepSeconds);

export function totp(secret: Buffer, unixSeconds: number, opts: TotpOptions = {}): string {
  return hotp(secret, totpStep(unixSeconds, opts.stepSeconds), opts.digits ?? 6, opts.algorithm ?? 'sha1');
}

/**
 * The time step a code matches within ±1 step of now, or null. Steps at or below `lastUsedStep` are not
 * accepted, so a code cannot be replayed within its window.
 */
export function matchTotp(
  secret: Buffer,
  code: string,
  unixSeconds: number,
  lastUsedStep: number | null = null,
  opts: TotpOptions = {},
): number | null {
  const digits = opts.digits ?? 6;
  if (!new RegExp(`^\\d{${digits}}$`).test(code)) return null;
  const now = totpStep(unixSeconds, opts.stepSeconds);
  let found: number | null = null;
  for (const step of [now - 1, now, now + 1]) {
    if (step < 0) continue;
    // Compare every candidate (no early exit) so timing does not reveal which step matched.
    if (
      hotp(secret, step, digits, opts.algorithm ?? 'sha1') === code &&
      (lastUsedStep === null || step > lastUsedStep)
    ) {
      found ??= step;
    }
  }
  return found;
}

/** A new 160-bit secret (RFC 4226 recommends at least 128 bits; SHA-1 keys are 20 bytes). */
export const newTotpSecret = (): Buffer => randomBytes(20);

export function otpauthUri(secret: Buffer, issuer: string, account: string): string {
  const label = encodeURIComponent(`${issuer}:${account}`);
  const params = new URLSearchParams({
    secret: base32Encode(secret),
    issuer,
    algorithm: 'SHA1',
    digits: '6',
    period: '30',
  });
  return `otpauth://totp/${label}?${params.toString()}`;
}
