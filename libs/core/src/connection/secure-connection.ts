import { EventEmitter } from 'node:events';
import type { DataChannel } from 'node-datachannel';
import { VerifiedDevice } from '../trust/device-chain';
import { adoptChannel } from './channel-registry';

/** The data channel the initiator opens first; its opening ends the handshake. */
export const CONTROL_CHANNEL = 'enclave-control';

export interface MuxChannelEvents {
  message: [Buffer | string];
  close: [];
}

/** One named, ordered, reliable stream of messages inside a connection (an SCTP data channel). */
export class MuxChannel extends EventEmitter<MuxChannelEvents> {
  private closed = false;

  constructor(
    readonly name: string,
    private readonly dc: DataChannel,
  ) {
    super();
    dc.onMessage((m) => {
      this.emit('message', typeof m === 'string' ? m : Buffer.isBuffer(m) ? m : Buffer.from(m as ArrayBuffer));
    });
    adoptChannel(dc, () => this.markClosed());
    dc.onError(() => this.markClosed());
  }

  get isOpen(): boolean {
    return !this.closed && this.dc.isOpen();
  }

  /** Queues a message; false when the channel is closed. */
  send(data: string | Buffer): boolean {
    if (!this.isOpen) return false;
    try {
      return typeof data === 'string' ? this.dc.sendMessage(data) : this.dc.sendMessageBinary(data);
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.closed) return;
    try {
      this.dc.close();
    } catch {
      // already gone
    }
    this.markClosed();
  }

  private markClosed() {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

/** The transport under a connection: creates channels, closes everything it created. */
export interface ChannelTransport {
  createDataChannel(label: string): DataChannel;
  /** The selected ICE candidate pair. */
  selectedPair(): Route | undefined;
  /** Closes every channel, then the peer connection. */
  close(): void;
}

/** The selected ICE candidate pair: addresses and candidate types (host, srflx, prflx, relay). */
export interface Route {
  local: string;
  remote: string;
  localType: string;
  remoteType: string;
}

export interface SecureConnectionEvents {
  /** The peer opened a channel. */
  channel: [MuxChannel];
  close: [];
}

/**
 * A connection to a verified device of the organization: ICE, then DTLS whose certificate is the peer's
 * device certificate (checked against its chain, see ConnectionManager), then named channels over SCTP.
 */
export class SecureConnection extends EventEmitter<SecureConnectionEvents> {
  readonly establishedAt = Date.now();
  private readonly channels = new Set<MuxChannel>();
  private closed = false;

  constructor(
    private readonly transport: ChannelTransport,
    /** The peer's verified certificate chain. */
    readonly peer: VerifiedDevice,
    /** True when we opened the connection. */
    readonly initiator: boolean,
  ) {
    super();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** The selected ICE candidate pair (for diagnostics). */
  route(): Route | undefined {
    return this.transport.selectedPair();
  }

  /** Opens a named channel; resolves once it is open. */
  openChannel(name: string, timeoutMs = 10_000): Promise<MuxChannel> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    const dc = this.transport.createDataChannel(name);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`channel "${name}" did not open within ${timeoutMs} ms`));
        try {
          dc.close();
        } catch {
          // ignore
        }
      }, timeoutMs);
      const ch = this.adopt(name, dc);
      dc.onOpen(() => {
        clearTimeout(timer);
        resolve(ch);
      });
    });
  }

  /** Wraps a channel the peer opened (called by the manager). */
  accept(dc: DataChannel): void {
    const label = dc.getLabel();
    if (label === CONTROL_CHANNEL) return;
    this.emit('channel', this.adopt(label, dc));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const ch of this.channels) ch.close();
    this.transport.close();
    this.emit('close');
  }

  private adopt(name: string, dc: DataChannel): MuxChannel {
    const ch = new MuxChannel(name, dc);
    this.channels.add(ch);
    ch.once('close', () => this.channels.delete(ch));
    return ch;
  }
}
