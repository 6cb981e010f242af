import { EventEmitter } from 'node:events';
import { DeviceIdentity } from '../account/device-identity';
import { ConnectionManager } from '../connection/connection-manager';
import { MuxChannel, SecureConnection } from '../connection/secure-connection';
import type { DhtApi } from '../dht/dht-api';
import { keyId } from '../dht/info-hash';
import { DhtValue, randomValueId, ValueType } from '../dht/value';
import { inboxKey } from '../presence/dht-keys';
import { AnnouncedDevice, Presence } from '../presence/presence';
import { VerifiedDevice } from '../trust/device-chain';
import { TrustError } from '../trust/trust.errors';
import { decodeImMessage, encodeImMessage, messageIdHex, RECEIPT_DATATYPE, TEXT_DATATYPE } from './im-message';

/** The channel messages travel on inside a connection. */
export const MESSAGE_CHANNEL = 'enclave-msg';

export interface ReceivedMessage {
  /** 16 hex digits. */
  id: string;
  from: { accountId: string; deviceShortId: string; deviceId: string };
  body: string;
  /** When the sender wrote it (ms since the epoch). */
  date: number;
  via: 'direct' | 'inbox';
}

/** One message to one device, until that device acknowledges it. */
export interface OutboxEntry {
  id: string;
  accountId: string;
  deviceShortId: string;
  body: string;
  date: number;
  attempts: number;
  nextAttemptAt: number;
  /** Set once a copy sits in the device's DHT inbox (kept there, refreshed, until acknowledged). */
  inboxValueId?: string;
}

/** Where undelivered messages and the ids of messages already received are kept across restarts. */
export interface MessageStore {
  loadOutbox(): OutboxEntry[];
  saveOutbox(entries: OutboxEntry[]): void;
  /** Ids ("<device>/<id>") of messages already received. */
  loadSeen(): string[];
  saveSeen(ids: string[]): void;
}

export class MemoryMessageStore implements MessageStore {
  private outbox: OutboxEntry[] = [];
  private seen: string[] = [];
  loadOutbox = () => this.outbox.map((e) => ({ ...e }));
  saveOutbox = (entries: OutboxEntry[]) => void (this.outbox = entries.map((e) => ({ ...e })));
  loadSeen = () => [...this.seen];
  saveSeen = (ids: string[]) => void (this.seen = [...ids]);
}

/** delivered: acknowledged; queued: in the device's inbox, retried; refused: the device is not trusted (revoked…). */
export type DeliveryStatus = 'delivered' | 'queued' | 'refused';

export interface SendResult {
  id: string;
  devices: { deviceShortId: string; status: DeliveryStatus; error?: string }[];
}

export class NoDeviceError extends Error {}

export interface MessengerOptions {
  dht: DhtApi;
  identity: DeviceIdentity;
  presence: Presence;
  connections: ConnectionManager;
  store?: MessageStore;
  /** First retry delay of an undelivered message; doubles up to 5 min. Default 30 s. */
  retryIntervalMs?: number;
  /** How long a direct send waits for the peer's acknowledgement. Default 10 s. */
  ackTimeoutMs?: number;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

export interface MessengerEvents {
  message: [ReceivedMessage];
  /** A message reached a device (acknowledged directly or by receipt). */
  delivered: [{ id: string; deviceShortId: string }];
}

type Frame = { t: 'msg'; id: string; body: string; date: number } | { t: 'ack'; id: string };

const MAX_SEEN = 10_000;
const MAX_RETRY_MS = 5 * 60_000;

/**
 * Messaging between devices of the organization. A message goes directly over a secure connection when the
 * peer answers; otherwise a copy encrypted to the device (Jami's ImMessage, type 3) waits in its DHT inbox,
 * kept alive until acknowledged, and delivery is retried: periodically, when the peer connects to us and
 * when the peer's account announces a device. A message received from the inbox is acknowledged with a
 * receipt in the sender's inbox. Senders are verified (chain up to the CA, not revoked) before anything is
 * delivered; duplicates are dropped.
 */
export class Messenger extends EventEmitter<MessengerEvents> {
  private readonly outbox = new Map<string, OutboxEntry>();
  private readonly seen: Set<string>;
  private readonly acks = new Map<string, () => void>();
  private readonly channels = new Map<SecureConnection, Promise<MuxChannel>>();
  private readonly watched = new Map<string, () => void>();
  private readonly store: MessageStore;
  private readonly retryMs: number;
  private timer: NodeJS.Timeout | undefined;
  private cancelInbox: (() => void) | undefined;
  private readonly flushing = new Set<string>();
  private readonly inflight = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(private readonly opts: MessengerOptions) {
    super();
    this.store = opts.store ?? new MemoryMessageStore();
    this.retryMs = opts.retryIntervalMs ?? 30_000;
    this.seen = new Set(this.store.loadSeen());
    for (const e of this.store.loadOutbox()) this.outbox.set(this.entryKey(e), e);
  }

