import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import {
  admitValue,
  DhtValue,
  encodeValue,
  MAX_VALUE_SIZE,
  RateLimiter,
  valueFromProxyJson,
  ValueFormatError,
  valueToProxyJson,
} from '@enclave/core';
import { AppError, ErrorCode } from '../../common/app-error';
import { DhtService } from './dht.service';

/** OpenDHT's proxy forgets a permanent put its client stopped refreshing after 10 minutes. */
export const PROXY_PERMANENT_TTL_MS = 10 * 60_000;
/** Most permanent puts kept alive for proxy clients at once. */
export const PROXY_MAX_PERMANENT = 10_000;
/**
 * Per client address and in total, per second. Proxy clients poll GET once a second per listened key, and
 * an organization's devices often share one NAT address, hence a budget well above one device's needs.
 */
export const PROXY_PER_IP_PER_SECOND = 200;
const GLOBAL_PER_SECOND = 4_000;
/** A key's values are looked up at most once per this (polling clients of one key share the answer). */
export const PROXY_GET_CACHE_MS = 1_000;
const GET_CACHE_MAX = 10_000;

interface KeptPut {
  key: Buffer;
  id: bigint;
  timer: NodeJS.Timeout;
}

/**
 * OpenDHT's REST DHT proxy (`dhtnode --proxyserver`) on the server's own node, for devices behind networks
 * that block UDP: `GET /` node info, `GET /<hash>` the values (one JSON object per line), `POST /<hash>` a
 * value (`"permanent": true` keeps it alive while the client re-posts it within 10 minutes). Values go
 * through the same checks as from UDP (a bad signature is refused, not relayed). The proxy never sees a
 * key: clients sign and encrypt before posting.
 */
@Injectable()
export class DhtProxyService implements OnApplicationShutdown {
  private readonly limiter = new RateLimiter({
    perIpPerSecond: PROXY_PER_IP_PER_SECOND,
    globalPerSecond: GLOBAL_PER_SECOND,
  });
  private readonly kept = new Map<string, KeptPut>();
  private readonly inflight = new Map<string, Promise<DhtValue[]>>();
  private readonly recent = new Map<string, { at: number; values: DhtValue[] }>();

  constructor(private readonly dht: DhtService) {}

  onApplicationShutdown(): void {
    for (const k of this.kept.values()) clearTimeout(k.timer);
    this.kept.clear();
    this.recent.clear();
  }

  /** Counts the request against the caller's budget; 429 beyond it. */
  admit(ip: string): void {
    if (!this.limiter.allow(ip)) {
      throw new AppError(ErrorCode.DHT_PROXY_LIMIT, 'Too many DHT proxy requests from this address; slow down', {
        perSecond: PROXY_PER_IP_PER_SECOND,
      });
    }
  }

  /** GET /: the node info the way OpenDHT's proxy reports it. */
  info(): Record<string, unknown> {
    const node = this.node();
    const s = node.stats();
    const table = { good: s.goodNodes, dubious: s.nodes - s.goodNodes, incoming: 0, table: s.nodes, searches: 0 };
    return {
      node_id: node.id.toString('hex'),
      ipv4: table,
      ipv6: { good: 0, dubious: 0, incoming: 0, table: 0, searches: 0 },
      storage: { values: s.storedValues, size: s.storedBytes },
    };
  }

  /** GET /<hash>: every value at the key, one JSON object per line. */
  async get(hash: string): Promise<string> {
    const node = this.node();
    // Listening clients poll every second: gets of one key within a second share one DHT lookup.
    const hit = this.recent.get(hash);
    let values: DhtValue[];
    if (hit && Date.now() - hit.at < PROXY_GET_CACHE_MS) values = hit.values;
    else {
      let pending = this.inflight.get(hash);
      if (!pending) {
        pending = node
          .get(Buffer.from(hash, 'hex'))
          .then((found) => {
            this.recent.delete(hash);
            this.recent.set(hash, { at: Date.now(), values: found });
            while (this.recent.size > GET_CACHE_MAX) this.recent.delete(this.recent.keys().next().value!);
            return found;
          })
          .finally(() => this.inflight.delete(hash));
        this.inflight.set(hash, pending);
      }
      values = await pending;
    }
    return values.map((v) => `${JSON.stringify(valueToProxyJson(v))}\n`).join('');
  }

  /** POST /<hash>: checks and puts the value; answers it back as OpenDHT does. */
  async put(hash: string, body: unknown): Promise<Record<string, unknown>> {
    const node = this.node();
    let value: DhtValue;
    try {
      value = valueFromProxyJson(body);
    } catch (err) {
      if (!(err instanceof ValueFormatError)) throw err;
      throw new AppError(ErrorCode.DHT_VALUE_INVALID, `body: ${err.message}`, { field: 'body' });
    }
    const raw = encodeValue(value);
    if (raw.length > MAX_VALUE_SIZE) {
      throw new AppError(ErrorCode.DHT_VALUE_INVALID, `body: the value is larger than ${MAX_VALUE_SIZE} bytes`, {
        field: 'body',
      });
    }
    const admitted = admitValue(raw);
    if (!admitted.ok) {
      throw new AppError(ErrorCode.DHT_VALUE_INVALID, `body: the value was refused (${admitted.reason})`, {
        field: 'body',
        reason: admitted.reason,
      });
    }
    const permanent = (body as { permanent?: unknown }).permanent === true;
    const key = Buffer.from(hash, 'hex');
    const id = `${hash}/${value.id}`;
    if (permanent && !this.kept.has(id) && this.kept.size >= PROXY_MAX_PERMANENT) {
      throw new AppError(ErrorCode.DHT_PROXY_LIMIT, 'The DHT proxy keeps as many permanent values as it can');
    }
    await node.put(key, admitted.value, { permanent });
    this.recent.delete(hash);
    if (permanent) this.keep(id, key, value.id);
    return { ...valueToProxyJson(admitted.value), ...(permanent ? { permanent: true } : {}) };
  }

  /** A permanent put lives while its client re-posts it; 10 minutes after the last post it is let go. */
  private keep(id: string, key: Buffer, valueId: bigint) {
    const old = this.kept.get(id);
    if (old) clearTimeout(old.timer);
    const timer = setTimeout(() => {
      this.kept.delete(id);
      this.dht.node?.cancelPut(key, valueId);
    }, PROXY_PERMANENT_TTL_MS);
    timer.unref();
    this.kept.set(id, { key, id: valueId, timer });
  }

  private node() {
    const node = this.dht.node;
    if (!node) throw new AppError(ErrorCode.DHT_DISABLED, 'The server runs no DHT node (ENCLAVE_DHT_PORT=0)');
    return node;
  }
}
