/**
 * Runs Debian's real TURN server (coturn 4.6, the `turnserver` binary) for tests of the peer core's TURN
 * relaying.
 *
 * Each CoturnProcess is one `turnserver` this harness started, never the Debian service unit:
 *   - `-n`: no configuration file (neither /etc/turnserver.conf nor any other), every setting below is an
 *     argument; its pid file and SQLite user database are in a temp directory (not /var/lib/turn);
 *   - listens on 127.0.0.1 only, UDP and TCP on a port free for both; no TLS or DTLS listener, no CLI, no web
 *     admin, no second address for RFC 5780;
 *   - relays from 127.0.0.2 (RELAY_IP) on a port range of its own (relayPorts), to loopback peers only:
 *     coturn refuses loopback peers unless `--allow-loopback-peers`, and every other IPv4 peer is denied, so
 *     nothing it relays leaves the machine. The relayed addresses are on another IP than the clients
 *     (127.0.0.1) as on a real network: TURN permissions are per IP, so with the relay on the clients' own IP
 *     a check sent from one peer's host socket would pass the other peer's permission and libjuice would
 *     find a direct, peer-reflexive path even with relay-only ICE;
 *   - long-term credentials (`--lt-cred-mech`) for the users given (`--user name:password`) in one realm;
 *   - logs to stdout (`--log-file stdout`), recorded in memory; `-v` makes it log every allocation with its
 *     username and every refused request (allocations(), relayAddresses(), authFailures());
 *   - runs under `setpriv --pdeathsig KILL`, so it cannot outlive the test process.
 * start() resolves once it answers a STUN Binding request on UDP and accepts a TCP connection. stop()
 * signals only the pid it started.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ManagedProcess, pollUntil } from './jamid/process';
import { missingPackageReason, SYSTEM_PATH } from './system';

const START_TIMEOUT_MS = 15_000;
/** The address coturn relays from (loopback, but not the clients' 127.0.0.1). */
export const RELAY_IP = '127.0.0.2';
/** Size of each server's relay port range. */
const RELAY_PORTS = 64;

export interface CoturnOptions {
  /** Shown in errors. */
  name?: string;
  /** Long-term credential users: name → password. */
  users: Record<string, string>;
  /** Default "enclave.test". */
  realm?: string;
  /** Address relayed traffic leaves from. Default RELAY_IP (127.0.0.2, not the clients' own address). */
  relayIp?: string;
}

/** An allocation coturn granted: `session <id>: realm <realm> user <name>: incoming packet ALLOCATE processed, success`. */
export interface CoturnAllocation {
  session: string;
  realm: string;
  username: string;
}

/** A request coturn answered 401 for a named user (not the unauthenticated first request every client sends). */
export interface CoturnAuthFailure {
  session: string;
  username: string;
  line: string;
}

/** Why coturn cannot run here, or undefined when it can. */
export function coturnUnavailableReason(): string | undefined {
  return missingPackageReason('turnserver', 'coturn');
}

/** A port free on 127.0.0.1 for both TCP and UDP. */
async function freeTcpUdpPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const tcp = net.createServer();
    const port = await new Promise<number>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(0, '127.0.0.1', () => resolve((tcp.address() as net.AddressInfo).port));
    });
    const udp = dgram.createSocket('udp4');
    const free = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await Promise.all([
      new Promise<void>((r) => tcp.close(() => r())),
      free ? new Promise<void>((r) => udp.close(() => r())) : Promise.resolve(),
    ]);
    if (free) return port;
  }
  throw new Error('no port free for both TCP and UDP');
}

/** Sends a STUN Binding request (RFC 5389) to 127.0.0.1:port; true when a response with its transaction id came back. */
function stunBinding(port: number, timeoutMs = 500): Promise<boolean> {
  const transaction = randomBytes(12);
  const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), transaction]);
  const socket = dgram.createSocket('udp4');
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    socket.on('error', () => done(false));
    socket.on('message', (m) => {
      if (m.length >= 20 && m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(transaction)) done(true);
    });
    socket.send(request, port, '127.0.0.1');
  });
}

function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const ALLOCATION = /session (\d+): realm <([^>]*)> user <([^>]*)>: incoming packet ALLOCATE processed, success/g;
const UNAUTHORIZED = /session (\d+): realm <[^>]*> user <([^>]+)>: incoming packet \S+ processed, error 401[^\n]*/g;

export class CoturnProcess {
  readonly name: string;
  readonly realm: string;
  /** The TURN port (UDP and TCP) on 127.0.0.1. */
  port = 0;
  /** The range coturn allocates relayed addresses from (RELAY_IP:min…max). */
  relayPorts = { min: 0, max: 0 };
  private proc: ManagedProcess | undefined;
  private readonly dir: string;

