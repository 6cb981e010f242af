/**
 * Drives the real Jami daemon (Debian jami-daemon 20230206, "Jami Daemon 13.7.0") headless for interop
 * tests: see shared/reference/jamid.md for the recipe this follows.
 *
 * One JamiEnv = one throw-away world:
 *   - a network namespace with only `lo` (and its own UTS name, so deviceName is predictable), held by
 *     an anchor process (`unshare --net --uts`); every other process joins it with `nsenter`;
 *   - inside it: a dhtnode on 127.0.0.1:4222 bootstrapping to nothing, a private dbus-daemon on a
 *     filesystem socket, the python3-dbus driver (dbus-driver.py) and jamid with fresh HOME/XDG dirs;
 *   - a TCP bridge: 127.0.0.1:<serverPort> inside the namespace → a unix socket in the env's directory →
 *     the host's 127.0.0.1:<serverPort> (the Enclave test server). Bytes pass untouched, so TLS and the
 *     client certificate reach the server as jamid sent them.
 * Nothing leaves the machine: inside the namespace every non-loopback address is unreachable.
 * Every process is started through `setpriv --pdeathsig KILL`, so none outlives the test process, and
 * stop() signals only the pids it started (SIGTERM, then SIGKILL after 10 s). removeAccount is never
 * used (it can hang the daemon).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { jamidEnvironment } from '../../apps/agent/src/commands/host-room-daemon';
import { BusSignal, DbusDriver, DRIVER_SCRIPT } from './jamid/dbus-driver';
import { ManagedProcess, pollUntil, SpawnOptions, StopResult } from './jamid/process';
import { findExecutable, skipReasonOrFailInCi, SYSTEM_PATH } from './system';

export { DbusCallError } from './jamid/dbus-driver';
export type { BusSignal } from './jamid/dbus-driver';
export type { StopResult } from './jamid/process';

export const JAMID = '/usr/libexec/jamid';
const SYSTEM_PYTHON = '/usr/bin/python3';
const FORWARDER_SCRIPT = path.join(__dirname, 'jamid', 'tcp-to-unix.cjs');
const CONFIG_MANAGER = {
  dest: 'cx.ring.Ring',
  path: '/cx/ring/Ring/ConfigurationManager',
  iface: 'cx.ring.Ring.ConfigurationManager',
};
/** SIGTERM → SIGKILL grace (jamid sometimes ignores SIGTERM for more than 10 s: reference §10.5). */
const STOP_GRACE_MS = 10_000;
const READY_TIMEOUT_MS = 10_000;

export type RegistrationState =
  | 'INITIALIZING'
  | 'UNREGISTERED'
  | 'TRYING'
  | 'REGISTERED'
  | 'ERROR_GENERIC'
  | 'ERROR_AUTH'
  | 'ERROR_NETWORK'
  | 'ERROR_HOST'
  | 'ERROR_SERVICE_UNAVAILABLE'
  | 'ERROR_NEED_MIGRATION'
  | 'ERROR_NOT_ACCEPTABLE';

/**
 * Account policy (ENCLAVE_DEFAULT_POLICY) that keeps a room's daemon on the namespace's loopback: what an
 * organization's policy would point at its own infrastructure.
 */
export const LOOPBACK_POLICY = {
  'Account.hostname': '127.0.0.1:4222',
  'Account.bootstrapListUrl': '',
  'Account.dhtProxyListUrl': '',
  'Account.proxyEnabled': false,
  'Account.upnpEnabled': false,
  'TURN.enable': false,
  'Account.peerDiscovery': false,
  'Account.accountDiscovery': false,
  'Account.accountPublish': false,
  'Account.videoEnabled': false,
};

/** The first terminal registration state of an account, or TIMEOUT when none came in time. */
export type RegistrationOutcome = 'REGISTERED' | Extract<RegistrationState, `ERROR_${string}`> | 'TIMEOUT';

export interface JamiEnvOptions {
  /** The Enclave server's port on the host's 127.0.0.1; reachable at the same address inside the namespace. */
  serverPort: number;
  /** PEM of the CA that issued the server certificate; given to jamid as CA_ROOT_FILE. */
  caPem?: string;
  /** Host name inside the namespace, which jamid sends as deviceName. Default 'jami-test'. */
  hostname?: string;
  /** Further host ports to bridge into the namespace the same way. */
  extraPorts?: number[];
  /** UDP port of the dhtnode inside the namespace. Default 4222. */
  dhtPort?: number;
  /** Keep the env's directory after stop() (for post-mortems); its path is JamiEnv.dir. */
  keepDir?: boolean;
  /** Start the env's own jamid (default true); false for tests whose jamid is started by the program under test. */
  startJamid?: boolean;
  /**
   * Ready the namespace for calls between daemons (reference jamid.md §11): IPv6 off (pjlib's netlink read
   * of IPv6 addresses hangs on this kernel), a veth pair with both ends inside the namespace (ICE needs a
   * non-loopback candidate; nothing leaves the namespace), a null ALSA device in each daemon's HOME.
   */
  calls?: boolean;
}

