import { PkiError, PkiErrorCode } from './pki.errors';

export interface PemBlock {
  label: string;
  der: Buffer;
}

interface DecodePemOptions {
  /** Human name of the expected object, used in messages ("CSR", "CA certificate"...). */
  what: string;
  /** Accepted labels ("CERTIFICATE", "PRIVATE KEY"...). */
  labels: readonly string[];
  /** Error code thrown on any problem. */
  code: PkiErrorCode;
  /**
   * Strict: only whitespace may surround the single PEM block (CSRs from clients).
   * Lenient: explanatory text outside blocks is ignored, as RFC 7468 allows (files made by tools).
   */
  strict?: boolean;
}

const BEGIN = /^-----BEGIN ([A-Z0-9][A-Z0-9 ]*[A-Z0-9])-----$/;
const END = /^-----END ([A-Z0-9][A-Z0-9 ]*[A-Z0-9])-----$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes exactly one PEM block with one of the accepted labels. Tolerates CRLF line ends and surrounding
 * whitespace; rejects bad base64, encapsulated headers (legacy encrypted keys), several blocks, and
 * (in strict mode) any other text.
 */
export function decodeSinglePem(text: unknown, options: DecodePemOptions): PemBlock {
  const { what, labels, code } = options;
  const fail = (problem: string): never => {
    throw new PkiError(code, `${what} ${problem}`);
  };
  if (typeof text !== 'string') return fail('must be a PEM string');

  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: { label: string; body: string[] }[] = [];
  let current: { label: string; body: string[] } | null = null;
  for (const rawLine of lines) {
    const line = rawLine.trim();
    if (current === null) {
      const begin = BEGIN.exec(line);
      if (begin) {
        current = { label: begin[1], body: [] };
      } else if (line !== '' && options.strict) {
        return fail(
          blocks.length > 0 ? 'has unexpected text after the PEM block' : 'has unexpected text before the PEM block',
        );
      }
      continue;
    }
    const end = END.exec(line);
    if (end) {
      if (end[1] !== current.label) {
        return fail(`PEM block "BEGIN ${current.label}" is closed by "END ${end[1]}"`);
      }
      blocks.push(current);
      current = null;
      continue;
    }
    if (line.includes(':')) {
      return fail('PEM block has encapsulated headers (a legacy encrypted PEM?); an unencrypted PEM is required');
    }
    current.body.push(line);
  }
  if (current !== null) return fail(`PEM block "BEGIN ${current.label}" has no END line`);
  if (blocks.length === 0) return fail('is not PEM: no "-----BEGIN ...-----" line found');
  if (blocks.length > 1) return fail(`must contain exactly one PEM block; found ${blocks.length}`);

  const [block] = blocks;
  if (!labels.includes(block.label)) {
    const expected = labels.map((label) => `"${label}"`).join(' or ');
    return fail(`has PEM label "${block.label}"; expected ${expected}`);
  }
  const base64 = block.body.join('');
  if (base64.length === 0 || base64.length % 4 !== 0 || !BASE64.test(base64)) {
    return fail('PEM body is not valid base64');
  }
  return { label: block.label, der: Buffer.from(base64, 'base64') };
}

export function encodePem(der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
