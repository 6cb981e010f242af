import { createPrivateKey, KeyObject, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { readFile, rename, writeFile } from 'node:fs/promises';
import {
  Endpoint,
  endpointKey,
  Family,
  familyOf,
  formatEndpoint,
  ipToBytes,
  isLoopback,
  isMartian,
  parseHostPort,
  sameEndpoint,
  WANT_INET,
  WANT_INET6,
} from './address';
import { KeyInput, randomHash, toHash } from './info-hash';
import {
  CompactNode,
  decodeMessage,
  encodeError,
  encodeNodes,
  encodeParts,
  encodeQuery,
  encodeReply,
  ErrorCode,
  MalformedMessage,
  Method,
  needsParts,
  valuesField,
  WireMessage,
} from './messages';
import { Packable } from './msgpack';
import { matchesWhere, Query, selectFields } from './query';
import { RateLimiter, RateLimitOptions } from './rate-limiter';
import { PartReassembler } from './reassembly';
import { NodeInfo, RoutingTable } from './routing-table';
import { iterativeSearch, SearchNode, SearchResultNode } from './search';
import { RejectReason, StorageLimits, StoredValue, ValueStorage } from './storage';
import { TokenIssuer } from './tokens';
import { decodeValue, DhtValue, signValue, valueExpiryMs, valueForPut } from './value';
import { encryptedPutValue } from './value-crypto';
import { admitValue } from './admission';

/** Nodes asked in parallel during a search. */
const ALPHA = 4;
/** Size of a search's working set. */
const SEARCH_NODES = 14;
/** Nodes a value is stored on (and whose answers end a search). */
const TARGET_NODES = 8;
/** Nodes a listen is registered with. */
const LISTEN_NODES = 4;
/** Nodes returned per family in find/get replies. */
const SEND_NODES = 8;
/** A storing node forgets a listener not renewed within this time. */
const LISTEN_EXPIRE_MS = 30_000;
/** Most remote listeners kept per key and in total; further new listens are acknowledged but not kept. */
const MAX_LISTENERS_PER_KEY = 256;
const MAX_LISTENERS = 16_384;
const MAINTENANCE_INTERVAL_MS = 1_000;
const NEIGHBOURHOOD_INTERVAL_MS = 10 * 60_000;
const REBOOTSTRAP_INTERVAL_MS = 30_000;

export interface DhtNodeOptions {
  /** Address to bind (IPv4 or IPv6 literal). Default 0.0.0.0. */
  host?: string;
  /** UDP port. Default 0 (any free port). */
  port?: number;
  /** Node id (20 bytes or 40 hex digits). Default random. */
  id?: KeyInput;
  /** OpenDHT network id; packets of other networks are dropped. Default 0. */
  networkId?: number;
  /** RSA key used to decrypt values encrypted to us and, by default, to sign putEncrypted values. */
  identity?: { privateKeyPem: string };
  /** Routing-table cache: loaded (and pinged) by start(), written by stop(). */
  nodeCacheFile?: string;
  storage?: Partial<StorageLimits>;
  /** Incoming request budget; false disables it. Default 1024/s per IP, 8192/s in total. */
  rateLimit?: RateLimitOptions | false;
  /** Wait after each send of a request before resending or giving up. Default [1000, 1000, 1500]. */
  requestTimeoutsMs?: number[];
  /** How often a listen is renewed with the storing nodes (they forget it after 30 s). Default 20 s. */
  listenRefreshMs?: number;
  /** Debug hook; nothing is logged by default. */
  log?: (message: string, details?: Record<string, unknown>) => void;
}

export interface GetOptions {
  filter?: (value: DhtValue) => boolean;
}

export interface PutOptions {
  /** Keep the value alive: refresh it on the storing nodes before it expires, until cancelPut(). */
  permanent?: boolean;
}

export interface SignedPutOptions extends PutOptions {
  id?: bigint;
  type?: number;
  utype?: string;
  seq?: number;
}

export interface EncryptedPutOptions extends PutOptions {
  id?: bigint;
  /** Inner value type: 3 ImMessage, 4 TrustRequest, 0 otherwise (what Jami filters on). */
  type?: number;
  utype?: string;
  /** Signing key of the sender. Default: the node's identity. */
  privateKeyPem?: string;
}

export interface PutResult {
  id: bigint;
  /** Nodes that acknowledged the put. An ack does not prove storage (OpenDHT acks what it refuses). */
  storedOn: NodeInfo[];
}

export interface ValueRejectedEvent {
  key: Buffer;
  reason: RejectReason | 'malformed' | 'recipient-mismatch' | 'inner-signature' | 'undecryptable';
  from?: Endpoint;
  value?: DhtValue;
}

export interface DhtNodeStats {
  /** Nodes in the routing table, and those of them that answered recently. */
  nodes: number;
  goodNodes: number;
  /** Values (and their bytes) stored here for others. */
  storedValues: number;
  storedBytes: number;
  /** Remote nodes listening on keys stored here. */
  remoteListeners: number;
  /** Our own listens. */
  subscriptions: number;
  pendingRequests: number;
}

export type ListenCallback = (values: DhtValue[], expired: boolean) => void;

export interface DhtNodeEvents {
  /** A value we received (stored for others, or got from the network) failed a check and was dropped. */
  'value-rejected': [ValueRejectedEvent];
}

/** A request answered with an error message. */
export class DhtRequestError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`${code} ${message}`);
  }
}