/** The address of the in-namespace veth end when JamiEnvOptions.calls is set. */
export const CALL_ADDRESS = '10.213.0.1';
const NULL_ALSA = 'pcm.!default { type null }\nctl.!default { type null }\n';

export interface JamsAccountOptions {
  /** Default: JamiEnv.managerUri (https://127.0.0.1:<serverPort>). No trailing slash (reference §7.1). */
  managerUri?: string;
  username: string;
  password: string;
  /** Added last, so they can also override the loopback-only keys. */
  extraDetails?: Record<string, string>;
}

export interface NameLookupResult {
  /** 0 found, 1 invalid name, 2 not found, 3 error. */
  status: number;
  address: string;
  name: string;
}

export interface UserSearchResult {
  /** 0 on success. */
  status: number;
  query: string;
  results: Record<string, string>[];
}

export type LogSource = 'jamid' | 'dhtnode' | 'dbus' | 'driver' | 'netns' | 'bridge';

export interface JamiEnvTimings {
  /** startJamiEnv() until jamid owned cx.ring.Ring. */
  startMs: number;
  /** Each jamid start (the first, then one per restart) until it owned cx.ring.Ring. */
  jamidReadyMs: number[];
}

export interface JamiEnv {
  /** The env's private directory (sockets, CA file, HOME and XDG dirs). */
  readonly dir: string;
  readonly dirs: { home: string; config: string; data: string; cache: string; runtime: string };
  /** Host name in the namespace = the deviceName jamid sends. */
  readonly hostname: string;
  /** https://127.0.0.1:<serverPort>, as seen from inside the namespace. */
  readonly managerUri: string;
  /** The dhtnode, as set in Account.hostname. */
  readonly dhtAddress: string;
  readonly busAddress: string;
  readonly timings: JamiEnvTimings;
  /** Connections the bridge has forwarded to the host so far. */
  readonly bridgeConnections: number;

  /**
   * addAccount with Account.type=RING, the JAMS keys and every loopback-only key of reference §5.2.
   * Signals are already being recorded, so none sent during the call is lost. Returns the local account id.
   */
  addJamsAccount(opts: JamsAccountOptions): Promise<string>;
  /**
   * The first terminal registrationStateChanged state of the account since jamid's current start
   * (REGISTERED or ERROR_*), latched: later signals do not change it. TIMEOUT if none within timeoutMs.
   */
  waitForRegistration(accountId: string, timeoutMs?: number): Promise<RegistrationOutcome>;
  /** Every registration state signalled for the account since jamid's current start, in order. */
  registrationStates(accountId: string): RegistrationState[];
  /** Polls getAccountList until the id is gone; false if it is still there after timeoutMs. */
  waitForAccountRemoved(accountId: string, timeoutMs?: number): Promise<boolean>;
  accountList(): Promise<string[]>;
  accountDetails(accountId: string): Promise<Record<string, string>>;
  volatileDetails(accountId: string): Promise<Record<string, string>>;
  /** getKnownRingDevices: device ID (64 hex) → name. */
  knownDevices(accountId: string): Promise<Record<string, string>>;
  /** lookupName, answered by registeredNameFound. nameServer '' = the account's (from the server's nameServer). */
  lookupName(
    accountId: string,
    name: string,
    opts?: { nameServer?: string; timeoutMs?: number },
  ): Promise<NameLookupResult>;
  lookupAddress(
    accountId: string,
    address: string,
    opts?: { nameServer?: string; timeoutMs?: number },
  ): Promise<NameLookupResult>;
  /** searchUser, answered by userSearchEnded. The daemon does not URL-encode the query. */
  searchUser(accountId: string, query: string, timeoutMs?: number): Promise<UserSearchResult>;
  /**
   * revokeDevice, answered by deviceRevocationEnded; resolves with its status (0 = success). The D-Bus
   * method itself returns false for JAMS accounts even when it works, so only the signal counts.
   */
  revokeDevice(accountId: string, password: string, deviceId: string, timeoutMs?: number): Promise<number>;
  /** Any ConfigurationManager method; resolves with its out arguments. */
  call(method: string, signature: string, args: unknown[], timeoutS?: number): Promise<unknown[]>;
  /** Any CallManager method (placeCallWithMedia, muteParticipant, getConferenceInfos, hangUp…). */
  calls(method: string, signature: string, args: unknown[], timeoutS?: number): Promise<unknown[]>;
  /**
   * Another jamid in the same namespace (its own private bus, HOME and XDG dirs, same dhtnode and server
   * bridge), e.g. a second call participant; stop() stops it.
   */
  startDaemon(name: string): Promise<JamiDaemon>;

