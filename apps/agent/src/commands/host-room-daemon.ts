/**
 * The Jami daemon (`jamid`, Debian package jami-daemon) run headless for `enclave-agent host-room`: a
 * private D-Bus session bus on a filesystem socket, private HOME and XDG directories, and a python3-dbus
 * bridge (host-room-dbus.py) through which the agent calls the daemon's configuration and call APIs.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export const JAMID_PATH = '/usr/libexec/jamid';
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const INSTALL_HINT = 'install it with: sudo apt-get install jami-daemon dbus python3-dbus python3-gi';
const BRIDGE_SCRIPT = path.join(__dirname, 'host-room-dbus.py');
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const READY_TIMEOUT_MS = 15_000;
/** jamid sometimes takes more than SIGTERM's usual seconds (DH parameters, unregistering): then SIGKILL. */
const STOP_GRACE_MS = 10_000;

const CONFIG = {
  dest: 'cx.ring.Ring',
  path: '/cx/ring/Ring/ConfigurationManager',
  iface: 'cx.ring.Ring.ConfigurationManager',
};
const CALLS = { dest: 'cx.ring.Ring', path: '/cx/ring/Ring/CallManager', iface: 'cx.ring.Ring.CallManager' };

/** jamid's own HOME and XDG directories. */
export interface JamidDirs {
  home: string;
  config: string;
  data: string;
  cache: string;
  runtime: string;
}

/**
 * jamid's environment: the system PATH, its private HOME and XDG directories, its session bus and, when
 * given, the CA file it trusts for TLS (the Enclave server's CA).
 */
export function jamidEnvironment(dirs: JamidDirs, busAddress: string, caFile?: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: SYSTEM_PATH,
    LANG: 'C.UTF-8',
    HOME: dirs.home,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    XDG_RUNTIME_DIR: dirs.runtime,
    DBUS_SESSION_BUS_ADDRESS: busAddress,
  };
  if (caFile) env.CA_ROOT_FILE = caFile;
  return env;
}

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function which(name: string): string | undefined {
  return SYSTEM_PATH.split(':')
    .map((d) => path.join(d, name))
    .find(executable);
}

/** What is missing to host a room here (empty when nothing is). */
export function missingPrerequisites(jamid: string): string[] {
  const missing: string[] = [];
  if (!executable(jamid)) missing.push(`the Jami daemon (${jamid}, package jami-daemon)`);
  if (!which('dbus-daemon')) missing.push('dbus-daemon (package dbus)');
  if (!executable(SYSTEM_PYTHON)) missing.push(`${SYSTEM_PYTHON} (package python3)`);
  else {
    const py = spawnSync(SYSTEM_PYTHON, ['-c', 'import dbus, dbus.mainloop.glib; from gi.repository import GLib'], {
      env: { PATH: SYSTEM_PATH },
      encoding: 'utf8',
    });
    if (py.status !== 0) missing.push('the python3 D-Bus bindings (packages python3-dbus, python3-gi)');
  }
  return missing;
}

/** `jamid --version`'s first line, e.g. "Jami Daemon 13.7.0". */
export function daemonVersion(jamid: string): string {
  const out = spawnSync(jamid, ['--version'], { env: { PATH: SYSTEM_PATH }, encoding: 'utf8', timeout: 10_000 });
  const line = `${out.stdout ?? ''}`.split('\n')[0].replace(/,.*$/, '').trim();
  return line || 'unknown';
}

/** A child process this session started; only its own pid is ever signalled. */
class Child {
  readonly exited: Promise<void>;
  running = true;
  private tailText = '';

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    onOutput?: (line: string) => void,
  ) {
    const record = (d: Buffer) => {
      this.tailText = (this.tailText + d.toString('utf8')).slice(-4000);
    };
    proc.stderr?.on('data', record);
    if (onOutput && proc.stdout) readline.createInterface({ input: proc.stdout }).on('line', onOutput);
    else proc.stdout?.on('data', record);
    this.exited = new Promise((resolve) => {
      proc.on('error', (err) => {
        this.tailText += `\n${err.message}`;
        this.running = false;
        resolve();
      });
      proc.on('exit', () => {
        this.running = false;
        resolve();
      });
    });
  }

  tail(): string {
    // eslint-disable-next-line no-control-regex
    return this.tailText.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), STOP_GRACE_MS))),
    ]);
    clearTimeout(timer);
    if (late && this.running) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

export interface DaemonSignal {
  member: string;
  args: unknown[];
}

export class DbusError extends Error {}

export interface JamiSessionOptions {
  stateDir: string;
  jamid: string;
  /** CA file for the management server's HTTPS certificate (jamid's CA_ROOT_FILE). */
  caFile?: string;
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, details?: Record<string, unknown>) => void;
}

/**
 * One run of the bus, the bridge and jamid. `ended` resolves when any of them exits; the caller restarts
 * the whole session then (with backoff).
 */
