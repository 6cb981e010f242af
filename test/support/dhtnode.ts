/**
 * Runs Debian's real `dhtnode` (OpenDHT 2.4.12) for interop tests and drives its console (reference:
 * shared/reference/opendht-wire.md §7).
 *
 * Each DhtnodeProcess is one `dhtnode -p <free port> [-b 127.0.0.1:<port>…] [-i --save-identity <tmp>]
 * [--proxyserver <free tcp port>]`:
 *   - never the Debian service unit, whose default configuration bootstraps to the public network;
 *   - `-b` only ever names nodes the test started on 127.0.0.1, and `-D` (multicast discovery) stays off,
 *     so it contacts nothing else (dhtnode has no bind-address option: it listens on 0.0.0.0 and [::]);
 *   - commands go to its readline console on stdin (a pipe works; EOF makes it quit, so it cannot outlive
 *     the test process); its answers are parsed from stdout. One command at a time per process, and
 *     synchronous commands are followed by a sentinel ("Unknown command: <token>") marking their end.
 * stop() signals only the pid it started.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../apps/server/src/database/embedded-postgres';
import { ManagedProcess } from './jamid/process';
import { missingPackageReason, SYSTEM_PATH } from './system';

const START_TIMEOUT_MS = 15_000;
const COMMAND_TIMEOUT_MS = 15_000;

export interface DhtnodeOptions {
  /** Shown in errors. */
  name?: string;
  /** "127.0.0.1:<port>" of nodes this test started. */
  bootstrap?: string[];
  /** `-i`: an RSA-4096 identity (needed for signed puts and to decrypt), saved so tests can read its key. */
  identity?: boolean;
  /** `-n`: OpenDHT network id. */
  networkId?: number;
  /** `--proxyserver`: also serve OpenDHT's REST DHT proxy on a free TCP port (it listens on all addresses). */
  proxyServer?: boolean;
}

/** A value as dhtnode prints it: `Value[id:<hex> [signed (v0) ][decrypted ]data(<utype>):"<text>"]`. */
export interface PrintedValue {
  id: string;
  signed: boolean;
  decrypted: boolean;
  utype?: string;
  text?: string;
  line: string;
}

export interface StorageLine {
  key: string;
  values: number;
}

/** Why dhtnode cannot run here, or undefined when it can. */
export function dhtnodeUnavailableReason(): string | undefined {
  return missingPackageReason('dhtnode', 'dhtnode');
}

/** A UDP port free on both 0.0.0.0 and [::] (dhtnode binds both). */
export async function freeUdpPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const v4 = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      v4.once('error', reject);
      v4.bind(0, '0.0.0.0', () => resolve(v4.address().port));
    });
    const v6 = dgram.createSocket({ type: 'udp6', ipv6Only: true });
    const free = await new Promise<boolean>((resolve) => {
      v6.once('error', () => resolve(false));
      v6.bind(port, '::', () => resolve(true));
    });
    await Promise.all([
      new Promise<void>((r) => v4.close(() => r())),
      free ? new Promise<void>((r) => v6.close(() => r())) : Promise.resolve(),
    ]);
    if (free) return port;
  }
  throw new Error('no free UDP port');
}

const PROMPT = /^(?:>> ?)+/;
const VALUE_LINE = /Value\[id:([0-9a-f]+) (signed \(v\d+\) )?(decrypted )?(?:data\(([^)]*)\):"(.*)")?.*\]$/;

function parseValue(line: string): PrintedValue | undefined {
  const m = VALUE_LINE.exec(line.trim());
  if (!m) return undefined;
  return { id: m[1], signed: !!m[2], decrypted: !!m[3], utype: m[4], text: m[5], line: line.trim() };
}

/** The Value lines printed under "<kind>: found N value(s)" headings in a slice of output. */
function valuesUnder(output: string, kind: 'Get' | 'Listen'): PrintedValue[] {
  const values: PrintedValue[] = [];
  let inside = false;
  for (const raw of output.split('\n')) {
    const line = raw.replace(PROMPT, '');
    if (/^\w+( \w+)?: /.test(line)) inside = line.startsWith(`${kind}: found`);
    else if (inside && line.startsWith('\tValue[')) {
      const v = parseValue(line);
      if (v) values.push(v);
    }
  }
  return values;
}

