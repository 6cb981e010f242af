import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanup as releaseNativeTransports, DataChannel, IceServer, PeerConnection } from 'node-datachannel';
import { DeviceIdentity, exportPrivateKey } from '../account/device-identity';
import type { DhtApi } from '../dht/dht-api';
import { keyId } from '../dht/info-hash';
import { DhtValue, randomValueId } from '../dht/value';
import { peerKey } from '../presence/dht-keys';
import { VerifiedDevice } from '../trust/device-chain';
import { TrustError, TrustErrorCode } from '../trust/trust.errors';
import {
  decodePeerRequest,
  ENCLAVE_CONN_TYPE,
  encodePeerRequest,
  PEER_REQUEST_UTYPE,
  PeerRequest,
  sdpFingerprint,
} from './peer-request';
import { adoptChannel } from './channel-registry';
import { ChannelTransport, CONTROL_CHANNEL, Route, SecureConnection } from './secure-connection';

/** Resolves a device by its short id to a chain verified up to the organization CA, revocation included. */
export interface PeerVerifier {
  verifyDevice(deviceShortId: string): Promise<VerifiedDevice>;
}

export interface ConnectionManagerOptions {
  dht: DhtApi;
  identity: DeviceIdentity;
  verifier: PeerVerifier;
  /** STUN ("stun:host:port") and TURN servers (from the policy's TURN.* keys). */
  iceServers?: (string | IceServer)[];
  /** Only gather candidates on this address (tests use 127.0.0.1). */
  bindAddress?: string;
  /** Relay-only ICE (with a TURN server). */
  relayOnly?: boolean;
  /** How long a connection may take from request to open channel. Default 15 s. */
  connectTimeoutMs?: number;
  /** Where the DTLS key and certificate files go (libdatachannel reads files). Default a private temp dir. */
  workDir?: string;
  log?: (message: string, details?: Record<string, unknown>) => void;
  /** Step-by-step tracing of the exchanges. */
  debug?: (message: string, details?: Record<string, unknown>) => void;
}

export interface RefusedPeer {
  /** Short id of the device (the signer of its request), when known. */
  deviceShortId?: string;
  direction: 'incoming' | 'outgoing';
  reason: string;
  code?: TrustErrorCode | string;
}

export interface ConnectionManagerEvents {
  /** A connection (incoming or outgoing) is open and its peer verified. */
  connection: [SecureConnection];
  /** A peer was refused: bad chain, revoked, DTLS key mismatch, … */
  refused: [RefusedPeer];
}