export class JamiSession {
  readonly dirs: JamidDirs;
  readonly busAddress: string;
  readonly ended: Promise<string>;
  private children: Child[] = [];
  private bridge: Child | undefined;
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown[]) => void; reject: (e: Error) => void }>();
  private signalListeners = new Set<(s: DaemonSignal) => void>();
  private endWith!: (why: string) => void;
  private bridgeReady!: () => void;
  private stopping = false;

  constructor(private readonly opts: JamiSessionOptions) {
    const d = (n: string) => path.join(opts.stateDir, n);
    this.dirs = { home: d('home'), config: d('config'), data: d('data'), cache: d('cache'), runtime: d('runtime') };
    this.busAddress = `unix:path=${d('bus')}`;
    this.ended = new Promise((resolve) => (this.endWith = resolve));
  }

  async start(): Promise<void> {
    for (const dir of Object.values(this.dirs)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(this.dirs.runtime, 0o700);
    // No sound server on a room machine: a null ALSA device keeps jamid's audio layer quiet.
    const asoundrc = path.join(this.dirs.home, '.asoundrc');
    if (!fs.existsSync(asoundrc))
      fs.writeFileSync(asoundrc, 'pcm.!default { type null }\nctl.!default { type null }\n');
    fs.rmSync(path.join(this.opts.stateDir, 'bus'), { force: true });
    const busConfig = path.join(this.opts.stateDir, 'bus.conf');
    fs.writeFileSync(
      busConfig,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>${this.busAddress}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*"/>
    <allow own="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`,
    );
    const bus = this.spawn('dbus-daemon', which('dbus-daemon') ?? 'dbus-daemon', [
      `--config-file=${busConfig}`,
      '--nofork',
      '--nopidfile',
    ]);
    await this.until('the private D-Bus bus', () => fs.existsSync(path.join(this.opts.stateDir, 'bus')), bus);

    const ready = new Promise<void>((r) => (this.bridgeReady = r));
    this.bridge = this.spawn('dbus-bridge', SYSTEM_PYTHON, [BRIDGE_SCRIPT, this.busAddress], {
      stdin: true,
      onLine: (line) => this.onBridgeLine(line),
    });
    this.bridge.proc.stdin?.on('error', () => undefined);
    await Promise.race([
      ready,
      this.bridge.exited.then(() => {
        throw new Error(`the D-Bus bridge exited: ${this.bridge?.tail()}`);
      }),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('the D-Bus bridge did not start')), READY_TIMEOUT_MS),
      ),
    ]);

    const env = jamidEnvironment(this.dirs, this.busAddress, this.opts.caFile);
    const jamid = this.spawn('jamid', this.opts.jamid, ['-c', '-p'], { env, cwd: this.dirs.home });
    await this.until('jamid on the bus', () => this.nameHasOwner('cx.ring.Ring'), jamid);
    this.jamidPid = jamid.proc.pid;
  }

  /** The running jamid's process id. */
  jamidPid: number | undefined;

  /** Any ConfigurationManager method; resolves with its out arguments. */
  config(method: string, signature: string, args: unknown[]): Promise<unknown[]> {
    return this.call({ ...CONFIG, method, signature, args });
  }

  calls(method: string, signature: string, args: unknown[]): Promise<unknown[]> {
    return this.call({ ...CALLS, method, signature, args });
  }

  onSignal(fn: (s: DaemonSignal) => void): () => void {
    this.signalListeners.add(fn);
    return () => this.signalListeners.delete(fn);
  }

  /** Output of a process of this session (for error messages). */
  tail(name: string): string {
    return this.children.find((c) => c.name === name)?.tail() ?? '';
  }

  /** Stops jamid (SIGTERM, SIGKILL after 10 s), then the bridge and the bus. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const c of [...this.children].reverse()) await c.stop();
    for (const p of this.pending.values()) p.reject(new DbusError('the daemon session stopped'));
    this.pending.clear();
    this.endWith('stopped');
  }

  private async nameHasOwner(name: string): Promise<boolean> {
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

  private call(req: {
    dest: string;
    path: string;
    iface: string;
    method: string;
    signature: string;
    args: unknown[];
  }): Promise<unknown[]> {
    const bridge = this.bridge;
    if (!bridge?.running) return Promise.reject(new DbusError('the D-Bus bridge is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      bridge.proc.stdin!.write(`${JSON.stringify({ id, ...req })}\n`);
    });
  }

  private onBridgeLine(line: string): void {
    let msg: {
      type: string;
      id?: number;
      result?: unknown[];
      name?: string;
      message?: string;
      member?: string;
      args?: unknown[];
    };
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg.type === 'ready') this.bridgeReady();
    else if (msg.type === 'signal') {
      for (const fn of [...this.signalListeners]) fn({ member: msg.member ?? '', args: msg.args ?? [] });
    } else if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === 'reply') p.resolve(msg.result ?? []);
      else p.reject(new DbusError(`${msg.name}: ${msg.message}`));
    }
  }

  private spawn(
    name: string,
    command: string,
    args: string[],
    o: { env?: Record<string, string>; cwd?: string; stdin?: boolean; onLine?: (l: string) => void } = {},
  ): Child {
    const child = new Child(
      name,
      spawn(command, args, {
        env: o.env ?? { PATH: SYSTEM_PATH, LANG: 'C.UTF-8', HOME: this.dirs.home },
        cwd: o.cwd ?? this.opts.stateDir,
        stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      }),
      o.onLine,
    );
    this.children.push(child);
    void child.exited.then(() => {
      if (this.stopping) return;
      this.opts.log('warn', `${name} exited`, { output: child.tail().slice(-1000) });
      this.endWith(`${name} exited`);
    });
    return child;
  }

  private async until(what: string, check: () => boolean | Promise<boolean>, watch: Child): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (await Promise.resolve(check()).catch(() => false)) return;
      if (!watch.running)
        throw new Error(`${watch.name} exited while waiting for ${what}: ${watch.tail().slice(-1500)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
