import path from 'node:path';
import readline from 'node:readline';
import { ManagedProcess } from './process';

/** One D-Bus signal as seen on the private bus, in arrival order. */
export interface BusSignal {
  /** Position in the driver's signal log (0-based); use it as a "since" mark. */
  index: number;
  /** Arrival time (monotonic clock of the driver, ms). */
  t: number;
  sender: string;
  path: string;
  interface: string;
  member: string;
  args: unknown[];
}

export class DbusCallError extends Error {
  constructor(
    readonly dbusName: string,
    message: string,
  ) {
    super(`${dbusName}: ${message}`);
  }
}

interface CallRequest {
  dest: string;
  path: string;
  iface: string;
  method: string;
  signature: string;
  args: unknown[];
  /** Seconds; the D-Bus default is 25. */
  timeout?: number;
}

type DriverMessage =
  | { type: 'ready'; unique_name: string }
  | { type: 'reply'; id: number; result: unknown[] }
  | { type: 'error'; id: number; name: string; message: string }
  | ({ type: 'signal' } & Omit<BusSignal, 'index'>);

export const DRIVER_SCRIPT = path.join(__dirname, 'dbus-driver.py');

/**
 * Talks to the python3-dbus driver (dbus-driver.py) over JSON lines. The driver subscribes to every
 * signal on the bus before it reports ready, and this side keeps them all, so nothing is lost between
 * a call and the signal that answers it.
 */
export class DbusDriver {
  readonly signals: BusSignal[] = [];
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown[]) => void; reject: (e: Error) => void }>();
  private signalListeners = new Set<(s: BusSignal) => void>();
  private ready: Promise<void>;

  constructor(readonly proc: ManagedProcess) {
    let onReady!: () => void;
    this.ready = new Promise((resolve) => (onReady = resolve));
    proc.child.stdin?.on('error', () => undefined); // EPIPE after the driver died: the exit handler reports it
    const lines = readline.createInterface({ input: proc.child.stdout! });
    lines.on('line', (line) => {
      let msg: DriverMessage;
      try {
        msg = JSON.parse(line) as DriverMessage;
      } catch {
        return; // not protocol output
      }
      if (msg.type === 'ready') onReady();
      else if (msg.type === 'signal') {
        const { type: _type, ...rest } = msg;
        const signal: BusSignal = { index: this.signals.length, ...rest };
        this.signals.push(signal);
        for (const fn of [...this.signalListeners]) fn(signal);
      } else {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.type === 'reply') p.resolve(msg.result);
        else p.reject(new DbusCallError(msg.name, msg.message));
      }
    });
    void proc.exited.then(() => {
      for (const p of this.pending.values()) p.reject(new Error(`${proc.describeExit()}:\n${proc.tail()}`));
      this.pending.clear();
    });
  }

  async waitReady(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`D-Bus driver not ready within ${timeoutMs} ms:\n${this.proc.tail()}`)),
        timeoutMs,
      );
      void this.proc.exited.then(() => reject(new Error(`${this.proc.describeExit()}:\n${this.proc.tail()}`)));
    });
    try {
      await Promise.race([this.ready, failed]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Calls a method and resolves with its out arguments. */
  call(req: CallRequest): Promise<unknown[]> {
    if (!this.proc.running) return Promise.reject(new Error(`${this.proc.describeExit()}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.proc.child.stdin!.write(`${JSON.stringify({ id, ...req })}\n`);
    });
  }

  onSignal(fn: (s: BusSignal) => void): () => void {
    this.signalListeners.add(fn);
    return () => this.signalListeners.delete(fn);
  }

  async nameHasOwner(name: string): Promise<boolean> {
    const [owned] = await this.call({
      dest: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      iface: 'org.freedesktop.DBus',
      method: 'NameHasOwner',
      signature: 's',
      args: [name],
    });
    return owned === true;
  }
}