  async start(): Promise<void> {
    this.opts.connections.on('connection', this.onConnection);
    this.cancelInbox = await this.opts.dht.listen(inboxKey(this.opts.identity.deviceShortId), (values, expired) => {
      if (!expired) for (const v of values) void this.onInboxValue(v);
    });
    this.timer = setInterval(() => void this.retryDue(), Math.min(this.retryMs, 5_000));
    this.timer.unref();
    for (const accountId of new Set([...this.outbox.values()].map((e) => e.accountId))) void this.watch(accountId);
    for (const e of this.outbox.values()) {
      if (e.inboxValueId) {
        void this.queueInInbox(e, true).catch((err: Error) => this.log('inbox put failed', { error: err.message }));
      }
    }
    void this.retryDue(true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.cancelInbox?.();
    for (const cancel of this.watched.values()) cancel();
    this.opts.connections.off('connection', this.onConnection);
    this.persist();
  }

  /** Messages not yet acknowledged. */
  pending(): OutboxEntry[] {
    return [...this.outbox.values()].map((e) => ({ ...e }));
  }

  /**
   * Sends a text to every device of an account (except this one). Resolves once each device has it or has
   * a copy queued in its inbox. Throws NoDeviceError when the account announces no device.
   */
  async send(accountId: string, body: string, devices?: AnnouncedDevice[]): Promise<SendResult> {
    const targets = (devices ?? (await this.opts.presence.devicesOf(accountId))).filter(
      (d) => d.deviceShortId !== this.opts.identity.deviceShortId,
    );
    if (targets.length === 0) throw new NoDeviceError(`account ${accountId} has no device on the network`);
    const id = messageIdHex(randomValueId());
    const date = Date.now();
    const entries = targets.map((d) => {
      const e: OutboxEntry = {
        id,
        accountId,
        deviceShortId: d.deviceShortId,
        body,
        date,
        attempts: 0,
        nextAttemptAt: 0,
      };
      this.outbox.set(this.entryKey(e), e);
      return e;
    });
    this.persist();
    void this.watch(accountId);
    const results = await Promise.all(
      entries.map(async (e) => {
        try {
          await this.deliverDirect(e);
          return { deviceShortId: e.deviceShortId, status: 'delivered' as const };
        } catch (err) {
          if (err instanceof TrustError) {
            this.drop(e, err);
            return { deviceShortId: e.deviceShortId, status: 'refused' as const, error: err.message };
          }
          await this.queueInInbox(e).catch((qerr: Error) => this.log('inbox put failed', { error: qerr.message }));
          if (this.outbox.has(this.entryKey(e))) this.scheduleRetry(e);
          else return { deviceShortId: e.deviceShortId, status: 'delivered' as const };
          return { deviceShortId: e.deviceShortId, status: 'queued' as const, error: (err as Error).message };
        }
      }),
    );
    this.persist();
    return { id, devices: results };
  }

  // ---------------------------------------------------------------- sending

  private entryKey(e: { id: string; deviceShortId: string }) {
    return `${e.deviceShortId}/${e.id}`;
  }

  /** Sends over a connection and waits for the acknowledgement; joins an attempt already under way. */
  private deliverDirect(e: OutboxEntry): Promise<void> {
    const key = this.entryKey(e);
    let attempt = this.inflight.get(key);
    if (!attempt) {
      e.attempts++;
      attempt = this.sendFrame(e, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, attempt);
    }
    return attempt;
  }

  private async sendFrame(e: OutboxEntry, key: string): Promise<void> {
    const conn = await this.opts.connections.connect(e.deviceShortId);
    const channel = await this.channelOf(conn);
    const acked = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(key);
        reject(new Error('no acknowledgement'));
      }, this.opts.ackTimeoutMs ?? 10_000);
      this.acks.set(key, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const frame: Frame = { t: 'msg', id: e.id, body: e.body, date: e.date };
    if (!channel.send(JSON.stringify(frame))) {
      this.acks.delete(key);
      throw new Error('channel closed');
    }
    await acked;
  }

