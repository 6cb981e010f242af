import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError, ErrorCode } from '../../common/app-error';
import { LoginRateLimiter } from './login-rate-limiter';

const limited = (e: unknown) => e instanceof AppError && e.code === ErrorCode.TOO_MANY_ATTEMPTS;

test('the limiter blocks after maxFailures for the window, then lets the caller try again', () => {
  let now = 1_000_000;
  const limiter = new LoginRateLimiter(3, 60, () => now);
  for (let i = 0; i < 3; i++) limiter.reserve('1.2.3.4', 'admin').fail();
  assert.throws(
    () => limiter.reserve('1.2.3.4', 'admin'),
    (e: unknown) => limited(e) && (e as AppError).headers?.['Retry-After'] === '60',
  );
  now += 61_000;
  limiter.reserve('1.2.3.4', 'admin');
});

test('attempts are reserved before the outcome is known: parallel attempts cannot exceed the limit', () => {
  const limiter = new LoginRateLimiter(5, 60, () => 0);
  let admitted = 0;
  for (let i = 0; i < 40; i++) {
    try {
      limiter.reserve('ip', 'admin'); // never settled yet, as with 40 requests in flight
      admitted++;
    } catch (e) {
      assert.ok(limited(e));
    }
  }
  assert.equal(admitted, 5);
});

test('a success gives the reservation back and clears the per-user counter', () => {
  const limiter = new LoginRateLimiter(2, 60, () => 0);
  limiter.reserve('ip', 'u').fail();
  limiter.reserve('ip', 'u').succeed();
  limiter.reserve('ip', 'u').fail();
  limiter.check('ip', 'u');
});

test('one address guessing many usernames is stopped by the per-address limit', () => {
  const limiter = new LoginRateLimiter(2, 60, () => 0);
  for (let i = 0; i < 8; i++) limiter.reserve('ip', `user${i}`).fail();
  assert.throws(() => limiter.reserve('ip', 'fresh-name'), limited);
});

test('failures on one account from many addresses back off exponentially across addresses', () => {
  let now = 0;
  const limiter = new LoginRateLimiter(3, 900, () => now);
  for (let i = 0; i < 3; i++) limiter.reserve(`10.0.0.${i}`, 'owner').fail();
  // A fourth address is held back by the per-account backoff (1 s after the last failure).
  assert.throws(() => limiter.reserve('10.0.0.99', 'owner'), limited);
  now += 1_000;
  limiter.reserve('10.0.0.99', 'owner').fail();
  now += 1_000;
  assert.throws(() => limiter.reserve('10.0.0.100', 'owner'), limited, 'the backoff doubled to 2 s');
  now += 1_000;
  limiter.reserve('10.0.0.100', 'owner').fail();
  assert.equal(limiter.retryAfter('10.0.0.101', 'owner'), 4);
  // Other accounts are not affected.
  limiter.check('10.0.0.101', 'someone-else');
});
