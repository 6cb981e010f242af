import assert from 'node:assert/strict';
import { test } from 'node:test';
import { base32Decode, base32Encode, matchTotp, otpauthUri, totp, TotpAlgorithm } from './totp';

// RFC 6238 Appendix B: seeds are the ASCII string "1234567890" repeated to the hash's key length.
const seed = (len: number) => Buffer.from('1234567890'.repeat(7).slice(0, len), 'ascii');
const SEEDS: Record<TotpAlgorithm, Buffer> = { sha1: seed(20), sha256: seed(32), sha512: seed(64) };
const VECTORS: [number, string, TotpAlgorithm][] = [
  [59, '94287082', 'sha1'],
  [59, '46119246', 'sha256'],
  [59, '90693936', 'sha512'],
  [1111111109, '07081804', 'sha1'],
  [1111111109, '68084774', 'sha256'],
  [1111111109, '25091201', 'sha512'],
  [1111111111, '14050471', 'sha1'],
  [1111111111, '67062674', 'sha256'],
  [1111111111, '99943326', 'sha512'],
  [1234567890, '89005924', 'sha1'],
  [1234567890, '91819424', 'sha256'],
  [1234567890, '93441116', 'sha512'],
  [2000000000, '69279037', 'sha1'],
  [2000000000, '90698825', 'sha256'],
  [2000000000, '38618901', 'sha512'],
  [20000000000, '65353130', 'sha1'],
  [20000000000, '77737706', 'sha256'],
  [20000000000, '47863826', 'sha512'],
];

test('TOTP matches every RFC 6238 Appendix B test vector (8 digits, 30 s steps)', () => {
  for (const [time, expected, algorithm] of VECTORS) {
    assert.equal(totp(SEEDS[algorithm], time, { digits: 8, algorithm }), expected, `${algorithm} at T=${time}`);
  }
});

test('the 6-digit code is the last six digits of the RFC value, accepted within ±1 step only', () => {
  const secret = SEEDS.sha1;
  assert.equal(totp(secret, 59), '287082');
  assert.equal(matchTotp(secret, '287082', 59), 1);
  assert.equal(matchTotp(secret, '287082', 59 + 30), 1, 'one step late is accepted');
  assert.equal(matchTotp(secret, '287082', 59 - 30), 1, 'one step early is accepted');
  assert.equal(matchTotp(secret, '287082', 59 + 60), null, 'two steps late is refused');
  assert.equal(matchTotp(secret, '287083', 59), null);
  assert.equal(matchTotp(secret, '28708', 59), null);
  assert.equal(matchTotp(secret, 'abcdef', 59), null);
});

test('a code whose step was already used is refused (no replay within the window)', () => {
  const secret = SEEDS.sha1;
  const code = totp(secret, 1234567890);
  const step = matchTotp(secret, code, 1234567890);
  assert.ok(step !== null);
  assert.equal(matchTotp(secret, code, 1234567890, step), null);
  const next = totp(secret, 1234567890 + 30);
  assert.equal(matchTotp(secret, next, 1234567890 + 30, step), step + 1);
});

test('base32 round-trips and the otpauth URI carries the secret', () => {
  const secret = Buffer.from('12345678901234567890');
  assert.equal(base32Encode(secret), 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  assert.deepEqual(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'), secret);
  const uri = new URL(otpauthUri(secret, 'Example Corp', 'alice'));
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.searchParams.get('secret'), 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  assert.equal(uri.searchParams.get('period'), '30');
});