  private markDelivered(deviceShortId: string, id: string) {
    const key = this.entryKey({ id, deviceShortId });
    const e = this.outbox.get(key);
    if (!e) return;
    this.outbox.delete(key);
    if (e.inboxValueId) this.opts.dht.cancelPut(inboxKey(deviceShortId), BigInt(`0x${e.inboxValueId}`));
    this.persist();
    this.log('message delivered', { id, to: deviceShortId });
    this.emit('delivered', { id, deviceShortId });
  }

  /** Gives up on a message for a device we no longer trust (revoked, …). */
  private drop(e: OutboxEntry, err: TrustError) {
    this.outbox.delete(this.entryKey(e));
    if (e.inboxValueId) this.opts.dht.cancelPut(inboxKey(e.deviceShortId), BigInt(`0x${e.inboxValueId}`));
    this.persist();
    this.log('message dropped: device refused', { id: e.id, to: e.deviceShortId, code: err.code, error: err.message });
  }

  /**
   * Puts a copy in the device's inbox, kept alive (refreshed) until acknowledged. `again`: the copy of a
   * previous run, put again under its value id (the refreshing stopped with that run).
   */
  private async queueInInbox(e: OutboxEntry, again = false): Promise<void> {
    if (e.inboxValueId && !again) return;
    const peer = await this.opts.presence.verifyDevice(e.deviceShortId);
    const id = BigInt(`0x${e.id}`);
    const data = encodeImMessage({
      id,
      msg: e.body,
      date: Math.floor(e.date / 1000),
      status: 0,
      datatype: TEXT_DATATYPE,
      metadatas: {},
    });
    const r = await this.opts.dht.putEncrypted(inboxKey(e.deviceShortId), data, pemOf(peer), {
      type: ValueType.IM_MESSAGE,
      permanent: true,
      id: e.inboxValueId ? BigInt(`0x${e.inboxValueId}`) : undefined,
    });
    e.inboxValueId = r.id.toString(16);
    this.log('message queued in inbox', { id: e.id, to: e.deviceShortId, storedOn: r.storedOn.length });
  }

  private scheduleRetry(e: OutboxEntry) {
    const delay = Math.min(this.retryMs * 2 ** Math.max(0, e.attempts - 1), MAX_RETRY_MS);
    e.nextAttemptAt = Date.now() + delay;
  }

  /** Tries the entries that are due (or all, with `all`), one device at a time. */
  private async retryDue(all = false) {
    if (this.stopped) return;
    const now = Date.now();
    const due = new Set(
      [...this.outbox.values()].filter((e) => all || e.nextAttemptAt <= now).map((e) => e.deviceShortId),
    );
    await Promise.all([...due].map((d) => this.flush(d)));
  }

  /** Delivers every pending message of a device, directly; on failure they stay queued. */
  private async flush(deviceShortId: string) {
    if (this.flushing.has(deviceShortId) || this.stopped) return;
    this.flushing.add(deviceShortId);
    try {
      const entries = [...this.outbox.values()].filter(
        (x) => x.deviceShortId === deviceShortId && !this.inflight.has(this.entryKey(x)),
      );
      for (const e of entries) {
        try {
          await this.deliverDirect(e);
        } catch (err) {
          if (!this.outbox.has(this.entryKey(e))) continue;
          if (err instanceof TrustError) {
            this.drop(e, err);
            continue;
          }
          this.scheduleRetry(e);
          if (!e.inboxValueId) await this.queueInInbox(e).catch(() => undefined);
          this.log('delivery retry failed', { id: e.id, to: deviceShortId, error: (err as Error).message });
          break;
        }
      }
    } finally {
      this.flushing.delete(deviceShortId);
      this.persist();
    }
  }

  /** Retries an account's messages as soon as it announces a device. */
  private async watch(accountId: string) {
    if (this.watched.has(accountId) || this.stopped) return;
    this.watched.set(accountId, () => undefined);
    try {
      const cancel = await this.opts.presence.watchDevices(accountId, (devices) => {
        for (const d of devices) {
          // Only messages that already failed once: fresh ones are being sent by send().
          if (
            [...this.outbox.values()].some(
              (e) => e.deviceShortId === d.deviceShortId && e.attempts > 0 && !this.inflight.has(this.entryKey(e)),
            )
          ) {
            void this.flush(d.deviceShortId);
          }
        }
      });
      if (this.stopped) cancel();
      else this.watched.set(accountId, cancel);
    } catch {
      this.watched.delete(accountId);
    }
  }

