import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { accountKey, crlValue, parseCrl } from '@enclave/core';
import { CaService } from '../ca/ca.service';
import { DhtService } from './dht.service';

/** How often newly signed account CRLs are looked for (a revocation reaches the DHT within this). */
export const CRL_POLL_MS = 2_000;
/** Overlap of successive looks, so a CRL signed in a transaction that committed late is not missed. */
const OVERLAP_MS = 60_000;

interface Published {
  crlNumber: string;
  valueId: bigint;
  stored: boolean;
}

/**
 * Revocations reach the network: every account CRL the server signs (a device revoked, the account revoked,
 * the periodic re-signing) that revokes something is put at the account id, where Jami's devices publish
 * theirs and where peers look (an unsigned type-0 value holding the DER CRL, itself signed by the account
 * key). The put is permanent (refreshed before it expires on the storing nodes); a newer CRL replaces it.
 * Each replica's node publishes, so the CRL reaches the DHT wherever the revocation happened.
 */
@Injectable()
export class DhtRevocationsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DhtRevocationsService.name);
  private readonly published = new Map<string, Published>();
  private timer: NodeJS.Timeout | undefined;
  private since = new Date(0);
  private running: Promise<void> | undefined;

  constructor(
    private readonly dht: DhtService,
    private readonly ca: CaService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.dht.enabled) return;
    this.timer = setInterval(() => void this.publishNew(), CRL_POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Puts the account CRLs signed since the last look (and retries those no node took). */
  publishNew(): Promise<void> {
    this.running ??= this.publish().finally(() => (this.running = undefined));
    return this.running;
  }

  /** What this node publishes now: account id → CRL number. */
  publishedCrls(): Record<string, string> {
    return Object.fromEntries([...this.published].map(([k, v]) => [k, v.crlNumber]));
  }

  private async publish(): Promise<void> {
    const node = this.dht.node;
    if (!node) return;
    const lookedAt = Date.now();
    let crls;
    try {
      crls = await this.ca.accountCrlsSince(this.since);
    } catch (err) {
      this.logger.warn({ err }, 'could not read the account CRLs');
      return;
    }
    this.since = new Date(lookedAt - OVERLAP_MS);
    for (const c of crls) {
      const old = this.published.get(c.issuerKeyId);
      if (old && BigInt(old.crlNumber) >= BigInt(c.crlNumber) && old.stored) continue;
      let revoked: number;
      try {
        revoked = parseCrl(c.crlDer).revoked.size;
      } catch (err) {
        this.logger.warn({ err, accountId: c.issuerKeyId }, 'a stored account CRL does not parse');
        continue;
      }
      if (revoked === 0) continue;
      const key = accountKey(c.issuerKeyId);
      const value = crlValue(c.crlDer);
      try {
        if (old && old.valueId !== value.id) node.cancelPut(key, old.valueId);
        const put = await node.put(key, value, { permanent: true });
        const stored = put.storedOn.length > 0;
        this.published.set(c.issuerKeyId, { crlNumber: c.crlNumber, valueId: value.id, stored });
        const details = { accountId: c.issuerKeyId, crlNumber: c.crlNumber, revoked, storedOn: put.storedOn.length };
        if (stored) this.logger.log(details, 'account CRL published on the DHT');
        else this.logger.debug(details, 'account CRL not stored: no DHT node yet, will retry');
      } catch (err) {
        this.logger.warn({ err, accountId: c.issuerKeyId }, 'could not publish an account CRL on the DHT');
      }
    }
    // CRLs no node took (the network was empty) are tried again at the next look.
    for (const [accountId, p] of this.published) {
      if (p.stored || crls.some((c) => c.issuerKeyId === accountId)) continue;
      this.published.delete(accountId);
      this.since = new Date(0);
    }
  }
}