export class ConnectionError extends Error {
  constructor(
    message: string,
    /**
     * TIMEOUT: no answer; NOT_FOUND: no valid certificate published; FAILED: the transport failed;
     * NO_RELAY: relay-only, and the TURN server gave no relayed address (refused the credentials, or silent).
     */
    readonly code: 'TIMEOUT' | 'NOT_FOUND' | 'FAILED' | 'STOPPED' | 'NO_RELAY',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

interface PendingAnswer {
  peer: VerifiedDevice;
  resolve: (r: PeerRequest) => void;
  reject: (e: Error) => void;
}

/**
 * One libdatachannel PeerConnection with its callbacks registered once. It tracks every data channel it
 * made or received and closes them before the connection: libdatachannel's global cleanup crashes on a
 * channel left open after its connection went away.
 */
class Transport implements ChannelTransport {
  readonly pc: PeerConnection;
  readonly gathered: Promise<string>;
  readonly failed: Promise<never>;
  private readonly dcs = new Set<DataChannel>();
  /** Takes a channel the peer opened; false leaves it queued for the next handler. */
  private onChannel?: (dc: DataChannel) => boolean;
  /** Channels the peer opened that no handler took yet (the peer may open one before our side is live). */
  private readonly unclaimed: DataChannel[] = [];
  private failReject!: (e: Error) => void;
  private closed = false;

  constructor(name: string, config: ConstructorParameters<typeof PeerConnection>[1]) {
    this.pc = new PeerConnection(name, config);
    this.failed = new Promise<never>((_, reject) => (this.failReject = reject));
    this.failed.catch(() => undefined);
    this.gathered = new Promise((resolve) => {
      this.pc.onGatheringStateChange((s) => {
        if (s === 'complete') resolve(this.pc.localDescription()!.sdp);
      });
    });
    this.pc.onStateChange((s) => {
      if (s === 'failed' || s === 'closed') this.failReject(new ConnectionError(`connection ${s}`, 'FAILED'));
    });
    this.pc.onDataChannel((dc) => {
      adoptChannel(dc);
      if (this.closed) return closeQuietly(dc);
      this.dcs.add(dc);
      if (!this.onChannel?.(dc)) this.unclaimed.push(dc);
    });
  }

  /** Sets the handler of channels the peer opens; channels no earlier handler took are offered to it first. */
  channels(cb: (dc: DataChannel) => boolean) {
    this.onChannel = cb;
    const queued = this.unclaimed.splice(0);
    for (const dc of queued) if (!cb(dc)) this.unclaimed.push(dc);
  }

  createDataChannel(label: string): DataChannel {
    if (this.closed) throw new ConnectionError('connection closed', 'FAILED');
    const dc = this.pc.createDataChannel(label);
    adoptChannel(dc);
    this.dcs.add(dc);
    return dc;
  }

  selectedPair(): Route | undefined {
    try {
      const pair = this.pc.getSelectedCandidatePair();
      return pair
        ? {
            local: `${pair.local.address}:${pair.local.port}`,
            remote: `${pair.remote.address}:${pair.remote.port}`,
            localType: pair.local.type,
            remoteType: pair.remote.type,
          }
        : undefined;
    } catch {
      return undefined;
    }
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    for (const dc of this.dcs) closeQuietly(dc);
    this.dcs.clear();
    try {
      this.pc.close();
    } catch {
      // ignore
    }
  }
}

function closeQuietly(dc: DataChannel) {
  try {
    dc.close();
  } catch {
    // already closed
  }
}

/** After its answer is stored, how long the answerer waits before it starts connectivity checks. */
const ANSWER_GRACE_MS = 50;

/** An SDP without its candidate lines, the candidates ("candidate:…") and the media id they belong to. */
export function splitCandidates(sdp: string): { sdp: string; candidates: string[]; mid: string } {
  const lines = sdp.split(/\r?\n/);
  const candidates = lines.filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2));
  const kept = lines.filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates');
  const mid = /^a=mid:(\S+)/m.exec(sdp)?.[1] ?? '0';
  return { sdp: kept.join('\r\n'), candidates, mid };
}

/**
 * Managers started in this process. libdatachannel's callbacks hold the event loop open until their
 * wrappers are garbage-collected, so the last manager to stop releases them all (a later start works again).
 */
let runningManagers = 0;