  private constructor(private readonly opts: CoturnOptions) {
    this.name = opts.name ?? 'coturn';
    this.realm = opts.realm ?? 'enclave.test';
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-coturn-'));
  }

  /** Starts a turnserver on a free port and waits until it answers. */
  static async start(opts: CoturnOptions): Promise<CoturnProcess> {
    const reason = coturnUnavailableReason();
    if (reason) throw new Error(reason);
    const server = new CoturnProcess(opts);
    try {
      await server.launch();
      return server;
    } catch (err) {
      await server.stop();
      throw err;
    }
  }

  /** "127.0.0.1:<port>", the form of the policy's TURN.server. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  private async launch() {
    this.port = await freeTcpUdpPort();
    // Below Linux's ephemeral range (32768+), so the relay ports rarely meet other sockets; coturn skips a
    // port it cannot bind anyway.
    const min = 20_000 + Math.floor(Math.random() * (12_000 - RELAY_PORTS));
    this.relayPorts = { min, max: min + RELAY_PORTS - 1 };
    const users = Object.entries(this.opts.users);
    if (users.length === 0) throw new Error('coturn needs at least one user');
    for (const [user, password] of users) {
      if (/[:\s]/.test(user) || /\s/.test(password)) throw new Error(`unusable TURN user "${user}"`);
    }
    const args = [
      '--pdeathsig',
      'KILL',
      'turnserver',
      '-n',
      ...['--log-file', 'stdout', '--simple-log', '-v'],
      ...['--pidfile', path.join(this.dir, 'turnserver.pid'), '--userdb', path.join(this.dir, 'turndb')],
      ...['--listening-ip', '127.0.0.1', '--listening-port', String(this.port)],
      ...[
        '--relay-ip',
        this.opts.relayIp ?? RELAY_IP,
        '--min-port',
        String(min),
        '--max-port',
        String(this.relayPorts.max),
      ],
      '--allow-loopback-peers',
      ...['--denied-peer-ip=0.0.0.0-255.255.255.255', '--allowed-peer-ip=127.0.0.0-127.255.255.255'],
      ...['--no-tls', '--no-dtls', '--no-cli', '--no-rfc5780', '--no-multicast-peers'],
      ...['--lt-cred-mech', '--realm', this.realm, '--fingerprint'],
      ...users.flatMap(([user, password]) => ['--user', `${user}:${password}`]),
    ];
    this.proc = new ManagedProcess(this.name, 'setpriv', args, {
      env: { PATH: SYSTEM_PATH, HOME: this.dir, LANG: 'C.UTF-8' },
      cwd: this.dir,
    });
    const proc = this.proc;
    await proc.waitForOutput(/Total General servers: \d+/, START_TIMEOUT_MS);
    await pollUntil(
      `${this.name} answering STUN on UDP and accepting TCP on ${this.address}`,
      async () => (await stunBinding(this.port)) && (await tcpAccepts(this.port)),
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 100, watch: proc },
    );
  }

  /** Everything it logged so far. */
  output(): string {
    return this.proc?.output() ?? '';
  }

  /** The allocations it granted (of one user, when given). */
  allocations(username?: string): CoturnAllocation[] {
    return [...this.output().matchAll(ALLOCATION)]
      .map((m) => ({ session: m[1], realm: m[2], username: m[3] }))
      .filter((a) => username === undefined || a.username === username);
  }

  /** Every relayed address it allocated ("127.0.0.2:<port>"), whoever asked. */
  relayAddresses(): string[] {
    return [...this.output().matchAll(/Local relay addr: (\S+)/g)].map((m) => m[1]);
  }

  /** Requests it refused with 401 although they named a user (of one user, when given): wrong credentials. */
  authFailures(username?: string): CoturnAuthFailure[] {
    return [...this.output().matchAll(UNAUTHORIZED)]
      .map((m) => ({ session: m[1], username: m[2], line: m[0] }))
      .filter((f) => username === undefined || f.username === username);
  }

  /** Resolves once its log matches re. */
  waitForLog(re: RegExp, timeoutMs = 10_000): Promise<void> {
    if (!this.proc) return Promise.reject(new Error(`${this.name} was not started`));
    return this.proc.waitForOutput(re, timeoutMs);
  }

  /** The end of its log, for assertion messages. */
  tail(chars = 4000): string {
    return this.proc?.tail(chars) ?? '';
  }

  /** SIGTERM (then SIGKILL) to the pid it started; removes its directory. */
  async stop(): Promise<void> {
    await this.proc?.stop(5_000);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