/** A request that got no answer after every retry. */
export class DhtTimeoutError extends Error {}

interface PendingRequest {
  to: Endpoint & { id?: Buffer };
  timer?: NodeJS.Timeout;
  resolve: (m: WireMessage) => void;
  reject: (e: Error) => void;
}

interface Subscription {
  key: Buffer;
  sid: number;
  cb: ListenCallback;
  filter?: (v: DhtValue) => boolean;
  seen: Map<bigint, DhtValue>;
  targets: SearchResultNode[];
  refreshAt: number;
  refreshing: boolean;
}

interface RemoteListener extends Endpoint {
  id: Buffer;
  sid: number;
  query?: Query;
  expiresAt: number;
}

interface PermanentPut {
  key: Buffer;
  id: bigint;
  raw: Buffer;
  type: number;
  nodes: SearchResultNode[];
  refreshAt: number;
  refreshing: boolean;
}

type Args = Record<string, Packable | undefined>;

/**
 * A DHT node speaking OpenDHT 2.4.12's UDP protocol: it answers ping/find/get/put/listen/refresh/update like
 * a dhtnode (storing values for others, pushing updates to listeners), and searches the network iteratively
 * to get, put and listen. One socket, IPv4 or IPv6 (the family of the bind address).
 */
export class DhtNode extends EventEmitter<DhtNodeEvents> {
  readonly id: Buffer;
  private readonly opts: DhtNodeOptions;
  private readonly network: number;
  private readonly family: Family;
  private readonly table: RoutingTable;
  private readonly storage: ValueStorage;
  private readonly tokens = new TokenIssuer();
  private readonly limiter: RateLimiter | undefined;
  private readonly reassembler = new PartReassembler();
  private readonly timeouts: number[];
  private readonly identity: KeyObject | undefined;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly subscriptions = new Map<number, Subscription>();
  private readonly remoteListeners = new Map<string, Map<string, RemoteListener>>();
  private readonly permanent = new Map<string, PermanentPut>();
  private socket: dgram.Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private bootstrapNodes: Endpoint[] = [];
  private lastBootstrap = 0;
  private lastNeighbourhood = 0;
  private background = new Set<Promise<unknown>>();

