/**
 * Drops incoming requests over a per-source-IP budget and a global one, per one-second window (OpenDHT:
 * 1024 requests/s per IP, 8192 in total; over-limit requests are silently dropped, never answered).
 */
export interface RateLimitOptions {
  perIpPerSecond?: number;
  globalPerSecond?: number;
}

/** Most source addresses tracked at once; beyond it the table is cleared (a flood of spoofed sources). */
const MAX_TRACKED = 16_384;

export class RateLimiter {
  private readonly perIp: number;
  private readonly global: number;
  private window = 0;
  private globalCount = 0;
  private counts = new Map<string, number>();

  constructor(opts: RateLimitOptions = {}) {
    this.perIp = opts.perIpPerSecond ?? 1024;
    this.global = opts.globalPerSecond ?? 8192;
  }

  allow(ip: string, now = Date.now()): boolean {
    const window = Math.floor(now / 1000);
    if (window !== this.window || this.counts.size > MAX_TRACKED) {
      this.window = window;
      this.globalCount = 0;
      this.counts.clear();
    }
    const count = (this.counts.get(ip) ?? 0) + 1;
    if (count > this.perIp || this.globalCount >= this.global) return false;
    this.counts.set(ip, count);
    this.globalCount++;
    return true;
  }
}
