import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Endpoint, ipToBytes } from './address';

/**
 * Write tokens, as OpenDHT issues them: SHA-256(secret ‖ IP ‖ port). The secret rotates every 15–45 minutes
 * and the previous one stays valid, so a token lives between 15 and 90 minutes. A put, listen or refresh
 * must echo a token this node issued to the same IP and port.
 */
export class TokenIssuer {
  private secret = randomBytes(8);
  private previous = randomBytes(8);
  private rotateAt: number;

  constructor(now = Date.now()) {
    this.rotateAt = now + TokenIssuer.nextPeriod();
  }

  private static nextPeriod(): number {
    return (15 + Math.random() * 30) * 60_000;
  }

  private compute(secret: Buffer, e: Endpoint): Buffer {
    const port = Buffer.alloc(2);
    port.writeUInt16BE(e.port);
    return createHash('sha256').update(secret).update(ipToBytes(e.host)).update(port).digest();
  }

  issue(e: Endpoint): Buffer {
    return this.compute(this.secret, e);
  }

  check(token: Buffer | undefined, e: Endpoint): boolean {
    if (!token || token.length !== 32) return false;
    return [this.secret, this.previous].some((s) => timingSafeEqual(this.compute(s, e), token));
  }

  /** Rotates the secret when its time has come. */
  maintain(now = Date.now()): void {
    if (now < this.rotateAt) return;
    this.previous = this.secret;
    this.secret = randomBytes(8);
    this.rotateAt = now + TokenIssuer.nextPeriod();
  }
}
