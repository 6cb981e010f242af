import { AppError, ErrorCode } from '../../common/app-error';

interface Bucket {
  failures: number;
  /** Time of the last counted attempt (for the per-account backoff). */
  lastAt: number;
  resetAt: number;
}

/** A counted login attempt: it stays a failure unless succeed() is called. */
export interface LoginAttempt {
  succeed(): void;
  fail(): void;
}

/**
 * Login brute-force limits, in memory (the HTTP server is one process):
 * - per (client address, username): `maxFailures` within the window;
 * - per client address: `4 × maxFailures` within the window (one address guessing many names);
 * - per account, across addresses: past `maxFailures`, each further attempt must wait an exponential
 *   backoff after the previous one (1 s, 2 s, 4 s … capped at the window), so a distributed guess slows
 *   down while the account's owner is only briefly delayed.
 * An attempt is reserved (counted as a failure) BEFORE the password is checked, so parallel requests
 * cannot slip past the limit; a successful login gives the reservation back.
 */
export class LoginRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  private pairKey = (ip: string, username: string) => `u:${ip}|${username.toLowerCase()}`;
  private ipKey = (ip: string) => `a:${ip}`;
  private accountKey = (username: string) => `n:${username.toLowerCase()}`;

  private live(key: string, t: number): Bucket | undefined {
    const b = this.buckets.get(key);
    if (b && b.resetAt <= t) {
      this.buckets.delete(key);
      return undefined;
    }
    return b;
  }

  /** Seconds until the caller may try again, or 0 when not limited. */
  retryAfter(ip: string, username: string): number {
    const t = this.now();
    let until = 0;
    const pair = this.live(this.pairKey(ip, username), t);
    if (pair && pair.failures >= this.maxFailures) until = Math.max(until, pair.resetAt);
    const addr = this.live(this.ipKey(ip), t);
    if (addr && addr.failures >= this.maxFailures * 4) until = Math.max(until, addr.resetAt);
    const account = this.live(this.accountKey(username), t);
    if (account && account.failures >= this.maxFailures) {
      const backoff = Math.min(this.windowSeconds * 1000, 1000 * 2 ** (account.failures - this.maxFailures));
      if (account.lastAt + backoff > t) until = Math.max(until, account.lastAt + backoff);
    }
    return until > t ? Math.ceil((until - t) / 1000) : 0;
  }

  /** Throws TOO_MANY_ATTEMPTS when the caller is over a limit. */
  check(ip: string, username: string): void {
    const retryAfter = this.retryAfter(ip, username);
    if (retryAfter > 0) throw tooManyAttempts(retryAfter);
  }

  /** Checks the limits and counts the attempt as a failure now; succeed() takes it back. */
  reserve(ip: string, username: string): LoginAttempt {
    this.check(ip, username);
    this.count(ip, username);
    let settled = false;
    return {
      succeed: () => {
        if (settled) return;
        settled = true;
        this.forgive(ip, username);
        const addr = this.buckets.get(this.ipKey(ip));
        if (addr && addr.failures > 0) addr.failures--;
      },
      fail: () => {
        settled = true;
      },
    };
  }

  /** Counts a failure without a reservation (a refused attempt that bypassed the limits). */
  count(ip: string, username: string): void {
    const t = this.now();
    for (const key of [this.pairKey(ip, username), this.ipKey(ip), this.accountKey(username)]) {
      const b = this.live(key, t);
      if (!b) this.buckets.set(key, { failures: 1, lastAt: t, resetAt: t + this.windowSeconds * 1000 });
      else {
        b.failures++;
        b.lastAt = t;
        // The per-account backoff lasts a window after the latest failure.
        if (key.startsWith('n:')) b.resetAt = t + this.windowSeconds * 1000;
      }
    }
    if (this.buckets.size > 100_000) this.sweep(t);
  }

  /** A successful login clears the per-(address, name) and per-account counters. */
  forgive(ip: string, username: string): void {
    this.buckets.delete(this.pairKey(ip, username));
    this.buckets.delete(this.accountKey(username));
  }

  /** Check-then-count API (JAMS user login): a failure observed after the check. Prefer reserve(). */
  fail(ip: string, username: string): void {
    this.count(ip, username);
  }

  /** Check-then-count API: a success observed after the check. */
  succeed(ip: string, username: string): void {
    this.forgive(ip, username);
  }

  private sweep(t: number): void {
    for (const [k, b] of this.buckets) if (b.resetAt <= t) this.buckets.delete(k);
  }
}

export function tooManyAttempts(retryAfter: number): AppError {
  return new AppError(
    ErrorCode.TOO_MANY_ATTEMPTS,
    `Too many failed logins; try again in ${retryAfter} s`,
    { retryAfterSeconds: retryAfter },
    { headers: { 'Retry-After': String(retryAfter) } },
  );
}
