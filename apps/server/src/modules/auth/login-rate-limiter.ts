import { AppError, ErrorCode } from '../../common/app-error';

interface Window {
  failures: number;
  resetAt: number;
}

/**
 * Counts failed logins per (client address, username) and per client address within a window; past
 * the limit, logins are refused with 429 and Retry-After until the window ends. In memory: the HTTP
 * server is one process.
 */
export class LoginRateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  private keys(ip: string, username: string): [string, number][] {
    return [
      [`u:${ip}|${username.toLowerCase()}`, this.maxFailures],
      [`a:${ip}`, this.maxFailures * 4],
    ];
  }

  /** Throws TOO_MANY_ATTEMPTS when the caller is over a limit. */
  check(ip: string, username: string): void {
    const t = this.now();
    for (const [key, limit] of this.keys(ip, username)) {
      const w = this.windows.get(key);
      if (w && w.resetAt <= t) this.windows.delete(key);
      else if (w && w.failures >= limit) {
        const retryAfter = Math.ceil((w.resetAt - t) / 1000);
        throw new AppError(
          ErrorCode.TOO_MANY_ATTEMPTS,
          `Too many failed logins; try again in ${retryAfter} s`,
          { retryAfterSeconds: retryAfter },
          { headers: { 'Retry-After': String(retryAfter) } },
        );
      }
    }
  }

  fail(ip: string, username: string): void {
    const t = this.now();
    for (const [key] of this.keys(ip, username)) {
      const w = this.windows.get(key);
      if (!w || w.resetAt <= t) this.windows.set(key, { failures: 1, resetAt: t + this.windowSeconds * 1000 });
      else w.failures++;
    }
    if (this.windows.size > 100_000) this.sweep(t);
  }

  succeed(ip: string, username: string): void {
    this.windows.delete(this.keys(ip, username)[0][0]);
  }

  private sweep(t: number): void {
    for (const [k, w] of this.windows) if (w.resetAt <= t) this.windows.delete(k);
  }
}
