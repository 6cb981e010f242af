import { createPrivateKey, KeyObject, randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { admitValue } from './admission';
import type { DhtApi } from './dht-api';
import type { DhtNodeEvents, EncryptedPutOptions, GetOptions, ListenCallback, PutOptions, PutResult } from './dht-node';
import { KeyInput, toHash } from './info-hash';
import { valueFromProxyJson, valueToProxyJson } from './proxy-json';
import { DhtValue, encodeValue, ValueFormatError, valueForPut } from './value';
import { encryptedPutValue } from './value-crypto';

export type DhtProxyErrorCode = 'BAD_URL' | 'UNREACHABLE' | 'NOT_A_PROXY' | 'REJECTED' | 'TIMEOUT';

export class DhtProxyError extends Error {
  constructor(
    readonly code: DhtProxyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface DhtProxyClientOptions {
  /**
   * The proxy, as Jami's Account.proxyServer spells it: "host:port", "host:[80-95]" (a port picked at random
   * in the range), or a full "http://…" / "https://…" URL. No scheme means http.
   */
  server: string;
  /** Extra CA certificates (PEM) for an https proxy. */
  ca?: string;
  /** RSA key used to decrypt values encrypted to us and, by default, to sign putEncrypted values. */
  identity?: { privateKeyPem: string };
  /** How often a listen asks the proxy for the key's values. Default 1 s. */
  pollIntervalMs?: number;
  /** How often a permanent put is sent again (the proxy drops it after its own timeout). Default 5 min. */
  permanentRefreshMs?: number;
  /** Per-request timeout. Default 15 s (a get waits for the proxy's DHT search). */
  requestTimeoutMs?: number;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

/** What the proxy says of itself on `GET /`. */
export interface DhtProxyInfo {
  /** The proxy's DHT node id. */
  nodeId: string;
  /** The proxy's public key id, when it runs with an identity. */
  id?: string;
  publicIp?: string;
  /** Good + dubious nodes in the proxy's IPv4 and IPv6 routing tables. */
  nodes: number;
  goodNodes: number;
}

interface ProxyListen {
  key: Buffer;
  cb: ListenCallback;
  filter?: (v: DhtValue) => boolean;
  /** Values delivered and still present, with the number of polls in a row they were missing from. */
  seen: Map<bigint, { value: DhtValue; missing: number }>;
  timer?: NodeJS.Timeout;
  polling: boolean;
}

interface ProxyPut {
  key: Buffer;
  value: DhtValue;
  timer: NodeJS.Timeout;
}

/** A request on a kept-alive socket that the server had closed. */
class StaleSocketError extends Error {}

/** Most bytes read from one proxy answer. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Polls in a row a listened value must be missing from before it is reported expired (a get can miss one). */
const EXPIRE_AFTER_MISSES = 2;

/** Parses Account.proxyServer into a URL (exported for tests). */
export function proxyUrl(server: string): URL {
  let s = server.trim();
  if (!s) throw new DhtProxyError('BAD_URL', 'the DHT proxy address is empty');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = `http://${s}`;
  const range = /:\[(\d+)-(\d+)\](?=\/|$)/.exec(s);
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (lo < 1 || hi > 65535 || lo > hi) throw new DhtProxyError('BAD_URL', `bad port range in "${server}"`);
    s = s.replace(range[0], `:${randomInt(lo, hi + 1)}`);
  }
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new DhtProxyError('BAD_URL', `"${server}" is not a DHT proxy address`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DhtProxyError('BAD_URL', `DHT proxy "${server}": only http and https are supported`);
  }
  return url;
}

/**
 * A client of OpenDHT's REST DHT proxy (the `dhtnode --proxyserver` of opendht 2.4.12, what Jami calls
 * Account.proxyServer): the device reaches the DHT through one HTTP server instead of running a UDP node.
 *   GET  /               the proxy's node info
 *   GET  /<hash>         the values at a key, one JSON object per line, once the proxy's search ends
 *   POST /<hash>         put a value (JSON, "permanent": true to have the proxy keep announcing it)
 * Signing, encryption, decryption and signature checks happen here, with the same rules as DhtNode: the
 * proxy is not trusted with keys or plaintext. Listens are polls of GET: the Debian build of the proxy cannot
 * parse OpenDHT's LISTEN method (its HTTP parser answers nothing), and push subscriptions need a push server.
 */
export class DhtProxyClient extends EventEmitter<DhtNodeEvents> implements DhtApi {
  readonly url: URL;
  private readonly opts: DhtProxyClientOptions;
  private readonly identity: KeyObject | undefined;
  private readonly agent: http.Agent;
  private readonly listens = new Set<ProxyListen>();
  private readonly puts = new Map<string, ProxyPut>();
  private lastInfo: DhtProxyInfo | undefined;

  constructor(opts: DhtProxyClientOptions) {
    super();
    this.opts = opts;
    this.url = proxyUrl(opts.server);
    this.identity = opts.identity ? createPrivateKey(opts.identity.privateKeyPem) : undefined;
    this.agent =
      this.url.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ca: opts.ca, maxSockets: 16 })
        : new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  /** Checks that the server is an OpenDHT proxy. Throws DhtProxyError (UNREACHABLE, NOT_A_PROXY, …). */
  async start(): Promise<DhtProxyInfo> {
    return this.info();
  }

  async stop(): Promise<void> {
    for (const l of this.listens) clearInterval(l.timer);
    this.listens.clear();
    for (const p of this.puts.values()) clearInterval(p.timer);
    this.puts.clear();
    this.agent.destroy();
  }

  /** The proxy's node info (GET /). */
  async info(): Promise<DhtProxyInfo> {
    const { status, body } = await this.request('GET', '/');
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      j = {};
    }
    if (status !== 200 || typeof j.node_id !== 'string') {
      throw new DhtProxyError('NOT_A_PROXY', `${this.origin} did not answer like an OpenDHT proxy (HTTP ${status})`);
    }
    const count = (fam: unknown, k: 'good' | 'dubious') =>
      fam && typeof fam === 'object' && typeof (fam as Record<string, unknown>)[k] === 'number'
        ? ((fam as Record<string, number>)[k] ?? 0)
        : 0;
    const goodNodes = count(j.ipv4, 'good') + count(j.ipv6, 'good');
    this.lastInfo = {
      nodeId: j.node_id,
      id: typeof j.id === 'string' ? j.id : undefined,
      publicIp: typeof j.public_ip === 'string' ? j.public_ip : undefined,
      nodes: goodNodes + count(j.ipv4, 'dubious') + count(j.ipv6, 'dubious'),
      goodNodes,
    };
    return this.lastInfo;
  }

  /** The node info from the last GET / (start() or info()). */
  get lastKnownInfo(): DhtProxyInfo | undefined {
    return this.lastInfo;
  }

  stats(): { subscriptions: number; permanentPuts: number } {
    return { subscriptions: this.listens.size, permanentPuts: this.puts.size };
  }

  async get(key: KeyInput, opts: GetOptions = {}): Promise<DhtValue[]> {
    const values = await this.fetch(toHash(key));
    return values.filter((v) => !opts.filter || opts.filter(v));
  }

  async put(key: KeyInput, value: DhtValue | Uint8Array | string, opts: PutOptions = {}): Promise<PutResult> {
    const hash = toHash(key);
    const { value: v } = valueForPut(value);
    await this.post(hash, v, opts.permanent === true);
    if (opts.permanent) {
      const id = `${hash.toString('hex')}/${v.id}`;
      clearInterval(this.puts.get(id)?.timer);
      const timer = setInterval(
        () => {
          this.post(hash, v, true).catch((err: Error) =>
            this.log('permanent put refresh failed', { error: err.message }),
          );
        },
        this.opts.permanentRefreshMs ?? 5 * 60_000,
      );
      timer.unref();
      this.puts.set(id, { key: hash, value: v, timer });
    }
    return { id: v.id, storedOn: [] };
  }

  async putEncrypted(
    key: KeyInput,
    data: Uint8Array | string,
    recipientPublicKeyPem: string,
    opts: EncryptedPutOptions = {},
  ): Promise<PutResult> {
    return this.put(key, encryptedPutValue(data, recipientPublicKeyPem, opts, this.identity), opts);
  }

  /** Stops sending a permanent put again (the proxy drops it after its own timeout). */
  cancelPut(key: KeyInput, id: bigint): boolean {
    const k = `${toHash(key).toString('hex')}/${id}`;
    const p = this.puts.get(k);
    if (!p) return false;
    clearInterval(p.timer);
    return this.puts.delete(k);
  }

  /**
   * Calls cb with the values at key now and as they change, by polling the proxy. A value missing from two
   * polls in a row is reported expired. Resolves with the cancel function after the first poll.
   */
  async listen(
    key: KeyInput,
    cb: ListenCallback,
    opts: { filter?: (value: DhtValue) => boolean } = {},
  ): Promise<() => void> {
    const l: ProxyListen = { key: toHash(key), cb, filter: opts.filter, seen: new Map(), polling: false };
    this.listens.add(l);
    await this.poll(l);
    if (this.listens.has(l)) {
      l.timer = setInterval(() => void this.poll(l), this.opts.pollIntervalMs ?? 1_000);
      l.timer.unref();
    }
    return () => {
      clearInterval(l.timer);
      this.listens.delete(l);
    };
  }

  // ---------------------------------------------------------------- internals

  private get origin(): string {
    return `DHT proxy ${this.url.origin}`;
  }

  private async poll(l: ProxyListen): Promise<void> {
    if (l.polling) return;
    l.polling = true;
    try {
      const values = (await this.fetch(l.key)).filter((v) => !l.filter || l.filter(v));
      if (!this.listens.has(l)) return;
      const present = new Set<bigint>();
      const fresh: DhtValue[] = [];
      for (const v of values) {
        present.add(v.id);
        const old = l.seen.get(v.id);
        if (old && (v.seq ?? 0) <= (old.value.seq ?? 0)) {
          old.missing = 0;
          continue;
        }
        l.seen.set(v.id, { value: v, missing: 0 });
        fresh.push(v);
      }
      const expired: DhtValue[] = [];
      for (const [id, s] of l.seen) {
        if (present.has(id) || ++s.missing < EXPIRE_AFTER_MISSES) continue;
        l.seen.delete(id);
        expired.push(s.value);
      }
      if (fresh.length > 0) this.call(l, fresh, false);
      if (expired.length > 0) this.call(l, expired, true);
    } catch (err) {
      this.log('listen poll failed', { key: l.key.toString('hex'), error: (err as Error).message });
    } finally {
      l.polling = false;
    }
  }

  private call(l: ProxyListen, values: DhtValue[], expired: boolean) {
    try {
      l.cb(values, expired);
    } catch (err) {
      this.log('listen callback threw', { error: (err as Error).message });
    }
  }

  /** GET /<hash>: every value, checked like values from the UDP network; rejected ones are reported. */
  private async fetch(hash: Buffer): Promise<DhtValue[]> {
    const { status, body } = await this.request('GET', `/${hash.toString('hex')}`);
    if (status !== 200) throw new DhtProxyError('REJECTED', `${this.origin} answered HTTP ${status} to a get`);
    const found = new Map<bigint, DhtValue>();
    for (const line of body.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      let value: DhtValue;
      try {
        value = valueFromProxyJson(JSON.parse(line));
      } catch (err) {
        if (!(err instanceof SyntaxError) && !(err instanceof ValueFormatError)) throw err;
        this.emit('value-rejected', { key: hash, reason: 'malformed' });
        continue;
      }
      const a = admitValue(encodeValue(value), this.identity);
      if (!a.ok) {
        this.emit('value-rejected', { key: hash, reason: a.reason, value: a.value });
        continue;
      }
      const old = found.get(a.value.id);
      if (!old || (a.value.seq ?? 0) > (old.seq ?? 0)) found.set(a.value.id, a.value);
    }
    return [...found.values()];
  }

  private async post(hash: Buffer, value: DhtValue, permanent: boolean): Promise<void> {
    const json = JSON.stringify(valueToProxyJson(value, { permanent }));
    const { status, body } = await this.request('POST', `/${hash.toString('hex')}`, json);
    if (status !== 200) {
      const why = body.toString('utf8').slice(0, 200);
      throw new DhtProxyError('REJECTED', `${this.origin} refused the put (HTTP ${status}${why ? `: ${why}` : ''})`);
    }
  }

  /**
   * One HTTP exchange. A kept-alive socket the proxy closed meanwhile fails at once (ECONNRESET): the request
   * is then sent once more on a new socket.
   */
  private async request(method: string, path: string, body?: string): Promise<{ status: number; body: Buffer }> {
    try {
      return await this.requestOnce(method, path, body);
    } catch (err) {
      if (!(err instanceof StaleSocketError)) throw err;
      return this.requestOnce(method, path, body);
    }
  }

  private requestOnce(method: string, path: string, body?: string): Promise<{ status: number; body: Buffer }> {
    const timeoutMs = this.opts.requestTimeoutMs ?? 15_000;
    const lib = this.url.protocol === 'https:' ? https : http;
    const base = this.url.pathname.replace(/\/+$/, '');
    return new Promise((resolve, reject) => {
      const req = lib.request(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
          port: this.url.port || undefined,
          path: `${base}${path}`,
          method,
          agent: this.agent,
          headers: body
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
            : { accept: 'application/json' },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) {
              req.destroy(new DhtProxyError('REJECTED', `${this.origin} sent more than ${MAX_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new DhtProxyError('TIMEOUT', `${this.origin} did not answer ${method} within ${timeoutMs} ms`)),
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err instanceof DhtProxyError) reject(err);
        else if (req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          reject(new StaleSocketError(err.message));
        } else reject(new DhtProxyError('UNREACHABLE', `${this.origin} is unreachable: ${err.code ?? err.message}`));
      });
      req.end(body);
    });
  }

  private log(message: string, details?: Record<string, unknown>) {
    this.opts.log?.(message, details);
  }
}
