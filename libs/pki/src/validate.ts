import { isIPv4, isIPv6 } from 'node:net';
import { KEY_ALGORITHMS } from './keys';
import { PkiError, PkiErrorCode } from './pki.errors';
import { normalizeSerialHex, SERIAL_HEX_PATTERN } from './serial-number';

// Shape and range checks for every options object of libs/pki. Each validator collects all problems and
// throws one PkiError(CONFIG_INVALID) whose details.problems lists them; the issuing functions call the
// matching validator first. Content checks (does the key match, is the CA expired...) happen later with
// their own error codes.

export const MAX_VALIDITY_DAYS = 36_500;
export const MAX_NAME_LENGTH = 64;
export const MAX_HOSTNAMES = 100;
export const MAX_OCSP_NEXT_UPDATE_SECONDS = 7 * 86_400;
export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'caCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
] as const;
export const USERNAME_PATTERN = /^[a-z0-9_-]{3,32}$/;
const KEY_ID_PATTERN = /^[0-9a-fA-F]{40}$/;
// RFC 5280 caps the CRL number at 20 octets; as a positive DER INTEGER that is below 2^159.
const MAX_CRL_NUMBER = 2n ** 159n;

type Options = Record<string, unknown>;

class Checker {
  readonly problems: string[] = [];

  constructor(readonly options: Options) {}

  add(problem: string): void {
    this.problems.push(problem);
  }

  /** Required unless `optional`; when present must pass. */
  check(key: string, optional: boolean, valid: (value: unknown) => boolean, problem: string): void {
    const value = this.options[key];
    if (value === undefined && optional) return;
    if (!valid(value)) this.add(problem);
  }

  name(key: string, optional: boolean): void {
    this.check(key, optional, isName, `${key} must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`);
    const value = this.options[key];
    if (typeof value === 'string' && hasControlCharacters(value))
      this.add(`${key} must not contain control characters`);
  }

  validityDays(): void {
    this.check(
      'validityDays',
      true,
      (value) => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_VALIDITY_DAYS,
      `validityDays must be an integer between 1 and ${MAX_VALIDITY_DAYS}`,
    );
  }

  date(key: string, optional: boolean): void {
    this.check(key, optional, isValidDate, `${key} must be a valid Date`);
  }

  url(key: string): void {
    this.check(key, true, isHttpUrl, `${key} must be an http(s) URL`);
  }

  keyAlgorithm(): void {
    this.check(
      'algorithm',
      true,
      (value) => KEY_ALGORITHMS.includes(value as never),
      `algorithm must be one of ${KEY_ALGORITHMS.join(', ')}`,
    );
  }

  pem(key: string, optional = false): void {
    this.check(key, optional, isPemString, `${key} must be a PEM string`);
  }

  pemPair(key: string, fields: readonly [string, string]): void {
    const value = this.options[key];
    if (!isPlainObject(value)) {
      this.add(`${key} must be an object with ${fields[0]} and ${fields[1]}`);
      return;
    }
    for (const field of fields) {
      if (!isPemString(value[field])) this.add(`${key}.${field} must be a PEM string`);
    }
  }

  signer(key: string): void {
    this.pemPair(key, ['certificatePem', 'privateKeyPem']);
  }

  done(): void {
    if (this.problems.length > 0) throw configError(this.problems);
  }
}

// Unknown keys are ignored, as TypeScript's structural typing does: callers may pass richer objects
// (e.g. a CertificateAuthority spread into importCertificateAuthority options).
function start(options: unknown): Checker {
  if (!isPlainObject(options)) throw configError(['options must be an object']);
  return new Checker(options);
}

function configError(problems: string[]): PkiError {
  return new PkiError(PkiErrorCode.CONFIG_INVALID, `Invalid options: ${problems.join('; ')}`, { problems });
}

export function validateCaOptions(options: unknown): void {
  const c = start(options);
  c.name('commonName', false);
  c.name('organization', true);
  c.keyAlgorithm();
  c.validityDays();
  c.date('now', true);
  c.done();
}

export function validateCaImportOptions(options: unknown): void {
  const c = start(options);
  c.pem('certificatePem');
  c.pem('privateKeyPem');
  c.date('now', true);
  c.done();
}

export function validateServerCertificateOptions(options: unknown): void {
  const c = start(options);
  c.signer('ca');
  checkHostnames(c);
  c.validityDays();
  c.date('now', true);
  c.keyAlgorithm();
  c.done();
}

export function validateAccountCertificateOptions(options: unknown): void {
  const c = start(options);
  c.signer('ca');
  c.check(
    'username',
    false,
    (value) => typeof value === 'string' && USERNAME_PATTERN.test(value),
    'username must match [a-z0-9_-]{3,32}',
  );
  c.name('organization', true);
  c.pemPair('accountKey', ['publicKeyPem', 'privateKeyPem']);
  c.validityDays();
  c.date('now', true);
  c.url('crlUrl');
  c.url('ocspUrl');
  c.done();
}

