import { ValuePart } from './messages';
import { MAX_VALUE_SIZE } from './value';

/**
 * Reassembles values sent as `y:"p"` parts after a header whose `values` holds sizes, keyed by source and
 * transaction id, as OpenDHT 2.4.12 does: a chunk is used only when its offset equals the bytes received so
 * far (in-order only), at most 3 s between parts and 10 s in total; a declared size above 64 KiB + 32 is
 * skipped. Parts that arrive before their header are held for up to the part timeout.
 */

export interface ReassemblyOptions {
  partTimeoutMs?: number;
  totalTimeoutMs?: number;
  /** Most messages being reassembled at once; the oldest is dropped beyond it. */
  maxPending?: number;
}

interface Pending {
  sizes: number[];
  /** Chunks received so far per value; undefined for a skipped (oversize) value. */
  chunks: (Buffer[] | undefined)[];
  received: number[];
  firstAt: number;
  lastAt: number;
  onComplete: (values: Buffer[]) => void;
}

interface Orphans {
  parts: ValuePart[];
  at: number;
}

const MAX_DECLARED_SIZE = MAX_VALUE_SIZE + 32;
const MAX_ORPHAN_PARTS = 64;
/** A header announcing more values than this is ignored. */
export const MAX_VALUES_PER_MESSAGE = 4096;

export class PartReassembler {
  private pending = new Map<string, Pending>();
  private orphans = new Map<string, Orphans>();
  private readonly partTimeoutMs: number;
  private readonly totalTimeoutMs: number;
  private readonly maxPending: number;

  constructor(opts: ReassemblyOptions = {}) {
    this.partTimeoutMs = opts.partTimeoutMs ?? 3_000;
    this.totalTimeoutMs = opts.totalTimeoutMs ?? 10_000;
    this.maxPending = opts.maxPending ?? 256;
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * A header announced values of these sizes. onComplete gets the values in header order once every part
   * arrived (skipped oversize values are left out); it is never called if the parts time out.
   * A repeated header for a message already in progress (a retry) keeps the progress.
   */
  expect(key: string, sizes: number[], onComplete: (values: Buffer[]) => void, now = Date.now()): void {
    if (this.pending.has(key) || sizes.length > MAX_VALUES_PER_MESSAGE) return;
    if (this.pending.size >= this.maxPending) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    const p: Pending = {
      sizes,
      chunks: sizes.map((s) => (s <= MAX_DECLARED_SIZE ? [] : undefined)),
      received: sizes.map(() => 0),
      firstAt: now,
      lastAt: now,
      onComplete,
    };
    this.pending.set(key, p);
    const early = this.orphans.get(key);
    this.orphans.delete(key);
    if (early)
      this.apply(
        p,
        early.parts.sort((a, b) => a.offset - b.offset),
      );
    this.finishIfComplete(key, p);
  }

  /** Parts of a message; held briefly when its header has not arrived yet. */
  add(key: string, parts: ValuePart[], now = Date.now()): void {
    const p = this.pending.get(key);
    if (!p) {
      const o = this.orphans.get(key) ?? { parts: [], at: now };
      if (o.parts.length + parts.length > MAX_ORPHAN_PARTS) return;
      o.parts.push(...parts);
      this.orphans.set(key, o);
      return;
    }
    p.lastAt = now;
    this.apply(p, parts);
    this.finishIfComplete(key, p);
  }

  /** Drops what timed out. */
  sweep(now = Date.now()): void {
    for (const [key, p] of this.pending) {
      if (now - p.lastAt > this.partTimeoutMs || now - p.firstAt > this.totalTimeoutMs) this.pending.delete(key);
    }
    for (const [key, o] of this.orphans) if (now - o.at > this.partTimeoutMs) this.orphans.delete(key);
  }

  private apply(p: Pending, parts: ValuePart[]) {
    for (const part of parts) {
      const chunks = p.chunks[part.index];
      if (!chunks) continue;
      if (part.offset !== p.received[part.index]) continue; // out of order, or a duplicate from a retry
      const data = part.data.subarray(0, Math.max(0, p.sizes[part.index] - part.offset));
      chunks.push(data);
      p.received[part.index] += data.length;
    }
  }

  private finishIfComplete(key: string, p: Pending) {
    const done = p.sizes.every((s, i) => !p.chunks[i] || p.received[i] >= s);
    if (!done) return;
    this.pending.delete(key);
    p.onComplete(p.chunks.filter((c): c is Buffer[] => c !== undefined).map((c) => Buffer.concat(c)));
  }
}
