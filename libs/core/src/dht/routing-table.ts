import { Endpoint, endpointKey } from './address';
import { commonPrefixBits, compareDistance, HASH_LEN } from './info-hash';

/**
 * Kademlia routing table: one bucket per length of the prefix a node id shares with ours (0…159), each
 * holding at most `bucketSize` (8) nodes. Long-lived nodes are kept in preference to new ones: a full bucket
 * only takes a newcomer in place of a node that stopped answering.
 */

export interface NodeEntry extends Endpoint {
  id: Buffer;
  /** Last time we received anything from it (ms). */
  lastSeen: number;
  /** Last time it answered one of our requests (ms), 0 if never. */
  lastReply: number;
  /** Requests that timed out since its last reply. */
  failures: number;
}

/** What callers see of a node. */
export interface NodeInfo extends Endpoint {
  id: Buffer;
  /** Answered within the last 2 hours and not currently failing. */
  good: boolean;
  lastSeen: number;
  lastReply?: number;
}

export interface RoutingTableOptions {
  bucketSize?: number;
}

/** A node is good while it answered within this time and has not missed MAX_FAILURES requests in a row. */
export const NODE_GOOD_TIME_MS = 2 * 60 * 60_000;
/** A node heard from but silent this long (and never answering) can be replaced. */
export const NODE_EXPIRE_TIME_MS = 10 * 60_000;
export const MAX_FAILURES = 3;

export class RoutingTable {
  private readonly buckets: NodeEntry[][] = Array.from({ length: HASH_LEN * 8 }, () => []);
  private readonly byEndpoint = new Map<string, NodeEntry>();
  private readonly bucketSize: number;

  constructor(
    private readonly ownId: Buffer,
    opts: RoutingTableOptions = {},
  ) {
    this.bucketSize = opts.bucketSize ?? 8;
  }

  get size(): number {
    return this.byEndpoint.size;
  }

  isGood(n: NodeEntry, now = Date.now()): boolean {
    return n.lastReply > 0 && now - n.lastReply < NODE_GOOD_TIME_MS && n.failures < MAX_FAILURES;
  }

  private isBad(n: NodeEntry, now: number): boolean {
    if (n.failures >= MAX_FAILURES) return true;
    return n.lastReply === 0 ? now - n.lastSeen > NODE_EXPIRE_TIME_MS : now - n.lastReply > NODE_GOOD_TIME_MS;
  }

  private bucketOf(id: Buffer): NodeEntry[] {
    return this.buckets[Math.min(commonPrefixBits(this.ownId, id), this.buckets.length - 1)];
  }

  find(id: Buffer): NodeEntry | undefined {
    return this.bucketOf(id).find((n) => n.id.equals(id));
  }

  findByEndpoint(e: Endpoint): NodeEntry | undefined {
    return this.byEndpoint.get(endpointKey(e));
  }

  /**
   * Records a message from a node (`replied`: it answered one of our requests). A node that comes back
   * from the same address with a new id replaces its old entry. Returns the entry, or undefined when the
   * node is us or its bucket is full of working nodes.
   */
  heardFrom(id: Buffer, e: Endpoint, replied: boolean, now = Date.now()): NodeEntry | undefined {
    if (id.equals(this.ownId)) return undefined;
    const bucket = this.bucketOf(id);
    let entry = bucket.find((n) => n.id.equals(id));
    const sameAddress = this.byEndpoint.get(endpointKey(e));
    if (sameAddress && sameAddress !== entry) this.remove(sameAddress.id);
    if (!entry) {
      if (bucket.length >= this.bucketSize) {
        const victim = bucket.find((n) => this.isBad(n, now));
        if (!victim) return undefined;
        this.remove(victim.id);
      }
      entry = { id: Buffer.from(id), host: e.host, port: e.port, lastSeen: now, lastReply: 0, failures: 0 };
      bucket.push(entry);
    } else if (entry.host !== e.host || entry.port !== e.port) {
      this.byEndpoint.delete(endpointKey(entry));
      entry.host = e.host;
      entry.port = e.port;
    }
    this.byEndpoint.set(endpointKey(entry), entry);
    entry.lastSeen = now;
    if (replied) {
      entry.lastReply = now;
      entry.failures = 0;
    }
    return entry;
  }

  /** A request to this node timed out. */
  failed(id: Buffer): void {
    const entry = this.find(id);
    if (entry) entry.failures++;
  }

  remove(id: Buffer): void {
    const bucket = this.bucketOf(id);
    const i = bucket.findIndex((n) => n.id.equals(id));
    if (i < 0) return;
    const [entry] = bucket.splice(i, 1);
    if (this.byEndpoint.get(endpointKey(entry)) === entry) this.byEndpoint.delete(endpointKey(entry));
  }

  /** The `count` known nodes closest to target, skipping failing ones. */
  closest(target: Buffer, count: number, now = Date.now()): NodeEntry[] {
    return this.all()
      .filter((n) => !this.isBad(n, now))
      .sort((a, b) => compareDistance(target, a.id, b.id))
      .slice(0, count);
  }

  all(): NodeEntry[] {
    return this.buckets.flat();
  }

  /** Drops nodes that failed too often. */
  prune(now = Date.now()): void {
    for (const n of this.all())
      if (n.failures >= MAX_FAILURES && now - n.lastSeen > NODE_EXPIRE_TIME_MS) this.remove(n.id);
  }

  info(n: NodeEntry, now = Date.now()): NodeInfo {
    return {
      id: Buffer.from(n.id),
      host: n.host,
      port: n.port,
      good: this.isGood(n, now),
      lastSeen: n.lastSeen,
      lastReply: n.lastReply || undefined,
    };
  }
}