export class DhtnodeProcess {
  readonly name: string;
  /** Hex node id, as printed at start. */
  nodeId = '';
  port = 0;
  /** With `proxyServer`: the proxy's TCP port. */
  proxyPort = 0;
  /** With `identity`: the SHA-1 public key id dhtnode printed, and its certificate and key (PEM). */
  publicKeyId?: string;
  certificatePem?: string;
  privateKeyPem?: string;
  private proc: ManagedProcess | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private sentinel = 0;
  private readonly dir: string;

  private constructor(private readonly opts: DhtnodeOptions) {
    this.name = opts.name ?? 'dhtnode';
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-dhtnode-'));
  }

  /** Starts a dhtnode on a free port and waits until it runs (and has saved its identity). */
  static async start(opts: DhtnodeOptions = {}): Promise<DhtnodeProcess> {
    const reason = dhtnodeUnavailableReason();
    if (reason) throw new Error(reason);
    const node = new DhtnodeProcess(opts);
    try {
      await node.launch();
      return node;
    } catch (err) {
      await node.stop();
      throw err;
    }
  }

  /** With `proxyServer`: "127.0.0.1:<port>", as Account.proxyServer spells it. */
  get proxyAddress(): string {
    return `127.0.0.1:${this.proxyPort}`;
  }

  /** "127.0.0.1:<port>", for `-b` and DhtNode.bootstrap(). */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  private async launch() {
    const port = await freeUdpPort();
    const args = ['-p', String(port)];
    for (const b of this.opts.bootstrap ?? []) {
      if (!/^127\.0\.0\.1:\d+$/.test(b)) throw new Error(`bootstrap only to local test nodes, not ${b}`);
      args.push('-b', b);
    }
    const idPath = path.join(this.dir, 'identity');
    if (this.opts.identity) args.push('-i', '--save-identity', idPath);
    if (this.opts.networkId !== undefined) args.push('-n', String(this.opts.networkId));
    if (this.opts.proxyServer) {
      this.proxyPort = await freePort();
      args.push('--proxyserver', String(this.proxyPort));
    }
    this.proc = new ManagedProcess(this.name, 'dhtnode', args, {
      env: { PATH: SYSTEM_PATH, HOME: this.dir, LANG: 'C.UTF-8' },
      cwd: this.dir,
      stdin: true,
    });
    await this.proc.waitForOutput(/OpenDHT node [0-9a-f]{40} running on port \d+/, START_TIMEOUT_MS);
    const m = /OpenDHT node ([0-9a-f]{40}) running on port (\d+)/.exec(this.proc.output())!;
    this.nodeId = m[1];
    this.port = Number(m[2]);
    if (this.opts.identity) {
      await this.proc.waitForOutput(/Public key ID [0-9a-f]{40}/, START_TIMEOUT_MS);
      this.publicKeyId = /Public key ID ([0-9a-f]{40})/.exec(this.proc.output())![1];
      this.certificatePem = fs.readFileSync(`${idPath}.crt`, 'utf8');
      this.privateKeyPem = fs.readFileSync(`${idPath}.pem`, 'utf8');
    }
    if (this.opts.proxyServer) await this.waitForProxy();
  }