/** Once closing transports have settled (libdatachannel closes them on its own threads), if none started since. */
function scheduleNativeRelease() {
  setTimeout(() => {
    if (runningManagers === 0) releaseNativeTransports();
  }, 1_000).unref();
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectionError(`${what} timed out after ${ms} ms`, 'TIMEOUT')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const openChannel = (dc: DataChannel): Promise<void> =>
  new Promise((resolve) => {
    if (dc.isOpen()) resolve();
    else dc.onOpen(() => resolve());
  });

/**
 * Secure peer connections, many at once. The ICE exchange is one encrypted DHT value each way at
 * h("peer:"+device) (signed by the sender's device key, encrypted to the receiver's): the offer or answer SDP
 * with ICE credentials, candidates and the DTLS fingerprint. Each side uses its device certificate as its
 * DTLS certificate, so before anything flows both sides have checked that the signer of the request has a
 * chain up to the organization CA, is not revoked, that the SDP's fingerprint is its device certificate and
 * that the DTLS session was made with that very certificate.
 */
export class ConnectionManager extends EventEmitter<ConnectionManagerEvents> {
  private readonly connections = new Map<string, SecureConnection>();
  private readonly connecting = new Map<string, Promise<SecureConnection>>();
  private readonly awaiting = new Map<bigint, PendingAnswer>();
  private readonly handled = new Set<bigint>();
  private readonly transports = new Set<Transport>();
  private readonly timeoutMs: number;
  private cancelListen: (() => void) | undefined;
  private files: { dir: string; cert: string; key: string; pass: string; own: boolean } | undefined;
  private stopped = false;

  constructor(private readonly opts: ConnectionManagerOptions) {
    super();
    this.timeoutMs = opts.connectTimeoutMs ?? 15_000;
  }

  /** Writes the DTLS files and listens for connection requests. */
  async start(): Promise<void> {
    const own = !this.opts.workDir;
    const dir = this.opts.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-dtls-'));
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pass = randomBytes(24).toString('base64url');
    const cert = path.join(dir, `dtls-${process.pid}.crt`);
    const key = path.join(dir, `dtls-${process.pid}.key`);
    fs.writeFileSync(cert, this.opts.identity.device.toString(), { mode: 0o600 });
    // libdatachannel reads the key from a file: it is written encrypted with a passphrase kept in memory.
    fs.writeFileSync(key, exportPrivateKey(this.opts.identity.privateKey, pass), { mode: 0o600 });
    this.files = { dir, cert, key, pass, own };
    runningManagers++;
    // Requests already on the DHT when we start were meant for a previous run (or were sent while we were
    // down): they are not answered. A requester that is still waiting asks again with a new request.
    let initial = true;
    this.cancelListen = await this.opts.dht.listen(peerKey(this.opts.identity.deviceShortId), (values, expired) => {
      if (!expired) for (const v of values) this.onRequestValue(v, initial);
    });
    initial = false;
  }

  /** Closes every connection and stops listening. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelListen?.();
    for (const p of this.awaiting.values()) p.reject(new ConnectionError('connection manager stopped', 'STOPPED'));
    this.awaiting.clear();
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
    for (const t of this.transports) t.close();
    this.transports.clear();
    if (this.files) {
      for (const f of [this.files.cert, this.files.key]) fs.rmSync(f, { force: true });
      if (this.files.own) fs.rmSync(this.files.dir, { recursive: true, force: true });
      this.files = undefined;
      if (--runningManagers === 0) scheduleNativeRelease();
    }
  }

  /** The open connection to a device, if any. */
  connection(deviceShortId: string): SecureConnection | undefined {
    const c = this.connections.get(deviceShortId);
    return c?.isOpen ? c : undefined;
  }

  get openConnections(): SecureConnection[] {
    return [...this.connections.values()].filter((c) => c.isOpen);
  }

  /** An open, verified connection to a device: the existing one, or a new one. */
  connect(deviceShortId: string): Promise<SecureConnection> {
    if (this.stopped) return Promise.reject(new ConnectionError('connection manager stopped', 'STOPPED'));
    const open = this.connection(deviceShortId);
    if (open) return Promise.resolve(open);
    let p = this.connecting.get(deviceShortId);
    if (!p) {
      p = this.dial(deviceShortId)
        .catch((err: Error) => {
          // A transport failure (not a refusal, not a silent peer) gets one more try with a fresh transport.
          if (err instanceof TrustError || (err instanceof ConnectionError && err.code !== 'FAILED') || this.stopped) {
            throw err;
          }
          this.log('connection attempt failed, retrying', { peer: deviceShortId, error: err.message });
          return this.dial(deviceShortId);
        })
        .finally(() => this.connecting.delete(deviceShortId));
      this.connecting.set(deviceShortId, p);
    }
    return p;
  }

  // ---------------------------------------------------------------- outgoing

  private async dial(deviceShortId: string): Promise<SecureConnection> {
    let peer: VerifiedDevice;
    try {
      peer = await this.opts.verifier.verifyDevice(deviceShortId);
    } catch (err) {
      this.refuse({ deviceShortId, direction: 'outgoing', reason: (err as Error).message, code: codeOf(err) });
      throw err instanceof TrustError ? err : new ConnectionError((err as Error).message, 'NOT_FOUND', { cause: err });
    }
    const id = randomValueId();
    const ids = [id];
    const t = this.transport(`out-${deviceShortId.slice(0, 8)}-${id.toString(16)}`);
    try {
      const control = t.createDataChannel(CONTROL_CHANNEL);
      const offer = this.checkRelay(await withTimeout(t.gathered, this.timeoutMs, 'ICE gathering'));
      let pending!: PendingAnswer;
      const answer = new Promise<PeerRequest>((resolve, reject) => (pending = { peer, resolve, reject }));
      const putRequest = async (requestId: bigint) => {
        this.awaiting.set(requestId, pending);
        const sent = await this.opts.dht.putEncrypted(
          peerKey(deviceShortId),
          encodePeerRequest({
            id: requestId,
            iceMsg: offer,
            isAnswer: false,
            connType: ENCLAVE_CONN_TYPE,
            ts: Date.now(),
          }),
          peer.devicePublicKey.export({ type: 'spki', format: 'pem' }).toString(),
          { utype: PEER_REQUEST_UTYPE },
        );
        this.opts.debug?.('connection request sent', {
          peer: deviceShortId,
          id: requestId.toString(16),
          storedOn: sent.storedOn.length,
        });
      };
      await putRequest(id);
      // No answer after a third of the time: ask again, as a new request (a fresh search reaches the nodes
      // the peer listens on if the first did not; a peer that was just starting ignored the first one).
      const again = setTimeout(() => {
        if (!this.awaiting.has(id)) return;
        const retry = randomValueId();
        ids.push(retry);
        putRequest(retry).catch(() => undefined);
      }, this.timeoutMs / 3);
      const reply = await withTimeout(
        Promise.race([answer, t.failed]),
        this.timeoutMs,
        `answer from ${deviceShortId}`,
      ).finally(() => clearTimeout(again));
      t.pc.setRemoteDescription(reply.iceMsg, 'answer');
      await withTimeout(Promise.race([openChannel(control), t.failed]), this.timeoutMs, 'DTLS/SCTP handshake');
      return this.established(t, peer, true);
    } catch (err) {
      t.close();
      this.transports.delete(t);
      throw err;
    } finally {
      for (const i of ids) this.awaiting.delete(i);
    }
  }

  // ---------------------------------------------------------------- incoming

  private onRequestValue(v: DhtValue, initial = false) {
    if (!v.decrypted || !v.owner || v.utype !== PEER_REQUEST_UTYPE) return;
    const req = decodePeerRequest(v.data);
    if (!req || req.connType !== ENCLAVE_CONN_TYPE) return;
    const from = keyId(v.owner).toString('hex');
    if (req.isAnswer) {
      const pending = this.awaiting.get(req.id);
      if (!pending) return;
      if (from !== pending.peer.deviceShortId) {
        this.refuse({ deviceShortId: from, direction: 'outgoing', reason: 'answer signed by another device' });
        return;
      }
      if (sdpFingerprint(req.iceMsg) !== pending.peer.fingerprint) {
        this.refuse({
          deviceShortId: from,
          direction: 'outgoing',
          reason: 'the DTLS fingerprint of the answer is not the device certificate',
          code: TrustErrorCode.KEY_MISMATCH,
        });
        pending.reject(new TrustError(TrustErrorCode.KEY_MISMATCH, 'DTLS certificate is not the device certificate'));
        return;
      }
      pending.resolve(req);
      return;
    }
    this.opts.debug?.('connection request received', { from, id: req.id.toString(16), answer: req.isAnswer });
    if (this.handled.has(req.id)) return;
    this.handled.add(req.id);
    if (this.handled.size > 4096) this.handled.delete(this.handled.values().next().value!);
    if (initial) return;
    void this.answer(from, v.owner, req).catch((err: Error) => {
      this.log('incoming connection failed', { from, error: err.message });
    });
  }

  private async answer(from: string, ownerSpki: Buffer, req: PeerRequest): Promise<void> {
    if (this.stopped) return;
    let peer: VerifiedDevice;
    try {
      peer = await this.opts.verifier.verifyDevice(from);
      if (!peer.devicePublicKey.export({ type: 'spki', format: 'der' }).equals(ownerSpki)) {
        throw new TrustError(TrustErrorCode.KEY_MISMATCH, 'the request is not signed by the certified device key');
      }
      if (sdpFingerprint(req.iceMsg) !== peer.fingerprint) {
        throw new TrustError(TrustErrorCode.KEY_MISMATCH, 'the DTLS fingerprint is not the device certificate');
      }
    } catch (err) {
      this.refuse({ deviceShortId: from, direction: 'incoming', reason: (err as Error).message, code: codeOf(err) });
      return;
    }
    const t = this.transport(`in-${from.slice(0, 8)}-${req.id.toString(16)}`);
    const control = new Promise<DataChannel>((resolve) =>
      t.channels((dc) => {
        if (dc.getLabel() !== CONTROL_CHANNEL) return false;
        resolve(dc);
        return true;
      }),
    );
    try {
      // The requester's candidates are added only once our answer is on the DHT: our connectivity checks
      // (and then the DTLS handshake) must not reach it before it has the answer, whose fingerprint it
      // checks our certificate against.
      const offer = splitCandidates(req.iceMsg);
      t.pc.setRemoteDescription(offer.sdp, 'offer');
      const sdp = this.checkRelay(await withTimeout(t.gathered, this.timeoutMs, 'ICE gathering'));
      await this.opts.dht.putEncrypted(
        peerKey(from),
        encodePeerRequest({ id: req.id, iceMsg: sdp, isAnswer: true, connType: ENCLAVE_CONN_TYPE, ts: Date.now() }),
        peer.devicePublicKey.export({ type: 'spki', format: 'pem' }).toString(),
        { utype: PEER_REQUEST_UTYPE },
      );
      await new Promise((r) => setTimeout(r, ANSWER_GRACE_MS));
      for (const c of offer.candidates) t.pc.addRemoteCandidate(c, offer.mid);
      const dc = await withTimeout(Promise.race([control, t.failed]), this.timeoutMs, 'incoming handshake');
      await openChannel(dc);
      this.established(t, peer, false);
    } catch (err) {
      t.close();
      this.transports.delete(t);
      throw err;
    }
  }

  // ---------------------------------------------------------------- common

  private transport(name: string): Transport {
    const f = this.files;
    if (!f) throw new ConnectionError('connection manager not started', 'STOPPED');
    const t = new Transport(name, {
      iceServers: this.opts.iceServers ?? [],
      bindAddress: this.opts.bindAddress,
      iceTransportPolicy: this.opts.relayOnly ? 'relay' : 'all',
      certificatePemFile: f.cert,
      keyPemFile: f.key,
      keyPemPass: f.pass,
    });
    this.transports.add(t);
    return t;
  }

  /** Relay-only: the gathered description must hold a relayed candidate, else nothing can connect. */
  private checkRelay(sdp: string): string {
    if (this.opts.relayOnly && !/^a=candidate:.* typ relay/m.test(sdp)) {
      throw new ConnectionError(
        'no relayed ICE candidate: the TURN server refused the allocation (check TURN.username and ' +
          'TURN.password) or did not answer',
        'NO_RELAY',
      );
    }
    return sdp;
  }

  /** Final check (the DTLS peer used the device certificate), then the connection is live. */
  private established(t: Transport, peer: VerifiedDevice, initiator: boolean): SecureConnection {
    const remote = t.pc.remoteFingerprint();
    if (remote.algorithm !== 'sha-256' || remote.value.toUpperCase() !== peer.fingerprint) {
      this.refuse({
        deviceShortId: peer.deviceShortId,
        direction: initiator ? 'outgoing' : 'incoming',
        reason: 'the DTLS session was not made with the device certificate',
        code: TrustErrorCode.KEY_MISMATCH,
      });
      throw new TrustError(TrustErrorCode.KEY_MISMATCH, 'the DTLS session was not made with the device certificate');
    }
    const route = t.selectedPair();
    if (this.opts.relayOnly && route?.localType !== 'relay') {
      // libjuice may still pair its host socket with a peer-reflexive candidate learned from the peer's
      // checks: relay-only means no such path, ever.
      const reason = `relay-only ICE selected a ${route?.localType ?? 'unknown'} path, not a relayed one`;
      this.refuse({ deviceShortId: peer.deviceShortId, direction: initiator ? 'outgoing' : 'incoming', reason });
      throw new ConnectionError(reason, 'FAILED');
    }
    const conn = new SecureConnection(t, peer, initiator);
    t.failed.catch(() => conn.close());
    conn.once('close', () => {
      this.transports.delete(t);
      if (this.connections.get(peer.deviceShortId) === conn) this.connections.delete(peer.deviceShortId);
    });
    const previous = this.connections.get(peer.deviceShortId);
    this.connections.set(peer.deviceShortId, conn);
    if (previous && previous !== conn) {
      // Both sides dialled at once: keep both briefly so in-flight messages land, then drop the older one.
      setTimeout(() => previous.close(), 5_000).unref();
    }
    this.log('connection open', { peer: peer.deviceShortId, initiator, route });
    this.emit('connection', conn);
    // Only now do channels the peer opened reach the connection: 'connection' listeners subscribe to them.
    t.channels((dc) => {
      conn.accept(dc);
      return true;
    });
    return conn;
  }

  /**
   * Closes the open connection(s) to a device found untrusted after the fact (e.g. a CRL revoking it arrived),
   * reported as a 'refused' event. Resolves with whether one was open.
   */
  drop(deviceShortId: string, reason: string, code?: TrustErrorCode | string): boolean {
    const conn = this.connections.get(deviceShortId);
    if (!conn) return false;
    this.connections.delete(deviceShortId);
    conn.close();
    this.refuse({ deviceShortId, direction: conn.initiator ? 'outgoing' : 'incoming', reason, code });
    return true;
  }

  private refuse(r: RefusedPeer) {
    this.log('peer refused', { ...r });
    this.emit('refused', r);
  }

  private log(message: string, details?: Record<string, unknown>) {
    this.opts.log?.(message, details);
  }
}

function codeOf(err: unknown): string | undefined {
  return err instanceof TrustError ? err.code : err instanceof Error ? err.name : undefined;
}
