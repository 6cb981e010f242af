import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError, ErrorCode } from '../../common/app-error';
import { LoginRateLimiter } from './login-rate-limiter';

test('the limiter blocks after maxFailures for the window, then lets the caller try again', () => {
  let now = 1_000_000;
  const limiter = new LoginRateLimiter(3, 60, () => now);
  for (let i = 0; i < 3; i++) {
    limiter.check('1.2.3.4', 'admin');
    limiter.fail('1.2.3.4', 'admin');
  }
  assert.throws(
    () => limiter.check('1.2.3.4', 'admin'),
    (e: unknown) =>
      e instanceof AppError && e.code === ErrorCode.TOO_MANY_ATTEMPTS && e.headers?.['Retry-After'] === '60',
  );
  // Another address is not affected.
  limiter.check('5.6.7.8', 'admin');
  now += 61_000;
  limiter.check('1.2.3.4', 'admin');
});

test('a success clears the per-user counter', () => {
  const limiter = new LoginRateLimiter(2, 60, () => 0);
  limiter.fail('ip', 'u');
  limiter.succeed('ip', 'u');
  limiter.fail('ip', 'u');
  limiter.check('ip', 'u');
});

test('one address guessing many usernames is stopped by the per-address limit', () => {
  const limiter = new LoginRateLimiter(2, 60, () => 0);
  for (let i = 0; i < 8; i++) limiter.fail('ip', `user${i}`);
  assert.throws(() => limiter.check('ip', 'fresh-name'), AppError);
});