  // ---------------------------------------------------------------- receiving

  private onConnection = (conn: SecureConnection) => {
    conn.on('channel', (ch) => {
      if (ch.name === MESSAGE_CHANNEL) this.attach(conn, ch);
    });
    // A device we owe messages to is back (it connected to us): deliver now.
    if (!conn.initiator && [...this.outbox.values()].some((e) => e.deviceShortId === conn.peer.deviceShortId)) {
      void this.flush(conn.peer.deviceShortId);
    }
  };

  private channelOf(conn: SecureConnection): Promise<MuxChannel> {
    let p = this.channels.get(conn);
    if (!p) {
      p = conn.openChannel(MESSAGE_CHANNEL).then((ch) => {
        this.attach(conn, ch);
        return ch;
      });
      this.channels.set(conn, p);
      p.catch(() => this.channels.delete(conn));
      conn.once('close', () => this.channels.delete(conn));
    }
    return p;
  }

  private attach(conn: SecureConnection, ch: MuxChannel) {
    ch.on('message', (raw) => {
      let frame: Frame;
      try {
        frame = JSON.parse(raw.toString()) as Frame;
      } catch {
        return;
      }
      if (frame.t === 'ack' && typeof frame.id === 'string') {
        const key = this.entryKey({ id: frame.id, deviceShortId: conn.peer.deviceShortId });
        this.acks.get(key)?.();
        this.acks.delete(key);
        this.markDelivered(conn.peer.deviceShortId, frame.id);
      } else if (frame.t === 'msg' && typeof frame.id === 'string' && typeof frame.body === 'string') {
        this.receive(conn.peer, { id: frame.id, body: frame.body, date: Number(frame.date) || Date.now() }, 'direct');
        ch.send(JSON.stringify({ t: 'ack', id: frame.id } satisfies Frame));
      }
    });
  }

  private async onInboxValue(v: DhtValue) {
    if (!v.decrypted || !v.owner || v.type !== ValueType.IM_MESSAGE) return;
    const m = decodeImMessage(v.data);
    if (!m) return;
    const from = keyId(v.owner).toString('hex');
    const id = messageIdHex(m.id);
    let peer: VerifiedDevice;
    try {
      peer = await this.opts.presence.verifyDevice(from);
      if (!peer.devicePublicKey.export({ type: 'spki', format: 'der' }).equals(v.owner)) {
        throw new Error('not signed by the certified device key');
      }
    } catch (err) {
      this.log('refused an inbox message', { from, error: (err as Error).message });
      this.opts.connections.emit('refused', {
        deviceShortId: from,
        direction: 'incoming',
        reason: (err as Error).message,
        code: (err as { code?: string }).code,
      });
      return;
    }
    if (m.datatype === RECEIPT_DATATYPE) {
      this.markDelivered(from, m.msg);
      return;
    }
    const fresh = this.receive(peer, { id, body: m.msg, date: m.date * 1000 }, 'inbox');
    if (fresh || !this.seen.has(`receipt/${from}/${id}`)) {
      this.seen.add(`receipt/${from}/${id}`);
      const receipt = encodeImMessage({
        id: randomValueId(),
        msg: id,
        date: Math.floor(Date.now() / 1000),
        status: 0,
        datatype: RECEIPT_DATATYPE,
        metadatas: {},
      });
      await this.opts.dht
        .putEncrypted(inboxKey(from), receipt, pemOf(peer), { type: ValueType.IM_MESSAGE })
        .catch((err: Error) => this.log('receipt put failed', { error: err.message }));
    }
  }

  /** Emits a message unless already seen; true when it was new. */
  private receive(
    peer: VerifiedDevice,
    m: { id: string; body: string; date: number },
    via: 'direct' | 'inbox',
  ): boolean {
    const key = `${peer.deviceShortId}/${m.id}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    if (this.seen.size > MAX_SEEN) this.seen.delete(this.seen.values().next().value!);
    this.store.saveSeen([...this.seen]);
    this.emit('message', {
      id: m.id,
      from: { accountId: peer.accountId, deviceShortId: peer.deviceShortId, deviceId: peer.deviceId },
      body: m.body,
      date: m.date,
      via,
    });
    return true;
  }

  private persist() {
    this.store.saveOutbox([...this.outbox.values()]);
  }

  private log(message: string, details?: Record<string, unknown>) {
    this.opts.log?.(message, details);
  }
}

const pemOf = (peer: VerifiedDevice) => peer.devicePublicKey.export({ type: 'spki', format: 'pem' }).toString();