  /** Position in the signal log, to pass as `since`. */
  signalMark(): number;
  /** Recorded bus signals (all interfaces), optionally only one member and/or from a mark on. */
  signals(opts?: { member?: string; since?: number }): BusSignal[];
  /** The first recorded signal from `since` (default: jamid's current start) that matches; undefined on timeout. */
  waitForSignal(
    match: (s: BusSignal) => boolean,
    opts?: { timeoutMs?: number; since?: number },
  ): Promise<BusSignal | undefined>;

  /** SIGTERM jamid (SIGKILL after 10 s), then start it again with the same dirs, bus and dhtnode. */
  restart(): Promise<StopResult>;
  /** Output of one process; jamid's covers every run unless currentRun. */
  logs(source?: LogSource, opts?: { currentRun?: boolean }): string;
  /** Last lines of every process, for assertion messages. */
  diagnostics(chars?: number): string;
  /** Stops everything it started, in reverse order, escalating to SIGKILL. Idempotent. */
  stop(): Promise<StopResult[]>;
  /**
   * Starts a program inside the env's network namespace (e.g. `enclave-agent host-room`, which runs its own
   * jamid); stop() stops it first. Its output is in the returned process.
   */
  spawnInNamespace(
    name: string,
    command: string,
    args: string[],
    opts?: { env?: Record<string, string>; stdin?: boolean },
  ): ManagedProcess;
}

/** An extra jamid of an env (JamiEnv.startDaemon). */
export interface JamiDaemon {
  readonly name: string;
  readonly busAddress: string;
  readonly bus: BusClient;
  addJamsAccount(opts: JamsAccountOptions): Promise<string>;
  /** Polls the account's registration state: REGISTERED, an ERROR_ state, or TIMEOUT. */
  waitForRegistration(accountId: string, timeoutMs?: number): Promise<RegistrationOutcome>;
  /** The first recorded signal (from `since`) that matches, or undefined on timeout. */
  waitForSignal(
    match: (s: BusSignal) => boolean,
    opts?: { timeoutMs?: number; since?: number },
  ): Promise<BusSignal | undefined>;
  logs(): string;
}

/** A D-Bus connection to any bus (e.g. the private bus of a jamid the harness did not start). */
export interface BusClient {
  call(
    target: { dest: string; path: string; iface: string },
    method: string,
    signature: string,
    args: unknown[],
  ): Promise<unknown[]>;
  /** jamid's ConfigurationManager. */
  config(method: string, signature: string, args: unknown[]): Promise<unknown[]>;
  /** jamid's CallManager. */
  calls(method: string, signature: string, args: unknown[]): Promise<unknown[]>;
  readonly signals: BusSignal[];
  close(): Promise<void>;
}

/** Polls a recorded signal list until one (from index `since`) matches. */
async function waitOnSignals(
  signals: BusSignal[],
  match: (s: BusSignal) => boolean,
  timeoutMs: number,
  since: number,
): Promise<BusSignal | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = signals.slice(since).find(match);
    if (found || Date.now() > end) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A private session bus on a filesystem socket, with no service directories (nothing is ever activated). */
function busConfigXml(address: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>${address}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}

const CALL_MANAGER = { dest: 'cx.ring.Ring', path: '/cx/ring/Ring/CallManager', iface: 'cx.ring.Ring.CallManager' };

/** Connects the python3-dbus driver to a bus address (a filesystem socket is reachable from any namespace). */
export async function openBus(busAddress: string): Promise<BusClient> {
  const proc = new ManagedProcess('driver', SYSTEM_PYTHON, [DRIVER_SCRIPT, busAddress], {
    env: { PATH: SYSTEM_PATH, LANG: 'C.UTF-8' },
    stdin: true,
    ownStdout: true,
  });
  const driver = new DbusDriver(proc);
  await driver.waitReady(READY_TIMEOUT_MS);
  const call = (t: { dest: string; path: string; iface: string }, method: string, signature: string, args: unknown[]) =>
    driver.call({ ...t, method, signature, args });
  return {
    call,
    config: (m, s, a) => call(CONFIG_MANAGER, m, s, a),
    calls: (m, s, a) => call(CALL_MANAGER, m, s, a),
    signals: driver.signals,
    close: async () => {
      await proc.stop(STOP_GRACE_MS);
    },
  };
}

