import { randomBytes } from 'node:crypto';

const SERIAL_BYTES = 16;

/** 16 random bytes, top bit cleared and first byte non-zero: a positive INTEGER with a minimal encoding. */
export function randomSerialNumber(): Buffer {
  for (;;) {
    const bytes = randomBytes(SERIAL_BYTES);
    bytes[0] &= 0x7f;
    if (bytes[0] !== 0) return bytes;
  }
}

/** Lowercase hex of an INTEGER's content octets, without the 00 octets that only mark the value positive. */
export function serialHex(integerContent: Uint8Array): string {
  let start = 0;
  while (start < integerContent.length - 1 && integerContent[start] === 0) start++;
  return Buffer.from(integerContent.subarray(start)).toString('hex');
}

export const SERIAL_HEX_PATTERN = /^[0-9a-fA-F]{1,40}$/;

/** INTEGER content octets for a positive serial given as hex (odd lengths allowed, leading zeros ignored). */
export function serialIntegerBytes(hex: string): Buffer {
  const even = hex.length % 2 === 1 ? `0${hex}` : hex;
  const bytes = Buffer.from(even, 'hex');
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const minimal = bytes.subarray(start);
  return minimal[0] & 0x80 ? Buffer.concat([Buffer.from([0]), minimal]) : Buffer.from(minimal);
}

/** Canonical form used across the API: lowercase, no leading zero octets. */
export function normalizeSerialHex(hex: string): string {
  return serialHex(serialIntegerBytes(hex));
}