  /** Polls the proxy's `GET /` until it answers with its node info. */
  private async waitForProxy() {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const answered = await new Promise<boolean>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: this.proxyPort, path: '/', timeout: 1_000 }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(false));
      });
      if (answered) return;
      if (Date.now() > deadline)
        throw new Error(`${this.name}: the DHT proxy on port ${this.proxyPort} never answered`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Everything it printed so far. */
  output(): string {
    return this.proc?.output() ?? '';
  }

  /**
   * Writes one console line, then resolves with the output printed from then until `done` matches
   * (commands are queued, one at a time).
   */
  run(line: string, done: RegExp, timeoutMs = COMMAND_TIMEOUT_MS): Promise<string> {
    const task = this.queue.then(async () => {
      const proc = this.proc;
      if (!proc?.running) throw new Error(`${this.name} is not running`);
      const from = proc.output().length;
      proc.child.stdin!.write(`${line}\n`);
      const slice = () => proc.output().slice(from);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          off();
          reject(new Error(`${this.name}: "${line}" did not print ${done} within ${timeoutMs} ms:\n${slice()}`));
        }, timeoutMs);
        const check = () => {
          if (done.test(slice())) {
            clearTimeout(timer);
            off();
            resolve();
          } else if (!proc.running) {
            clearTimeout(timer);
            off();
            reject(new Error(`${proc.describeExit()} during "${line}":\n${slice()}`));
          }
        };
        const off = proc.onChange(check);
        check();
      });
      return slice();
    });
    this.queue = task.catch(() => undefined);
    return task;
  }

  /** A synchronous command: its output ends where the sentinel's "Unknown command" line starts. */
  private async runSync(line: string): Promise<string> {
    const token = `zz_end_${++this.sentinel}`;
    const out = await this.run(`${line}\n${token}`, new RegExp(`Unknown command: ${token}`));
    return out.slice(0, out.indexOf(token));
  }

  /** `g <key>`: the values its get printed (after SecureDht's checks: signature verified, decrypted). */
  async get(key: string): Promise<PrintedValue[]> {
    return valuesUnder(await this.run(`g ${key}`, /Get: (completed|failure)/), 'Get');
  }

  /** `p <key> <word>`: a text/plain value. Resolves with the value id; `acked` when a node took the put. */
  async put(key: string, word: string): Promise<{ id: string; acked: boolean }> {
    const out = await this.run(`p ${key} ${word}`, /Put: (success|failure).*Value ID: [0-9a-f]+\n/);
    const m = /Put: (success|failure).*Value ID: ([0-9a-f]+)/.exec(out)!;
    return { id: m[2], acked: m[1] === 'success' };
  }

  /** `s <key> <word>`: a text/plain value signed with its identity (needs `identity`). */
  async putSigned(key: string, word: string): Promise<{ acked: boolean }> {
    const out = await this.run(`s ${key} ${word}`, /Put signed: (success|failure)/);
    return { acked: /Put signed: success/.test(out) };
  }

  /** `l <key>`: starts listening; values then show in listenedValues(). */
  async listen(key: string): Promise<void> {
    await this.run(`l ${key}`, /Listening, token: \d+/);
  }

  /** Every value printed by its listens so far. */
  listenedValues(): PrintedValue[] {
    return valuesUnder(this.output(), 'Listen');
  }

  /** `ld`: how many values it stores per key. */
  async storage(): Promise<StorageLine[]> {
    const out = await this.runSync('ld');
    return [...out.matchAll(/^(?:>> )?Storage ([0-9a-f]{40}) \d+ list\., (\d+) values/gm)].map((m) => ({
      key: m[1],
      values: Number(m[2]),
    }));
  }

  /** `lr`: the nodes of its routing tables. */
  async routingTable(): Promise<{ id: string; address: string; good: boolean }[]> {
    const out = await this.runSync('lr');
    return [...out.matchAll(/Node ([0-9a-f]{40}) (\S+) .*?(\[good\])?$/gm)].map((m) => ({
      id: m[1],
      address: m[2],
      good: !!m[3],
    }));
  }

  /** Quits through the console (EOF), then SIGTERM/SIGKILL if it lingers; removes its directory. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc?.running) {
      proc.child.stdin?.end('x\n');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([proc.exited, new Promise((r) => (timer = setTimeout(r, 3_000)))]);
      clearTimeout(timer);
      await proc.stop(5_000);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Stops every process given (ignoring the undefined ones), in parallel. */
export async function stopDhtnodes(...nodes: (DhtnodeProcess | undefined)[]): Promise<void> {
  await Promise.all(nodes.map((n) => n?.stop()));
}