  constructor(opts: DhtNodeOptions = {}) {
    super();
    this.opts = opts;
    this.id = opts.id !== undefined ? toHash(opts.id, 'node id') : randomHash();
    this.network = opts.networkId ?? 0;
    this.family = familyOf(opts.host ?? '0.0.0.0');
    this.table = new RoutingTable(this.id);
    this.storage = new ValueStorage(opts.storage);
    this.limiter = opts.rateLimit === false ? undefined : new RateLimiter(opts.rateLimit);
    this.timeouts = opts.requestTimeoutsMs ?? [1000, 1000, 1500];
    this.identity = opts.identity ? createPrivateKey(opts.identity.privateKeyPem) : undefined;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Binds the socket. With `nodeCacheFile`, then pings the cached nodes in the background. */
  async start(): Promise<void> {
    if (this.socket) throw new Error('DHT node already started');
    const socket = dgram.createSocket({ type: this.family === 4 ? 'udp4' : 'udp6', ipv6Only: this.family === 6 });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.opts.port ?? 0, this.opts.host ?? '0.0.0.0', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, { host: rinfo.address, port: rinfo.port }));
    socket.on('error', (err) => this.log('socket error', { error: err.message }));
    this.socket = socket;
    this.timer = setInterval(() => this.maintain(), MAINTENANCE_INTERVAL_MS);
    this.timer.unref();
    if (this.opts.nodeCacheFile) {
      this.inBackground(this.loadNodeCache(this.opts.nodeCacheFile).catch(() => 0));
    }
  }

  /** Writes the node cache (if configured), fails pending requests and closes the socket. */
  async stop(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    if (this.opts.nodeCacheFile) {
      await this.saveNodeCache(this.opts.nodeCacheFile).catch((err: Error) =>
        this.log('cannot save node cache', { error: err.message }),
      );
    }
    this.socket = undefined;
    clearInterval(this.timer);
    for (const [tid, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(tid);
      p.reject(new Error('DHT node stopped'));
    }
    this.subscriptions.clear();
    this.permanent.clear();
    await Promise.allSettled([...this.background]);
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  /** The bound address. */
  get address(): Endpoint {
    if (!this.socket) throw new Error('DHT node not started');
    const a = this.socket.address();
    return { host: a.address, port: a.port };
  }

  get running(): boolean {
    return this.socket !== undefined;
  }

  /** The routing table's nodes. */
  nodes(): NodeInfo[] {
    return this.table.all().map((n) => this.table.info(n));
  }

  /** Counters for status pages and tests. */
  stats(): DhtNodeStats {
    const now = Date.now();
    return {
      nodes: this.table.size,
      goodNodes: this.table.all().filter((n) => this.table.isGood(n, now)).length,
      storedValues: this.storage.valueCount,
      storedBytes: this.storage.bytes,
      remoteListeners: this.countListeners(now),
      subscriptions: this.subscriptions.size,
      pendingRequests: this.pending.size,
    };
  }

  // ---------------------------------------------------------------- joining

  /**
   * Pings each "host:port" (names are resolved), then looks up our own id to fill the routing table.
   * The addresses are remembered and pinged again while the table has no working node.
   * Resolves with the number of nodes in the routing table.
   */
  async bootstrap(addresses: readonly string[]): Promise<number> {
    const endpoints = (await Promise.all(addresses.map((a) => this.resolve(a)))).filter(
      (e): e is Endpoint => e !== undefined,
    );
    for (const e of endpoints) {
      if (!this.bootstrapNodes.some((b) => sameEndpoint(b, e))) this.bootstrapNodes.push(e);
    }
    this.lastBootstrap = Date.now();
    await Promise.allSettled(endpoints.map((e) => this.request(e, 'ping', { id: this.id })));
    await this.search(this.id, 'find');
    this.lastNeighbourhood = Date.now();
    return this.table.size;
  }

  /** Pings a node; resolves with what the routing table knows of it. */
  async ping(address: string | Endpoint): Promise<NodeInfo> {
    const e = typeof address === 'string' ? await this.resolve(address) : address;
    if (!e) throw new Error(`cannot resolve ${String(address)}`);
    const reply = await this.request(e, 'ping', { id: this.id });
    const entry = this.table.find(reply.body.id!);
    return entry ? this.table.info(entry) : { id: reply.body.id!, ...e, good: true, lastSeen: Date.now() };
  }

  /** Iterative lookup: the nodes closest to target that answered, closest first. */
  async findNodes(target: KeyInput): Promise<NodeInfo[]> {
    const found = await this.search(toHash(target, 'target'), 'find');
    return found.map((n) => this.infoOf(n));
  }

  /** Serialisable routing-table snapshot: the nodes that answered us, most recent first. */
  exportNodes(): { id: string; host: string; port: number }[] {
    return this.table
      .all()
      .filter((n) => n.lastReply > 0)
      .sort((a, b) => b.lastReply - a.lastReply)
      .map((n) => ({ id: n.id.toString('hex'), host: n.host, port: n.port }));
  }

  async saveNodeCache(file: string): Promise<void> {
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: 1, nodes: this.exportNodes() }, null, 2));
    await rename(tmp, file);
  }

  /** Pings the nodes of a cache file (and bootstraps from those that answer); resolves with how many answered. */
  async loadNodeCache(file: string): Promise<number> {
    let nodes: { id?: unknown; host?: unknown; port?: unknown }[];
    try {
      nodes = (JSON.parse(await readFile(file, 'utf8')) as { nodes?: typeof nodes }).nodes ?? [];
    } catch {
      return 0;
    }
    const valid = nodes.filter(
      (n): n is { id: string; host: string; port: number } =>
        typeof n.id === 'string' &&
        /^[0-9a-f]{40}$/.test(n.id) &&
        typeof n.host === 'string' &&
        typeof n.port === 'number' &&
        (() => {
          try {
            return familyOf(n.host) === this.family && !isMartian({ host: n.host, port: n.port });
          } catch {
            return false;
          }
        })(),
    );
    const results = await Promise.allSettled(
      valid.map((n) =>
        this.request({ host: n.host, port: n.port, id: Buffer.from(n.id, 'hex') }, 'ping', { id: this.id }),
      ),
    );
    const answered = results.filter((r) => r.status === 'fulfilled').length;
    if (answered > 0) {
      await this.search(this.id, 'find');
      this.lastNeighbourhood = Date.now();
    }
    return answered;
  }

  // ---------------------------------------------------------------- values

  /**
   * All values at key: our own storage plus the closest nodes' answers. Signed values must verify; values
   * encrypted to our identity are decrypted (and checked); other encrypted values are returned as they are.
   */
  async get(key: KeyInput, opts: GetOptions = {}): Promise<DhtValue[]> {
    const hash = toHash(key);
    const found = new Map<bigint, DhtValue>();
    const merge = (v: DhtValue | undefined) => {
      if (!v) return;
      const old = found.get(v.id);
      if (!old || (v.seq ?? 0) > (old.seq ?? 0)) found.set(v.id, v);
    };
    for (const e of this.storage.get(hash)) merge(this.admit(hash, e.raw));
    await this.search(hash, 'get', (from, msg) => {
      for (const raw of msg.body.values ?? []) merge(this.admit(hash, raw, from));
    });
    return [...found.values()].filter((v) => !opts.filter || opts.filter(v));
  }

  /**
   * Stores a value on the closest nodes (a string or bytes become a type-0 value; a string gets utype
   * "text/plain"). Not stored locally: this node stores what others put on it.
   */
  async put(key: KeyInput, value: DhtValue | Uint8Array | string, opts: PutOptions = {}): Promise<PutResult> {
    const hash = toHash(key);
    const { value: v, raw } = valueForPut(value);
    const nodes = (await this.search(hash, 'find')).filter((n) => n.token).slice(0, TARGET_NODES);
    const storedOn = await this.announce(hash, raw, nodes);
    if (opts.permanent) {
      this.permanent.set(`${hash.toString('hex')}/${v.id}`, {
        key: hash,
        id: v.id,
        raw,
        type: v.type,
        nodes: storedOn,
        refreshAt: Date.now() + this.refreshDelay(v.type),
        refreshing: false,
      });
    }
    return { id: v.id, storedOn: storedOn.map((n) => this.infoOf(n)) };
  }

  /** Signs (RSA PKCS#1 v1.5 SHA-512) and puts. */
  async putSigned(
    key: KeyInput,
    data: Uint8Array | string,
    privateKeyPem: string,
    opts: SignedPutOptions = {},
  ): Promise<PutResult> {
    const value = signValue({ data, id: opts.id, type: opts.type, utype: opts.utype, seq: opts.seq }, privateKeyPem);
    return this.put(key, value, opts);
  }

  /** Signs with the sender key (default: our identity), encrypts to the recipient and puts. */
  async putEncrypted(
    key: KeyInput,
    data: Uint8Array | string,
    recipientPublicKeyPem: string,
    opts: EncryptedPutOptions = {},
  ): Promise<PutResult> {
    return this.put(key, encryptedPutValue(data, recipientPublicKeyPem, opts, this.identity), opts);
  }

  /** Stops refreshing a permanent put (the value then expires on its own). */
  cancelPut(key: KeyInput, id: bigint): boolean {
    return this.permanent.delete(`${toHash(key).toString('hex')}/${id}`);
  }

  /**
   * Calls cb with the values at key now and as they change: new or updated values (expired = false) and
   * values that expired on a storing node (expired = true). Resolves with the cancel function once the
   * listen is registered with the closest nodes.
   */
  async listen(
    key: KeyInput,
    cb: ListenCallback,
    opts: { filter?: (value: DhtValue) => boolean } = {},
  ): Promise<() => void> {
    const hash = toHash(key);
    let sid: number;
    do sid = randomBytes(4).readUInt32BE();
    while (this.subscriptions.has(sid) || sid === 0);
    const sub: Subscription = {
      key: hash,
      sid,
      cb,
      filter: opts.filter,
      seen: new Map(),
      targets: [],
      refreshAt: Number.POSITIVE_INFINITY,
      refreshing: false,
    };
    this.subscriptions.set(sid, sub);
    this.deliver(
      sub,
      this.storage.get(hash).map((e) => this.admit(hash, e.raw)),
    );
    await this.subscribe(sub);
    return () => {
      this.subscriptions.delete(sid);
    };
  }

  /**
   * Stores a value in this node's own storage, with the same policy as a put from the network, and tells
   * listeners (ours and remote ones).
   */
  store(key: KeyInput, value: DhtValue): { stored: boolean; reason?: RejectReason } {
    const hash = toHash(key);
    const outcome = this.storage.store(hash, value);
    if (!outcome.stored) return { stored: false, reason: outcome.reason };
    if (outcome.changed) this.valuesChanged(hash, [outcome.entry]);
    return { stored: true };
  }

  /** What this node stores at key for others. */
  localValues(key: KeyInput): DhtValue[] {
    return this.storage.get(toHash(key)).map((e) => e.value);
  }

  // ---------------------------------------------------------------- outgoing requests

  private newTid(): number {
    for (;;) {
      const tid = randomBytes(4).readUInt32BE();
      if (tid !== 0 && !this.pending.has(tid)) return tid;
    }
  }

  private send(packet: Buffer, to: Endpoint) {
    this.socket?.send(packet, to.port, to.host, (err) => {
      if (err) this.log('send failed', { to: formatEndpoint(to), error: err.message });
    });
  }

  /**
   * Sends a request, resending it (values parts included) after each timeout; resolves with the reply,
   * rejects with DhtRequestError on an error reply or DhtTimeoutError after the last attempt.
   */
  private request(
    to: Endpoint & { id?: Buffer },
    method: Method,
    args: Args,
    opts: { values?: Buffer[]; slow?: () => void } = {},
  ): Promise<WireMessage> {
    if (!this.socket) return Promise.reject(new Error('DHT node not started'));
    const tid = this.newTid();
    const packets = [
      encodeQuery(tid, method, opts.values ? { ...args, values: valuesField(opts.values) } : args, this.network),
    ];
    if (opts.values && needsParts(opts.values)) packets.push(...encodeParts(tid, opts.values, this.network));
    return new Promise((resolve, reject) => {
      const p: PendingRequest = { to, resolve, reject };
      let attempt = 0;
      const fire = () => {
        if (!this.socket || !this.pending.has(tid)) return;
        if (attempt >= this.timeouts.length) {
          this.pending.delete(tid);
          const known = to.id ? this.table.find(to.id) : this.table.findByEndpoint(to);
          if (known) this.table.failed(known.id);
          reject(new DhtTimeoutError(`${method} to ${formatEndpoint(to)} timed out`));
          return;
        }
        if (attempt === 1) opts.slow?.();
        for (const packet of packets) this.send(packet, to);
        p.timer = setTimeout(fire, this.timeouts[attempt++]);
      };
      this.pending.set(tid, p);
      fire();
    });
  }

  private wantArgs(): number[] {
    return [this.family === 4 ? WANT_INET : WANT_INET6];
  }

  /** The iterative search behind get/put/listen/bootstrap. `onReply` sees every reply to a get. */
  private search(
    target: Buffer,
    method: 'find' | 'get',
    onReply?: (from: Endpoint, msg: WireMessage) => void,
  ): Promise<SearchResultNode[]> {
    const seeds: SearchNode[] = this.table.closest(target, SEARCH_NODES);
    const own = this.socket ? this.address : undefined;
    return iterativeSearch({
      target,
      ownId: this.id,
      seeds,
      alpha: ALPHA,
      searchNodes: SEARCH_NODES,
      targetNodes: TARGET_NODES,
      accept: (n) => !own || n.port !== own.port || !(isLoopback(n.host) || n.host === own.host),
      ask: async (node, slow) => {
        const args: Args =
          method === 'find'
            ? { id: this.id, target, w: this.wantArgs() }
            : { id: this.id, h: target, w: this.wantArgs() };
        const msg = await this.request(node, method, args, { slow });
        onReply?.(node, msg);
        return { nodes: this.usableNodes(msg, node), token: msg.body.token };
      },
    });
  }

  /** Nodes of a reply we can reach: our family, not martian, loopback rewritten to the sender's address. */
  private usableNodes(msg: WireMessage, from: Endpoint): CompactNode[] {
    const nodes = this.family === 4 ? msg.body.nodes4 : msg.body.nodes6;
    return nodes
      .filter((n) => !n.id.equals(this.id))
      .map((n) => (isLoopback(n.host) && !isLoopback(from.host) ? { ...n, host: from.host } : n))
      .filter((n) => !isMartian(n));
  }

  private async announce(key: Buffer, raw: Buffer, nodes: SearchResultNode[]): Promise<SearchResultNode[]> {
    const results = await Promise.allSettled(
      nodes.map((n) => this.request(n, 'put', { id: this.id, h: key, token: n.token }, { values: [raw] })),
    );
    return nodes.filter((_, i) => results[i].status === 'fulfilled');
  }

  private async subscribe(sub: Subscription): Promise<void> {
    const values: DhtValue[] = [];
    const nodes = await this.search(sub.key, 'get', (from, msg) => {
      for (const raw of msg.body.values ?? []) {
        const v = this.admit(sub.key, raw, from);
        if (v) values.push(v);
      }
    });
    if (!this.subscriptions.has(sub.sid)) return;
    this.deliver(sub, values);
    const targets = nodes.filter((n) => n.token).slice(0, LISTEN_NODES);
    // Known before the listens go out: a storing node may push its current values right away.
    sub.targets = targets;
    const results = await Promise.allSettled(targets.map((n) => this.sendListen(sub, n)));
    sub.targets = targets.filter((_, i) => results[i].status === 'fulfilled');
    sub.refreshAt = Date.now() + (this.opts.listenRefreshMs ?? 20_000);
  }

  private sendListen(sub: Subscription, node: SearchResultNode): Promise<WireMessage> {
    return this.request(node, 'listen', { id: this.id, ve: 1, h: sub.key, token: node.token, sid: sub.sid });
  }

  // ---------------------------------------------------------------- incoming

  private onDatagram(datagram: Buffer, from: Endpoint) {
    if (isMartian(from)) return;
    let msg: WireMessage;
    try {
      msg = decodeMessage(datagram);
    } catch (err) {
      if (err instanceof MalformedMessage) {
        this.log('dropped malformed packet', { from: formatEndpoint(from), error: err.message });
      }
      return;
    }
    if (msg.network !== this.network) return;
    const partsKey = `${endpointKey(from)}/${msg.tid}`;
    if (msg.kind === 'part') {
      this.reassembler.add(partsKey, msg.parts ?? []);
      return;
    }
    if (!msg.body.id || msg.body.id.equals(this.id)) return;
    if (msg.kind === 'query' && this.limiter && !this.limiter.allow(from.host)) return;
    const sizes = msg.body.valueSizes;
    if (sizes) {
      this.reassembler.expect(partsKey, sizes, (values) => {
        msg.body.values = values;
        msg.body.valueSizes = undefined;
        this.dispatch(msg, from);
      });
      return;
    }
    this.dispatch(msg, from);
  }

  private dispatch(msg: WireMessage, from: Endpoint) {
    const sender = msg.body.id!;
    if (msg.kind === 'reply' || msg.kind === 'error') {
      const p = this.pending.get(msg.tid);
      if (!p || !sameEndpoint(p.to, from)) return;
      this.pending.delete(msg.tid);
      clearTimeout(p.timer);
      if (p.to.id && !p.to.id.equals(sender)) this.table.remove(p.to.id);
      this.table.heardFrom(sender, from, true);
      if (msg.kind === 'error') p.reject(new DhtRequestError(msg.error!.code, msg.error!.message));
      else p.resolve(msg);
      return;
    }
    this.table.heardFrom(sender, from, false);
    try {
      this.handleQuery(msg, from);
    } catch (err) {
      this.log('query handling failed', { method: msg.method, error: (err as Error).message });
    }
  }

  private reply(to: Endpoint, tid: number, body: Args, values?: Buffer[]) {
    const full: Args = { id: this.id, ...body, sa: ipToBytes(to.host) };
    if (values && values.length > 0) full.values = valuesField(values);
    this.send(encodeReply(tid, full, this.network), to);
    if (values && needsParts(values)) for (const part of encodeParts(tid, values, this.network)) this.send(part, to);
  }

  private error(to: Endpoint, tid: number, code: number, message: string) {
    this.send(encodeError(tid, code, message, this.id, this.network), to);
  }

  /** Closest nodes for a find/get reply, per wanted family (the requester's own family if `w` is absent). */
  private nodesFor(target: Buffer, want: number[] | undefined, from: Endpoint): Args {
    const wants = want ?? [familyOf(from.host) === 4 ? WANT_INET : WANT_INET6];
    const ours = this.family === 4 ? WANT_INET : WANT_INET6;
    if (!wants.includes(ours)) return {};
    const nodes = this.table.closest(target, SEND_NODES);
    if (nodes.length === 0) return {};
    return { [this.family === 4 ? 'n4' : 'n6']: encodeNodes(nodes) };
  }

  private handleQuery(msg: WireMessage, from: Endpoint) {
    const { body, tid } = msg;
    switch (msg.method) {
      case 'ping':
        return this.reply(from, tid, {});
      case 'find': {
        const target = body.target ?? body.h;
        if (!target) return this.error(from, tid, ErrorCode.NON_AUTHORITATIVE, 'Find with no target');
        return this.reply(from, tid, { ...this.nodesFor(target, body.want, from), token: this.tokens.issue(from) });
      }
      case 'get':
        return this.onGet(msg, from);
      case 'put':
        return this.onPut(msg, from);
      case 'listen':
        return this.onListen(msg, from);
      case 'refresh':
        return this.onRefresh(msg, from);
      case 'update':
        return this.onUpdate(msg, from);
    }
  }

  private onGet({ body, tid }: WireMessage, from: Endpoint) {
    if (!body.h) return this.error(from, tid, ErrorCode.NON_AUTHORITATIVE, 'Get with no hash');
    const stored = this.storage.get(body.h, body.query?.where ?? []);
    const base: Args = { ...this.nodesFor(body.h, body.want, from), token: this.tokens.issue(from) };
    const select = body.query?.select ?? [];
    if (select.length > 0) {
      return this.reply(from, tid, {
        ...base,
        fileds: selectFields(
          stored.map((e) => e.value),
          select,
        ),
      });
    }
    this.reply(
      from,
      tid,
      base,
      stored.map((e) => e.raw),
    );
  }

  private onPut({ body, tid }: WireMessage, from: Endpoint) {
    if (!body.h) return this.error(from, tid, ErrorCode.NON_AUTHORITATIVE, 'Put with no hash');
    if (!this.tokens.check(body.token, from))
      return this.error(from, tid, ErrorCode.UNAUTHORIZED, 'Put with wrong token');
    const key = body.h;
    const changed: StoredValue[] = [];
    for (const raw of body.values ?? []) {
      let value: DhtValue;
      try {
        value = decodeValue(raw);
      } catch {
        this.emit('value-rejected', { key, reason: 'malformed', from });
        continue;
      }
      if (value.id === 0n) {
        this.error(from, tid, ErrorCode.NON_AUTHORITATIVE, 'Put with invalid id');
        continue;
      }
      const created = body.created !== undefined ? body.created * 1000 : undefined;
      const outcome = this.storage.store(key, value, Date.now(), created);
      if (outcome.stored && outcome.changed) changed.push(outcome.entry);
      if (!outcome.stored) {
        this.log('refused to store a value', { key: key.toString('hex'), reason: outcome.reason });
        this.emit('value-rejected', { key, reason: outcome.reason, from, value });
      }
      // Like OpenDHT, acknowledge even a value the store policy refused.
      this.reply(from, tid, { vid: value.id });
    }
    if (changed.length > 0) this.valuesChanged(key, changed);
  }

  private onListen({ body, tid }: WireMessage, from: Endpoint) {
    if (!body.h) return this.error(from, tid, ErrorCode.NON_AUTHORITATIVE, 'Listen with no hash');
    if (!this.tokens.check(body.token, from)) {
      return this.error(from, tid, ErrorCode.UNAUTHORIZED, 'Listen with wrong token');
    }
    const hex = body.h.toString('hex');
    const sid = body.sid ?? tid;
    const perKey = this.remoteListeners.get(hex) ?? new Map<string, RemoteListener>();
    const listenerKey = `${endpointKey(from)}/${sid}`;
    const isNew = !perKey.has(listenerKey);
    if (isNew && (perKey.size >= MAX_LISTENERS_PER_KEY || this.countListeners() >= MAX_LISTENERS)) {
      return this.reply(from, tid, {});
    }
    this.remoteListeners.set(hex, perKey);
    const listener: RemoteListener = {
      ...from,
      id: body.id!,
      sid,
      query: body.query,
      expiresAt: Date.now() + LISTEN_EXPIRE_MS,
    };
    perKey.set(listenerKey, listener);
    this.reply(from, tid, {});
    if (isNew) {
      const current = this.storage.get(body.h, body.query?.where ?? []);
      if (current.length > 0) this.pushUpdate(body.h, listener, current);
    }
  }

  private onRefresh({ body, tid }: WireMessage, from: Endpoint) {
    if (!body.h || body.vid === undefined)
      return this.error(from, tid, ErrorCode.NON_AUTHORITATIVE, 'Refresh with no hash');
    if (!this.tokens.check(body.token, from)) {
      return this.error(from, tid, ErrorCode.UNAUTHORIZED, 'Refresh with wrong token');
    }
    const entry = this.storage.refresh(body.h, body.vid);
    if (!entry) return this.error(from, tid, ErrorCode.NOT_FOUND, 'Access operation for unknown storage');
    this.reply(from, tid, { vid: body.vid });
    for (const l of this.listenersOf(body.h)) {
      this.fireAndForget(l, 'update', { id: this.id, sid: l.sid, token: this.tokens.issue(l), re: [body.vid] });
    }
  }

  private onUpdate({ body, tid }: WireMessage, from: Endpoint) {
    const sub = body.sid !== undefined ? this.subscriptions.get(body.sid) : undefined;
    const fromTarget = sub?.targets.some((t) => sameEndpoint(t, from));
    if (sub && fromTarget && (!body.h || body.h.equals(sub.key))) {
      const values = (body.values ?? []).map((raw) => this.admit(sub.key, raw, from));
      this.deliver(sub, values);
      if (body.expired?.length) this.deliverExpired(sub, body.expired);
    }
    this.reply(from, tid, {});
  }

  // ---------------------------------------------------------------- values in and out

  /** Decodes and checks a value from the network; undefined (and a 'value-rejected' event) when it fails. */
  private admit(key: Buffer, raw: Buffer, from?: Endpoint): DhtValue | undefined {
    const a = admitValue(raw, this.identity);
    if (a.ok) return a.value;
    this.emit('value-rejected', { key, reason: a.reason, from, value: a.value });
    return undefined;
  }

  private deliver(sub: Subscription, values: (DhtValue | undefined)[]) {
    const fresh: DhtValue[] = [];
    for (const v of values) {
      if (!v || (sub.filter && !sub.filter(v))) continue;
      const old = sub.seen.get(v.id);
      if (old && (v.seq ?? 0) <= (old.seq ?? 0)) continue;
      sub.seen.set(v.id, v);
      fresh.push(v);
    }
    if (fresh.length > 0) this.callListener(sub, fresh, false);
  }

  private deliverExpired(sub: Subscription, ids: bigint[]) {
    const gone = ids.map((id) => sub.seen.get(id)).filter((v): v is DhtValue => v !== undefined);
    for (const v of gone) sub.seen.delete(v.id);
    if (gone.length > 0) this.callListener(sub, gone, true);
  }

  private callListener(sub: Subscription, values: DhtValue[], expired: boolean) {
    try {
      sub.cb(values, expired);
    } catch (err) {
      this.log('listen callback threw', { error: (err as Error).message });
    }
  }

  private countListeners(now = Date.now()): number {
    let n = 0;
    for (const perKey of this.remoteListeners.values()) for (const l of perKey.values()) if (l.expiresAt > now) n++;
    return n;
  }

  private listenersOf(key: Buffer): RemoteListener[] {
    const now = Date.now();
    return [...(this.remoteListeners.get(key.toString('hex'))?.values() ?? [])].filter((l) => l.expiresAt > now);
  }

  /** New or changed values at key: tell remote listeners and our own subscriptions. */
  private valuesChanged(key: Buffer, entries: StoredValue[]) {
    for (const l of this.listenersOf(key)) {
      const matching = entries.filter((e) => matchesWhere(e.value, l.query?.where ?? []));
      if (matching.length > 0) this.pushUpdate(key, l, matching);
    }
    for (const sub of this.subscriptions.values()) {
      if (sub.key.equals(key))
        this.deliver(
          sub,
          entries.map((e) => this.admit(key, e.raw)),
        );
    }
  }

  private pushUpdate(key: Buffer, l: RemoteListener, entries: StoredValue[]) {
    const args: Args = { id: this.id, ve: 1, h: key, sid: l.sid, token: this.tokens.issue(l) };
    this.fireAndForget(
      l,
      'update',
      args,
      entries.map((e) => e.raw),
    );
  }

  private fireAndForget(to: Endpoint, method: Method, args: Args, values?: Buffer[]) {
    this.inBackground(this.request(to, method, args, { values }).catch(() => undefined));
  }

  // ---------------------------------------------------------------- maintenance

  private maintain() {
    if (!this.socket) return;
    const now = Date.now();
    this.tokens.maintain(now);
    this.reassembler.sweep(now);
    for (const { key, values } of this.storage.expire(now)) {
      const ids = values.map((e) => e.value.id);
      for (const l of this.listenersOf(key)) {
        this.fireAndForget(l, 'update', { id: this.id, sid: l.sid, token: this.tokens.issue(l), exp: ids });
      }
      for (const sub of this.subscriptions.values()) if (sub.key.equals(key)) this.deliverExpired(sub, ids);
    }
    for (const [hex, perKey] of this.remoteListeners) {
      for (const [k, l] of perKey) if (l.expiresAt <= now) perKey.delete(k);
      if (perKey.size === 0) this.remoteListeners.delete(hex);
    }
    for (const sub of this.subscriptions.values()) {
      if (sub.refreshing || now < sub.refreshAt) continue;
      sub.refreshing = true;
      this.inBackground(
        this.renewListen(sub)
          .catch(() => undefined)
          .finally(() => (sub.refreshing = false)),
      );
    }
    for (const put of this.permanent.values()) {
      if (put.refreshing || now < put.refreshAt) continue;
      put.refreshing = true;
      this.inBackground(
        this.refreshPut(put)
          .catch(() => undefined)
          .finally(() => (put.refreshing = false)),
      );
    }
    this.table.prune(now);
    const hasGood = this.table.all().some((n) => this.table.isGood(n, now));
    if (!hasGood && this.bootstrapNodes.length > 0 && now - this.lastBootstrap > REBOOTSTRAP_INTERVAL_MS) {
      this.lastBootstrap = now;
      const addrs = this.bootstrapNodes.map((e) => formatEndpoint(e));
      this.inBackground(this.bootstrap(addrs).catch(() => 0));
    } else if (hasGood && now - this.lastNeighbourhood > NEIGHBOURHOOD_INTERVAL_MS) {
      this.lastNeighbourhood = now;
      this.inBackground(this.search(this.id, 'find'));
    }
  }

  /** Renews a listen with its nodes; searches again when one of them no longer answers. */
  private async renewListen(sub: Subscription) {
    const results = await Promise.allSettled(sub.targets.map((n) => this.sendListen(sub, n)));
    const lost = sub.targets.length === 0 || results.some((r) => r.status === 'rejected');
    if (!this.subscriptions.has(sub.sid)) return;
    if (lost) await this.subscribe(sub);
    else sub.refreshAt = Date.now() + (this.opts.listenRefreshMs ?? 20_000);
  }

  /** Refreshes a permanent value where it is stored; puts it again when a node lost it or the set shrank. */
  private async refreshPut(put: PermanentPut) {
    const results = await Promise.allSettled(
      put.nodes.map((n) => this.request(n, 'refresh', { id: this.id, h: put.key, vid: put.id, token: n.token })),
    );
    const kept = put.nodes.filter((_, i) => results[i].status === 'fulfilled');
    if (kept.length < Math.min(put.nodes.length, TARGET_NODES) || kept.length === 0) {
      const nodes = (await this.search(put.key, 'find')).filter((n) => n.token).slice(0, TARGET_NODES);
      put.nodes = await this.announce(put.key, put.raw, nodes);
    } else put.nodes = kept;
    put.refreshAt = Date.now() + this.refreshDelay(put.type);
  }

  private refreshDelay(type: number): number {
    const expiry = valueExpiryMs(type);
    return Math.max(expiry - Math.min(60_000, expiry / 4), 1_000);
  }

  // ---------------------------------------------------------------- helpers

  private inBackground<T>(p: Promise<T>) {
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  private infoOf(n: SearchNode): NodeInfo {
    const entry = this.table.find(n.id);
    return entry ? this.table.info(entry) : { id: n.id, host: n.host, port: n.port, good: false, lastSeen: 0 };
  }

  private async resolve(address: string): Promise<Endpoint | undefined> {
    const { host, port } = parseHostPort(address);
    if (!Number.isInteger(port) || port <= 0 || port > 0xffff) return undefined;
    if (isIP(host)) return familyOf(host) === this.family ? { host, port } : undefined;
    try {
      const { address: ip } = await lookup(host, { family: this.family });
      return { host: ip, port };
    } catch (err) {
      this.log('cannot resolve address', { address, error: (err as Error).message });
      return undefined;
    }
  }

  private log(message: string, details?: Record<string, unknown>) {
    this.opts.log?.(message, details);
  }
}