/** addAccount details of a JAMS account with every loopback-only key of reference §5.2 (extraDetails last). */
export function jamsAccountDetails(
  o: JamsAccountOptions,
  managerUri: string,
  dhtAddress: string,
): Record<string, string> {
  return {
    'Account.type': 'RING',
    'Account.alias': o.username,
    'Account.managerUri': o.managerUri ?? managerUri,
    'Account.managerUsername': o.username,
    'Account.archivePassword': o.password,
    // Loopback only (reference §5.2). Never leave Account.hostname empty: it falls back to bootstrap.jami.net.
    'Account.hostname': dhtAddress,
    'Account.bootstrapListUrl': '',
    'Account.dhtProxyListUrl': '',
    'Account.proxyEnabled': 'false',
    'Account.proxyServer': '',
    'Account.upnpEnabled': 'false',
    'TURN.enable': 'false',
    'TURN.server': '',
    'STUN.enable': 'false',
    'STUN.server': '',
    'Account.peerDiscovery': 'false',
    'Account.accountDiscovery': 'false',
    'Account.accountPublish': 'false',
    'Account.videoEnabled': 'false',
    ...o.extraDetails,
  };
}

let unavailable: string | null | undefined;

/** Why the harness cannot run here (a missing package), or undefined when it can. */
export function jamidUnavailableReason(): string | undefined {
  if (unavailable === undefined) {
    const missing = [JAMID, 'dbus-daemon', 'dhtnode', 'unshare', 'nsenter', 'setpriv', 'ip'].filter(
      (c) => !findExecutable(c),
    );
    if (missing.length > 0) {
      unavailable = `not installed: ${missing.join(', ')} (bash scripts/install-system-deps.sh)`;
    } else {
      const py = spawnSync(SYSTEM_PYTHON, ['-c', 'import dbus, dbus.mainloop.glib; from gi.repository import GLib'], {
        encoding: 'utf8',
      });
      unavailable =
        py.status === 0
          ? null
          : `${SYSTEM_PYTHON} cannot import dbus and gi (python3-dbus, python3-gi): ${(py.stderr || String(py.error ?? '')).trim()}`;
    }
  }
  return skipReasonOrFailInCi(unavailable ?? undefined);
}

/** /usr/libexec/jamid, dbus-daemon, dhtnode, the namespace tools and python3-dbus are present. */
export function jamidAvailable(): boolean {
  return jamidUnavailableReason() === undefined;
}

/** Starts a fresh namespace, dhtnode, bus and jamid; see the file comment. Stops what it started on failure. */
export async function startJamiEnv(opts: JamiEnvOptions): Promise<JamiEnv> {
  const reason = jamidUnavailableReason();
  if (reason) throw new Error(`jamid harness unavailable: ${reason}`);
  if (process.getuid?.() !== 0) {
    throw new Error('startJamiEnv needs root: it creates network and UTS namespaces with unshare and nsenter');
  }
  const env = new Environment(opts);
  try {
    await env.start();
    return env;
  } catch (err) {
    await env.stop().catch(() => undefined);
    throw err;
  }
}

const TERMINAL = (state: string) => state === 'REGISTERED' || state.startsWith('ERROR_');

class Environment implements JamiEnv {
  readonly dir: string;
  readonly dirs: JamiEnv['dirs'];
  readonly hostname: string;
  readonly managerUri: string;
  readonly dhtAddress: string;
  readonly busAddress: string;
  readonly timings: JamiEnvTimings = { startMs: 0, jamidReadyMs: [] };
  bridgeConnections = 0;

  private readonly ports: number[];
  private readonly dhtPort: number;
  private readonly caFile: string | undefined;
  private bridges: net.Server[] = [];
  private bridgeSockets = new Set<net.Socket>();
  private anchor: ManagedProcess | undefined;
  private helpers: ManagedProcess[] = []; // forwarders, dhtnode, dbus-daemon, driver: in start order
  private driver: DbusDriver | undefined;
  private jamidRuns: ManagedProcess[] = [];
  /** Programs started with spawnInNamespace. */
  private programs: ManagedProcess[] = [];
  /** Bus connections of the extra daemons. */
  private buses: BusClient[] = [];
  /** Signal index at jamid's current start. */
  private epoch = 0;
  private stopping: Promise<StopResult[]> | undefined;