export function validateDeviceCertificateOptions(options: unknown): void {
  const c = start(options);
  c.signer('account');
  c.check(
    'csrPem',
    false,
    (value) => typeof value === 'string' && value.trim() !== '',
    'csrPem must be a non-empty string',
  );
  c.check(
    'forbiddenKeyIds',
    true,
    (value) => Array.isArray(value) && value.every((id) => typeof id === 'string' && KEY_ID_PATTERN.test(id)),
    'forbiddenKeyIds must be an array of 40-digit hex key IDs',
  );
  c.validityDays();
  c.date('now', true);
  c.url('crlUrl');
  c.url('ocspUrl');
  c.check(
    'deviceName',
    true,
    (value) => typeof value === 'string' && value.length >= 1 && value.length <= 255 && !hasControlCharacters(value),
    'deviceName must be a string of 1 to 255 characters without control characters',
  );
  c.done();
}

export function validateCrlOptions(options: unknown): void {
  const c = start(options);
  c.signer('issuer');
  const { crlNumber, entries, thisUpdate, nextUpdate } = c.options;
  const number =
    typeof crlNumber === 'bigint' ? crlNumber : Number.isSafeInteger(crlNumber) ? BigInt(crlNumber as number) : null;
  if (number === null || number < 0n) c.add('crlNumber must be a non-negative integer');
  else if (number >= MAX_CRL_NUMBER) c.add('crlNumber must be below 2^159 (at most 20 octets)');
  if (!Array.isArray(entries)) {
    c.add('entries must be an array');
  } else {
    const seen = new Set<string>();
    entries.forEach((entry: unknown, index) => {
      const at = `entries[${index}]`;
      if (!isPlainObject(entry)) {
        c.add(`${at} must be an object with serialNumber and revocationDate`);
        return;
      }
      const { serialNumber, revocationDate, reason } = entry;
      if (typeof serialNumber !== 'string' || !SERIAL_HEX_PATTERN.test(serialNumber) || /^0+$/.test(serialNumber)) {
        c.add(`${at}.serialNumber must be a positive hex serial number of 1 to 40 digits`);
      } else {
        const normalized = normalizeSerialHex(serialNumber);
        if (seen.has(normalized)) c.add(`entries list serial number ${normalized} more than once`);
        seen.add(normalized);
      }
      if (!isValidDate(revocationDate)) c.add(`${at}.revocationDate must be a valid Date`);
      if (reason !== undefined && !REVOCATION_REASONS.includes(reason as never)) {
        c.add(`${at}.reason must be one of ${REVOCATION_REASONS.join(', ')}`);
      }
    });
  }
  c.date('thisUpdate', true);
  c.date('nextUpdate', false);
  if (isValidDate(nextUpdate) && (thisUpdate === undefined || isValidDate(thisUpdate))) {
    const from = thisUpdate === undefined ? Date.now() : thisUpdate.getTime();
    if (nextUpdate.getTime() <= from) c.add('nextUpdate must be after thisUpdate');
  }
  c.done();
}

export function validateOcspResponderOptions(options: unknown): void {
  const c = start(options);
  c.check('requestDer', false, (value) => value instanceof Uint8Array, 'requestDer must be a Buffer or Uint8Array');
  c.check('lookup', false, (value) => typeof value === 'function', 'lookup must be a function');
  c.date('now', true);
  c.check(
    'nextUpdateSeconds',
    true,
    (value) => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_OCSP_NEXT_UPDATE_SECONDS,
    `nextUpdateSeconds must be an integer between 1 and ${MAX_OCSP_NEXT_UPDATE_SECONDS}`,
  );
  c.check('onError', true, (value) => typeof value === 'function', 'onError must be a function');
  c.done();
}

function checkHostnames(c: Checker): void {
  const { hostnames } = c.options;
  if (!Array.isArray(hostnames) || hostnames.length === 0) {
    c.add('hostnames must contain at least one DNS name or IP address');
    return;
  }
  if (hostnames.length > MAX_HOSTNAMES) c.add(`hostnames must contain at most ${MAX_HOSTNAMES} entries`);
  hostnames.forEach((hostname: unknown, index) => {
    if (typeof hostname !== 'string' || !(isDnsName(hostname) || isIPv4(hostname) || isIPv6(hostname))) {
      c.add(`hostnames[${index}] must be a DNS name or an IPv4/IPv6 address, got ${JSON.stringify(hostname)}`);
    }
  });
  if (typeof hostnames[0] === 'string' && hostnames[0].length > MAX_NAME_LENGTH) {
    c.add(`hostnames[0] must be at most ${MAX_NAME_LENGTH} characters (it becomes the subject CN)`);
  }
}

const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** LDH host name, optionally with a leading "*." wildcard label; at most 253 characters; not all-numeric TLD. */
export function isDnsName(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  const labels = value.split('.');
  if (labels[0] === '*' && labels.length > 1) labels.shift();
  if (!labels.every((label) => DNS_LABEL.test(label))) return false;
  return !/^[0-9]+$/.test(labels[labels.length - 1]);
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0 && value.length <= MAX_NAME_LENGTH;
}

function isPemString(value: unknown): value is string {
  return typeof value === 'string' && value.includes('-----BEGIN ');
}

export function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

function isHttpUrl(value: unknown): boolean {
  // Printable ASCII only: the URL goes into an IA5String as given.
  if (typeof value !== 'string' || !/^[\x21-\x7e]+$/.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function hasControlCharacters(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function isPlainObject(value: unknown): value is Options {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function validateReissueOptions(options: unknown): void {
  const c = start(options);
  c.pem('certificatePem');
  c.signer('issuer');
  c.validityDays();
  c.date('notAfter', true);
  c.date('now', true);
  c.url('crlUrl');
  c.url('ocspUrl');
  c.done();
}
