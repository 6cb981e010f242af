import type { IceServer } from 'node-datachannel';
import { DeviceIdentity } from './account/device-identity';
import { ConnectionManager } from './connection/connection-manager';
import type { DhtApi } from './dht/dht-api';
import { DhtNode } from './dht/dht-node';
import { DhtProxyClient } from './dht/dht-proxy-client';
import { JamsClient } from './jams/jams-client';
import { MessageStore, Messenger, SendResult } from './messaging/messenger';
import { AnnouncedDevice, Presence } from './presence/presence';
import { VerifiedDevice } from './trust/device-chain';
import { CrlSource, RevocationChecker, RevocationMode } from './trust/revocation';
import { TrustError, TrustErrorCode } from './trust/trust.errors';

export type PeerLog = (level: 'debug' | 'info' | 'warn', message: string, details?: Record<string, unknown>) => void;

export interface EnclavePeerOptions {
  identity: DeviceIdentity;
  dht?: {
    /** Bind address; default 0.0.0.0. */
    host?: string;
    /** Default 0 (any). */
    port?: number;
    /** Node id (40 hex); default random. Restarting with the same id and port keeps others' routing tables valid. */
    id?: string;
    /** "host:port" nodes to join (the policy's Account.hostname). */
    bootstrap?: string[];
    nodeCacheFile?: string;
    networkId?: number;
    /** Wait before each resend of a DHT request (default [1000, 1000, 1500] ms). */
    requestTimeoutsMs?: number[];
  };
  /**
   * Reach the DHT through an OpenDHT REST proxy instead of running a UDP node (the policy's
   * Account.proxyEnabled + Account.proxyServer). `dht` options are then ignored.
   */
  dhtProxy?: { server: string; ca?: string; pollIntervalMs?: number };
  /** The Enclave server: CRLs (and OCSP) come from it, and our account's CRL is republished on the DHT. */
  server?: JamsClient;
  ice?: { iceServers?: IceServer[]; bindAddress?: string; relayOnly?: boolean };
  connectTimeoutMs?: number;
  /** More places to find CRLs (the server and the DHT are always used). */
  crlSources?: CrlSource[];
  /** How long a fetched CRL is trusted before fetching again. Default 60 s. */
  crlMaxAgeMs?: number;
  revocationMode?: RevocationMode;
  messageStore?: MessageStore;
  retryIntervalMs?: number;
  /** Directory for the DTLS key file (a private temp dir by default). */
  workDir?: string;
  log?: PeerLog;
}

/**
 * The peer core of an Enclave device: a DHT node with the device identity, presence (announcement,
 * certificate, CRLs), secure connections and messaging.
 */
export class EnclavePeer {
  /** The way to the DHT: our own node, or the proxy. */
  readonly dht: DhtApi;
  /** Our UDP DHT node (absent when a proxy is used). */
  readonly node: DhtNode | undefined;
  /** The DHT proxy client (when the policy sets one). */
  readonly proxy: DhtProxyClient | undefined;
  readonly revocation: RevocationChecker;
  readonly presence: Presence;
  readonly connections: ConnectionManager;
  readonly messenger: Messenger;
  private started = false;
  /** Accounts whose key we listen at for CRLs (accounts we were connected to). */
  private readonly crlWatches = new Set<string>();