  constructor(private readonly opts: JamiEnvOptions) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-jamid-'));
    this.dirs = {
      home: path.join(this.dir, 'home'),
      config: path.join(this.dir, 'config'),
      data: path.join(this.dir, 'data'),
      cache: path.join(this.dir, 'cache'),
      runtime: path.join(this.dir, 'runtime'),
    };
    this.hostname = opts.hostname ?? 'jami-test';
    this.ports = [opts.serverPort, ...(opts.extraPorts ?? [])];
    this.dhtPort = opts.dhtPort ?? 4222;
    this.managerUri = `https://127.0.0.1:${opts.serverPort}`;
    this.dhtAddress = `127.0.0.1:${this.dhtPort}`;
    this.busAddress = `unix:path=${path.join(this.dir, 'bus')}`;
    this.caFile = opts.caPem === undefined ? undefined : path.join(this.dir, 'ca.pem');
  }

  async start(): Promise<void> {
    const started = Date.now();
    if (path.join(this.dir, `bridge-${65535}.sock`).length > 100) {
      throw new Error(`temporary directory path too long for unix sockets: ${this.dir}`);
    }
    for (const d of Object.values(this.dirs)) fs.mkdirSync(d, { mode: 0o700 });
    if (this.caFile) fs.writeFileSync(this.caFile, this.opts.caPem!);
    if (this.opts.calls) fs.writeFileSync(path.join(this.dirs.home, '.asoundrc'), NULL_ALSA);

    // Host side of the bridge: unix socket → host 127.0.0.1:<port>.
    for (const port of this.ports) this.bridges.push(await this.listenBridge(port));

    // The namespace, held by an anchor process for the env's lifetime.
    this.anchor = new ManagedProcess(
      'netns',
      'unshare',
      [
        '--net',
        '--uts',
        '--',
        'setpriv',
        '--pdeathsig',
        'KILL',
        '--',
        'sh',
        '-c',
        [
          'ip link set lo up',
          'hostname "$1"',
          ...(this.opts.calls
            ? [
                'for k in all default lo; do echo 1 > /proc/sys/net/ipv6/conf/$k/disable_ipv6; done',
                'ip link add rx0 type veth peer name rx1',
                `ip addr add ${CALL_ADDRESS}/24 dev rx0`,
                'ip link set rx0 up',
                'ip link set rx1 up',
              ]
            : []),
          'echo ready',
          'exec sleep infinity',
        ].join(' && '),
        'netns',
        this.hostname,
      ],
      { env: { PATH: SYSTEM_PATH } },
    );
    await this.anchor.waitForOutput(/^ready$/m, READY_TIMEOUT_MS);

    // Namespace side of the bridge: 127.0.0.1:<port> → unix socket.
    for (const port of this.ports) {
      const fwd = this.inNamespace('bridge', process.execPath, [FORWARDER_SCRIPT, String(port), this.bridgePath(port)]);
      await fwd.waitForOutput(/^listening$/m, READY_TIMEOUT_MS);
    }

    // dhtnode: no -b, so it bootstraps to nothing; jamid's Account.hostname points at it.
    const dht = this.inNamespace('dhtnode', 'dhtnode', ['-p', String(this.dhtPort), '-s', '-v']);
    const portHex = `:${this.dhtPort.toString(16).toUpperCase().padStart(4, '0')} `;
    await pollUntil(
      `dhtnode bound to UDP ${this.dhtPort}`,
      () => {
        try {
          return fs.readFileSync(`/proc/${dht.pid}/net/udp`, 'utf8').includes(portHex);
        } catch {
          return false;
        }
      },
      { timeoutMs: READY_TIMEOUT_MS, watch: dht },
    );

    // Private bus on a filesystem socket.
    const busConfig = path.join(this.dir, 'bus.conf');
    fs.writeFileSync(busConfig, busConfigXml(this.busAddress));
    const bus = this.inNamespace('dbus', 'dbus-daemon', [
      `--config-file=${busConfig}`,
      '--nofork',
      '--nopidfile',
      '--print-address',
    ]);
    await bus.waitForOutput(/unix:path=/, READY_TIMEOUT_MS);

    const driverProc = this.inNamespace('driver', SYSTEM_PYTHON, [DRIVER_SCRIPT, this.busAddress], {
      stdin: true,
      ownStdout: true,
    });
    this.driver = new DbusDriver(driverProc);
    await this.driver.waitReady(READY_TIMEOUT_MS);

    if (this.opts.startJamid !== false) await this.startJamid();
    this.timings.startMs = Date.now() - started;
  }

  // ---- accounts -------------------------------------------------------------------------------------

  async addJamsAccount(o: JamsAccountOptions): Promise<string> {
    const [id] = await this.call('addAccount', 'a{ss}', [jamsAccountDetails(o, this.managerUri, this.dhtAddress)]);
    if (typeof id !== 'string' || id === '') throw new Error(`addAccount returned ${JSON.stringify(id)}`);
    return id;
  }

  async waitForRegistration(accountId: string, timeoutMs = 30_000): Promise<RegistrationOutcome> {
    const found = await this.waitForSignal(
      (s) => s.member === 'registrationStateChanged' && s.args[0] === accountId && TERMINAL(String(s.args[1])),
      { timeoutMs, since: this.epoch },
    );
    return found ? (found.args[1] as RegistrationOutcome) : 'TIMEOUT';
  }

  registrationStates(accountId: string): RegistrationState[] {
    return this.signals({ member: 'registrationStateChanged', since: this.epoch })
      .filter((s) => s.args[0] === accountId)
      .map((s) => s.args[1] as RegistrationState);
  }

  async waitForAccountRemoved(accountId: string, timeoutMs = 10_000): Promise<boolean> {
    try {
      await pollUntil(
        `account ${accountId} to leave getAccountList`,
        async () => !(await this.accountList()).includes(accountId),
        {
          timeoutMs,
          intervalMs: 100,
          watch: this.jamid,
        },
      );
      return true;
    } catch (err) {
      if (!this.jamid.running) throw err;
      return false;
    }
  }

  async accountList(): Promise<string[]> {
    return (await this.call('getAccountList', '', []))[0] as string[];
  }

  async accountDetails(accountId: string): Promise<Record<string, string>> {
    return (await this.call('getAccountDetails', 's', [accountId]))[0] as Record<string, string>;
  }

  async volatileDetails(accountId: string): Promise<Record<string, string>> {
    return (await this.call('getVolatileAccountDetails', 's', [accountId]))[0] as Record<string, string>;
  }

  async knownDevices(accountId: string): Promise<Record<string, string>> {
    return (await this.call('getKnownRingDevices', 's', [accountId]))[0] as Record<string, string>;
  }

  async lookupName(
    accountId: string,
    name: string,
    opts: { nameServer?: string; timeoutMs?: number } = {},
  ): Promise<NameLookupResult> {
    const s = await this.callAndAwait(
      'lookupName',
      'sss',
      [accountId, opts.nameServer ?? '', name],
      (sig) =>
        sig.member === 'registeredNameFound' &&
        sig.args[0] === accountId &&
        String(sig.args[3]).toLowerCase() === name.toLowerCase(),
      opts.timeoutMs,
    );
    return { status: s.args[1] as number, address: s.args[2] as string, name: s.args[3] as string };
  }

  async lookupAddress(
    accountId: string,
    address: string,
    opts: { nameServer?: string; timeoutMs?: number } = {},
  ): Promise<NameLookupResult> {
    const s = await this.callAndAwait(
      'lookupAddress',
      'sss',
      [accountId, opts.nameServer ?? '', address],
      (sig) => sig.member === 'registeredNameFound' && sig.args[0] === accountId && sig.args[2] === address,
      opts.timeoutMs,
    );
    return { status: s.args[1] as number, address: s.args[2] as string, name: s.args[3] as string };
  }

  async searchUser(accountId: string, query: string, timeoutMs?: number): Promise<UserSearchResult> {
    const s = await this.callAndAwait(
      'searchUser',
      'ss',
      [accountId, query],
      (sig) => sig.member === 'userSearchEnded' && sig.args[0] === accountId && sig.args[2] === query,
      timeoutMs,
    );
    return {
      status: s.args[1] as number,
      query: s.args[2] as string,
      results: s.args[3] as Record<string, string>[],
    };
  }

  async revokeDevice(accountId: string, password: string, deviceId: string, timeoutMs?: number): Promise<number> {
    const s = await this.callAndAwait(
      'revokeDevice',
      'sss',
      [accountId, password, deviceId],
      (sig) => sig.member === 'deviceRevocationEnded' && sig.args[0] === accountId && sig.args[1] === deviceId,
      timeoutMs,
    );
    return s.args[2] as number;
  }

  call(method: string, signature: string, args: unknown[], timeoutS?: number): Promise<unknown[]> {
    if (!this.driver) return Promise.reject(new Error('the env is not started'));
    return this.driver.call({ ...CONFIG_MANAGER, method, signature, args, timeout: timeoutS });
  }

  // ---- signals --------------------------------------------------------------------------------------

  signalMark(): number {
    return this.driver?.signals.length ?? 0;
  }

  signals(opts: { member?: string; since?: number } = {}): BusSignal[] {
    return (this.driver?.signals ?? [])
      .slice(opts.since ?? 0)
      .filter((s) => opts.member === undefined || s.member === opts.member);
  }

  waitForSignal(
    match: (s: BusSignal) => boolean,
    opts: { timeoutMs?: number; since?: number } = {},
  ): Promise<BusSignal | undefined> {
    const driver = this.driver;
    if (!driver) return Promise.reject(new Error('the env is not started'));
    const already = driver.signals.slice(opts.since ?? this.epoch).find(match);
    if (already) return Promise.resolve(already);
    const jamid = this.jamid;
    return new Promise((resolve, reject) => {
      const off = driver.onSignal((s) => {
        if (match(s)) finish(s);
      });
      const offExit = jamid.onChange(() => {
        if (!jamid.running) finish(undefined, new Error(`${jamid.describeExit()} while waiting:\n${jamid.tail()}`));
      });
      const timer = setTimeout(() => finish(undefined), opts.timeoutMs ?? 30_000);
      function finish(s: BusSignal | undefined, err?: Error) {
        clearTimeout(timer);
        off();
        offExit();
        if (err) reject(err);
        else resolve(s);
      }
    });
  }

  /**
   * Calls a method that answers by signal. The mark is taken before the call (the signal can beat the
   * reply). The boolean the method returns is not trusted: revokeDevice returns false for JAMS accounts
   * and still sends the request and the signal; an unknown account fails at once.
   */
  private async callAndAwait(
    method: string,
    signature: string,
    args: unknown[],
    match: (s: BusSignal) => boolean,
    timeoutMs = 15_000,
  ): Promise<BusSignal> {
    const since = this.signalMark();
    const [returned] = await this.call(method, signature, args);
    if (returned !== true && !(await this.accountList()).includes(String(args[0]))) {
      throw new Error(`${method}: no account ${JSON.stringify(args[0])} in jamid (getAccountList)`);
    }
    const s = await this.waitForSignal(match, { since, timeoutMs });
    if (!s) {
      throw new Error(
        `${method} returned ${JSON.stringify(returned)} but no answering signal came within ${timeoutMs} ms\n` +
          `jamid:\n${this.jamid.tail()}`,
      );
    }
    return s;
  }

  // ---- jamid lifecycle ------------------------------------------------------------------------------

  private get jamid(): ManagedProcess {
    const p = this.jamidRuns.at(-1);
    if (!p) throw new Error('jamid is not started');
    return p;
  }

  private async startJamid(): Promise<void> {
    const driver = this.driver!;
    const started = Date.now();
    this.epoch = driver.signals.length;
    const env = jamidEnvironment(this.dirs, this.busAddress, this.caFile);
    const jamid = this.inNamespace('jamid', JAMID, ['-c', '-d', '-p'], { env, cwd: this.dirs.home });
    this.jamidRuns.push(jamid);
    await pollUntil('jamid to own cx.ring.Ring on the private bus', () => driver.nameHasOwner('cx.ring.Ring'), {
      timeoutMs: READY_TIMEOUT_MS,
      watch: jamid,
    });
    this.timings.jamidReadyMs.push(Date.now() - started);
  }

  async restart(): Promise<StopResult> {
    const stopped = await this.jamid.stop(STOP_GRACE_MS);
    const driver = this.driver!;
    await pollUntil('cx.ring.Ring to be released', async () => !(await driver.nameHasOwner('cx.ring.Ring')), {
      timeoutMs: READY_TIMEOUT_MS,
    });
    await this.startJamid();
    return stopped;
  }

  logs(source: LogSource = 'jamid', opts: { currentRun?: boolean } = {}): string {
    if (source === 'jamid') {
      const runs = opts.currentRun ? this.jamidRuns.slice(-1) : this.jamidRuns;
      return runs.map((p) => p.output()).join('\n[harness] ---- jamid restarted ----\n');
    }
    if (source === 'netns') return this.anchor?.output() ?? '';
    return this.helpers
      .filter((p) => p.name === source)
      .map((p) => p.output())
      .join('\n');
  }

  diagnostics(chars = 3000): string {
    const procs = [this.anchor, ...this.helpers, ...this.jamidRuns.slice(-1)].filter(
      (p): p is ManagedProcess => p !== undefined,
    );
    return procs
      .map((p) => `---- ${p.name} (${p.running ? 'running' : p.describeExit()}) ----\n${p.tail(chars)}`)
      .join('\n');
  }

  stop(): Promise<StopResult[]> {
    this.stopping ??= (async () => {
      const results: StopResult[] = [];
      for (const b of this.buses) await b.close();
      for (const p of [...this.programs].reverse()) results.push(await p.stop(STOP_GRACE_MS + 15_000));
      const jamid = this.jamidRuns.at(-1);
      if (jamid) results.push(await jamid.stop(STOP_GRACE_MS));
      for (const p of [...this.helpers].reverse()) results.push(await p.stop(STOP_GRACE_MS));
      if (this.anchor) results.push(await this.anchor.stop(STOP_GRACE_MS));
      for (const s of this.bridgeSockets) s.destroy();
      await Promise.all(this.bridges.map((b) => new Promise((r) => b.close(r))));
      if (!this.opts.keepDir) fs.rmSync(this.dir, { recursive: true, force: true });
      return results;
    })();
    return this.stopping;
  }

  calls(method: string, signature: string, args: unknown[], timeoutS?: number): Promise<unknown[]> {
    if (!this.driver) return Promise.reject(new Error('the env is not started'));
    return this.driver.call({ ...CALL_MANAGER, method, signature, args, timeout: timeoutS });
  }

  async startDaemon(name: string): Promise<JamiDaemon> {
    const root = path.join(this.dir, name);
    const dirs = ['home', 'config', 'data', 'cache', 'runtime'].map((d) => path.join(root, d));
    for (const d of dirs) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    const [home, config, data, cache, runtime] = dirs;
    if (this.opts.calls) fs.writeFileSync(path.join(home, '.asoundrc'), NULL_ALSA);
    const busPath = path.join(root, 'bus');
    const busConfig = path.join(root, 'bus.conf');
    fs.writeFileSync(busConfig, busConfigXml(`unix:path=${busPath}`));
    const bus = this.spawnInNamespace(`${name}-dbus`, 'dbus-daemon', [
      `--config-file=${busConfig}`,
      '--nofork',
      '--nopidfile',
      '--print-address',
    ]);
    await bus.waitForOutput(/unix:path=/, READY_TIMEOUT_MS);
    const client = await openBus(`unix:path=${busPath}`);
    this.buses.push(client);
    const env = jamidEnvironment({ home, config, data, cache, runtime }, `unix:path=${busPath}`, this.caFile);
    const jamid = this.spawnInNamespace(name, JAMID, ['-c', '-d', '-p'], { env });
    const ownerOf = async () =>
      (
        await client.call(
          { dest: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', iface: 'org.freedesktop.DBus' },
          'NameHasOwner',
          's',
          ['cx.ring.Ring'],
        )
      )[0] === true;
    await pollUntil(`${name}'s jamid to own cx.ring.Ring`, ownerOf, { timeoutMs: READY_TIMEOUT_MS, watch: jamid });
    const managerUri = this.managerUri;
    const dhtAddress = this.dhtAddress;
    return {
      name,
      busAddress: `unix:path=${busPath}`,
      bus: client,
      async addJamsAccount(o) {
        const [id] = await client.config('addAccount', 'a{ss}', [jamsAccountDetails(o, managerUri, dhtAddress)]);
        return id as string;
      },
      async waitForRegistration(accountId, timeoutMs = 30_000) {
        const end = Date.now() + timeoutMs;
        for (;;) {
          const [list] = (await client.config('getAccountList', '', [])) as [string[]];
          if (!list.includes(accountId)) return 'ERROR_GENERIC';
          const [v] = (await client.config('getVolatileAccountDetails', 's', [accountId])) as [Record<string, string>];
          const state = v['Account.registrationStatus'];
          if (TERMINAL(state)) return state as RegistrationOutcome;
          if (Date.now() > end) return 'TIMEOUT';
          await new Promise((r) => setTimeout(r, 200));
        }
      },
      waitForSignal: (match, o = {}) => waitOnSignals(client.signals, match, o.timeoutMs ?? 30_000, o.since ?? 0),
      logs: () => jamid.output(),
    };
  }

  spawnInNamespace(
    name: string,
    command: string,
    args: string[],
    opts: { env?: Record<string, string>; stdin?: boolean } = {},
  ): ManagedProcess {
    const proc = this.inNamespace(name, command, args, {
      env: { PATH: SYSTEM_PATH, LANG: 'C.UTF-8', HOME: this.dirs.home, ...opts.env },
      stdin: opts.stdin,
    });
    // Stopped before the helpers (the program's own jamid needs the dhtnode and the bridge to say goodbye).
    this.helpers.splice(this.helpers.indexOf(proc), 1);
    this.programs.push(proc);
    return proc;
  }

  // ---- plumbing -------------------------------------------------------------------------------------

  private inNamespace(name: string, command: string, args: string[], opts: Partial<SpawnOptions> = {}): ManagedProcess {
    // nsenter and setpriv both exec (no fork), so the pid is the command's own pid.
    const proc = new ManagedProcess(
      name,
      'nsenter',
      [
        `--target=${this.anchor!.pid}`,
        '--net',
        '--uts',
        '--',
        'setpriv',
        '--pdeathsig',
        'KILL',
        '--',
        command,
        ...args,
      ],
      { env: { PATH: SYSTEM_PATH, LANG: 'C.UTF-8', HOME: this.dirs.home }, cwd: this.dir, ...opts },
    );
    if (name !== 'jamid') this.helpers.push(proc);
    return proc;
  }

  private bridgePath(port: number): string {
    return path.join(this.dir, `bridge-${port}.sock`);
  }

  private listenBridge(port: number): Promise<net.Server> {
    const server = net.createServer({ allowHalfOpen: true }, (inbound) => {
      this.bridgeConnections++;
      const outbound = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
      for (const s of [inbound, outbound]) {
        this.bridgeSockets.add(s);
        s.on('close', () => this.bridgeSockets.delete(s));
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
      const close = () => {
        inbound.destroy();
        outbound.destroy();
      };
      inbound.on('error', close);
      outbound.on('error', close);
      inbound.on('close', () => outbound.end());
      outbound.on('close', () => inbound.end());
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.bridgePath(port), () => resolve(server));
    });
  }
}