  constructor(private readonly opts: EnclavePeerOptions) {
    const log = opts.log ?? (() => undefined);
    const debug = (message: string, details?: Record<string, unknown>) => log('debug', message, details);
    const info = (message: string, details?: Record<string, unknown>) => log('info', message, details);
    const { identity } = opts;
    const privateKeyPem = identity.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    if (opts.dhtProxy) {
      this.proxy = new DhtProxyClient({ ...opts.dhtProxy, identity: { privateKeyPem }, log: debug });
      this.dht = this.proxy;
    } else {
      this.node = new DhtNode({
        host: opts.dht?.host,
        port: opts.dht?.port,
        id: opts.dht?.id,
        requestTimeoutsMs: opts.dht?.requestTimeoutsMs,
        networkId: opts.dht?.networkId,
        nodeCacheFile: opts.dht?.nodeCacheFile,
        identity: { privateKeyPem },
        log: debug,
      });
      this.dht = this.node;
    }
    const sources: CrlSource[] = [...(opts.crlSources ?? [])];
    const server = opts.server;
    if (server) sources.push({ name: 'server', fetch: async (issuer) => [await server.crl(issuer)] });
    this.revocation = new RevocationChecker({
      sources,
      ocsp: server ? (req) => server.ocsp(req) : undefined,
      maxAgeMs: opts.crlMaxAgeMs,
      mode: opts.revocationMode,
      log: (m, d) => log('warn', m, d),
    });
    this.presence = new Presence(this.dht, identity, this.revocation, debug);
    sources.push(this.presence.crlSource());
    this.connections = new ConnectionManager({
      dht: this.dht,
      identity,
      verifier: this.presence,
      iceServers: opts.ice?.iceServers,
      bindAddress: opts.ice?.bindAddress,
      relayOnly: opts.ice?.relayOnly,
      connectTimeoutMs: opts.connectTimeoutMs,
      workDir: opts.workDir,
      log: info,
      debug,
    });
    // A CRL published on the DHT (by the server or the account's own devices) drops a revoked peer at once,
    // even when the server cannot be reached.
    this.connections.on('connection', (conn) => void this.watchRevocations(conn.peer));
    this.dht.on('value-rejected', (e) => {
      log(e.reason === 'inner-signature' || e.reason === 'bad-signature' ? 'warn' : 'debug', 'DHT value rejected', {
        key: e.key.toString('hex'),
        reason: e.reason,
        from: e.from ? `${e.from.host}:${e.from.port}` : undefined,
      });
    });
    this.messenger = new Messenger({
      dht: this.dht,
      identity,
      presence: this.presence,
      connections: this.connections,
      store: opts.messageStore,
      retryIntervalMs: opts.retryIntervalMs,
      log: info,
    });
  }

  get identity(): DeviceIdentity {
    return this.opts.identity;
  }

  /**
   * Starts the DHT node and joins the network, publishes this device, listens for connection requests and
   * inbox messages. Resolves with the number of nodes in the routing table after bootstrap (with a proxy: in
   * the proxy's routing table).
   */
  async start(): Promise<number> {
    if (this.started) throw new Error('peer already started');
    this.started = true;
    let nodes: number;
    if (this.proxy) nodes = (await this.proxy.start()).nodes;
    else {
      const node = this.node!;
      await node.start();
      nodes = this.opts.dht?.bootstrap?.length ? await node.bootstrap(this.opts.dht.bootstrap) : 0;
    }
    await Promise.all([this.presence.publish(), this.connections.start(), this.messenger.start()]);
    void this.publishOwnCrl();
    return nodes;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.crlWatches.clear();
    await this.messenger.stop();
    await this.connections.stop();
    await (this.proxy ?? this.node)!.stop();
  }

  /** The devices a colleague's account announces on the DHT. */
  devicesOf(accountId: string): Promise<AnnouncedDevice[]> {
    return this.presence.devicesOf(accountId);
  }

  /** Sends a text to every device of an account (directly, or queued in their inboxes and retried). */
  send(accountId: string, text: string): Promise<SendResult> {
    return this.messenger.send(accountId, text);
  }

  /**
   * Listens (once per account, for the peer's lifetime) at the account key of a connected peer for CRLs; a
   * newer verified CRL re-checks every open connection of that account and drops the revoked ones.
   */
  private async watchRevocations(peer: VerifiedDevice): Promise<void> {
    if (this.crlWatches.has(peer.accountId) || !this.started) return;
    this.crlWatches.add(peer.accountId);
    const onCrl = (der: Buffer) => {
      if (!this.revocation.addCrl(der, peer.account)) return;
      for (const conn of this.connections.openConnections) {
        if (conn.peer.accountId !== peer.accountId) continue;
        this.revocation.checkDevice(conn.peer).catch((err: Error) => {
          if (err instanceof TrustError && err.code === TrustErrorCode.REVOKED) {
            this.connections.drop(conn.peer.deviceShortId, err.message, err.code);
          }
        });
      }
    };
    try {
      await this.presence.watchCrls(peer.accountId, onCrl);
    } catch (err) {
      this.crlWatches.delete(peer.accountId);
      this.opts.log?.('debug', 'could not listen for CRLs', {
        accountId: peer.accountId,
        error: (err as Error).message,
      });
    }
  }

  /** Republishes our account's CRL (from the server) on the DHT, as Jami devices do. */
  private async publishOwnCrl(): Promise<void> {
    if (!this.opts.server) return;
    try {
      const der = await this.opts.server.crl(this.identity.accountId);
      if (this.revocation.addCrl(der, this.identity.account)) await this.presence.publishCrl(der);
    } catch (err) {
      this.opts.log?.('debug', 'could not republish the account CRL', { error: (err as Error).message });
    }
  }
}
