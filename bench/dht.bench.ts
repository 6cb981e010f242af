/**
 * The peer core on a 100-node loopback DHT, against a network of 100 real dhtnode processes (OpenDHT 2.4.12)
 * measured in the same run:
 *   - get: median and p99 time of a get of a fresh key from a node that never looked it up (ours: DhtNode.get,
 *     timed in process; dhtnode: its console `g`, the time it prints for "Get: completed");
 *   - first connection between two agents (fresh peers, cold caches: certificate lookup on the DHT, chain and
 *     CRL checks, ICE exchange over encrypted DHT values, DTLS with RSA-4096 device certificates) when the
 *     DHT is our 100 nodes, and when it is the 100 dhtnodes;
 *   - the idle memory (RSS) of a running `enclave-agent run`, against the idle RSS of a dhtnode process.
 * BENCH_DHT_NODES (default 100), BENCH_DHT_GETS (default 200), BENCH_DHT_CONNECTIONS (default 15).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  certificateKeyId,
  DeviceIdentity,
  DhtNode,
  EnclavePeer,
  exportPrivateKey,
  infoHash,
  loadDeviceIdentity,
  type CrlSource,
} from '@enclave/core';
import {
  accountCrl,
  caCrl,
  testAccount,
  testCa,
  testDevice,
  TestDevice,
} from '../libs/core/src/trust/pki-fixtures.test-helper';
import { AGENT_BIN } from '../test/support/agent';
import { DhtnodeProcess, dhtnodeUnavailableReason, freeUdpPort } from '../test/support/dhtnode';
import { BenchFigure, figure } from './harness';

const NODES = Number(process.env.BENCH_DHT_NODES ?? 100);
const GETS = Number(process.env.BENCH_DHT_GETS ?? 200);
const CONNECTIONS = Number(process.env.BENCH_DHT_CONNECTIONS ?? 15);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function quantile(samples: number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)];

/** Two different random indexes below n. */
function pair(n: number): [number, number] {
  const a = Math.floor(Math.random() * n);
  let b = Math.floor(Math.random() * (n - 1));
  if (b >= a) b++;
  return [a, b];
}

async function inBatches<T>(count: number, size: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i += size) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(size, count - i) }, (_, j) => make(i + j)))));
  }
  return out;
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** dhtnode prints "Get: completed, took 1.23 ms" (us, ms or s). */
function printedMs(out: string): number {
  const m = /Get: completed, took ([\d.]+) (us|ms|s)\b/.exec(out);
  if (!m) return NaN;
  return Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[m[2]];
}

// ---------------------------------------------------------------- networks

async function ourNetwork(n: number): Promise<DhtNode[]> {
  const nodes = await inBatches(n, 25, async () => {
    const node = new DhtNode({ host: '127.0.0.1' });
    await node.start();
    return node;
  });
  const first = [`127.0.0.1:${nodes[0].address.port}`];
  await inBatches(n - 1, 10, (i) => nodes[i + 1].bootstrap(first));
  // A second pass lets early joiners learn the late ones, as their periodic maintenance would.
  await inBatches(n, 10, (i) => nodes[i].findNodes(nodes[i].id));
  return nodes;
}

async function dhtnodeNetwork(n: number): Promise<DhtnodeProcess[]> {
  const first = await DhtnodeProcess.start({ name: 'bench-dhtnode-0' });
  const rest = await inBatches(n - 1, 10, (i) =>
    DhtnodeProcess.start({ name: `bench-dhtnode-${i + 1}`, bootstrap: [first.address] }),
  );
  await sleep(15_000); // let the routing tables fill (dhtnode's own maintenance)
  return [first, ...rest];
}

interface GetSamples {
  ms: number[];
  /** Gets that found nothing (timed all the same). */
  misses: number;
}

async function ourGets(nodes: DhtNode[]): Promise<GetSamples> {
  const r: GetSamples = { ms: [], misses: 0 };
  for (let i = 0; i < GETS; i++) {
    const [writer, reader] = pair(nodes.length);
    const key = infoHash(`bench/ours/${i}/${Math.random()}`);
    await nodes[writer].put(key, `value-${i}`);
    const start = performance.now();
    const values = await nodes[reader].get(key);
    r.ms.push(performance.now() - start);
    if (values.length === 0) r.misses++;
  }
  return r;
}

async function dhtnodeGets(nodes: DhtnodeProcess[]): Promise<GetSamples> {
  const r: GetSamples = { ms: [], misses: 0 };
  for (let i = 0; i < GETS; i++) {
    const [writer, reader] = pair(nodes.length);
    const key = infoHash(`bench/dhtnode/${i}/${Math.random()}`).toString('hex');
    await nodes[writer].put(key, `value-${i}`);
    const out = await nodes[reader].run(`g ${key}`, /Get: (completed|failure)[^\n]*\n/);
    const ms = printedMs(out);
    if (Number.isNaN(ms)) throw new Error(`dhtnode get failed:\n${out}`);
    r.ms.push(ms);
    if (!/Value\[/.test(out)) r.misses++;
  }
  return r;
}

// ---------------------------------------------------------------- agents

interface Org {
  a: TestDevice;
  b: TestDevice;
  crls: CrlSource;
}

async function organization(): Promise<Org> {
  const ca = await testCa('Bench Org CA');
  const account = await testAccount(ca, 'bench');
  const [a, b] = await Promise.all([testDevice(account, { bits: 4096 }), testDevice(account, { bits: 4096 })]);
  const byIssuer = new Map([
    [account.jamiId, await accountCrl(account, [])],
    [certificateKeyId(new X509Certificate(ca.certificatePem)), await caCrl(ca)],
  ]);
  return { a, b, crls: { name: 'bench', fetch: async (id) => (byIssuer.has(id) ? [byIssuer.get(id)!] : []) } };
}

/** Time to a verified, open connection between two fresh agents joined to the network at `bootstrap`. */
async function firstConnections(org: Org, bootstrap: string[]): Promise<number[]> {
  const A = loadDeviceIdentity(org.a.files);
  const B = loadDeviceIdentity(org.b.files);
  const samples: number[] = [];
  // Each sample's agents are new (cold caches), but their DHT nodes come back with the same id and port, as
  // a restarted daemon would: stopped nodes would otherwise pile up in routing tables and slow every search.
  const slots = new Map<DeviceIdentity, { id: string; port: number }>();
  for (const identity of [A, B])
    slots.set(identity, { id: randomBytes(20).toString('hex'), port: await freeUdpPort() });
  for (let i = 0; i < CONNECTIONS; i++) {
    const peer = (identity: DeviceIdentity) =>
      new EnclavePeer({
        identity,
        dht: { host: '127.0.0.1', bootstrap: [pick(bootstrap)], ...slots.get(identity) },
        ice: { bindAddress: '127.0.0.1' },
        crlSources: [org.crls],
        revocationMode: 'require',
        connectTimeoutMs: 15_000,
        log: process.env.BENCH_DEBUG
          ? (level, msg, details) =>
              (level !== 'debug' || /connection request/.test(msg)) &&
              console.error(Date.now() % 100000, identity.deviceShortId.slice(0, 6), msg, JSON.stringify(details))
          : undefined,
      });
    const [pa, pb] = [peer(A), peer(B)];
    await Promise.all([pa.start(), pb.start()]);
    try {
      const start = performance.now();
      if (process.env.BENCH_DEBUG) console.error(Date.now() % 100000, 'sample', i);
      await pa.connections.connect(B.deviceShortId);
      samples.push(performance.now() - start);
    } finally {
      await Promise.all([pa.stop(), pb.stop()]);
    }
  }
  return samples;
}

/** Writes an agent state directory for a device (server unreachable: the daemon runs on the stored policy). */
async function agentState(device: TestDevice, bootstrap: string): Promise<string> {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-bench-agent-')), 'state');
  fs.mkdirSync(dir, { mode: 0o700 });
  const id = loadDeviceIdentity(device.files);
  const closedPort = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
  const write = (name: string, content: string) => fs.writeFileSync(path.join(dir, name), content, { mode: 0o600 });
  write('device.key', exportPrivateKey(id.privateKey));
  write('device.crt', device.files.certificateChain);
  write(
    'receipt.json',
    JSON.stringify({ receipt: device.files.receipt, receiptSignature: device.files.receiptSignature }),
  );
  write('policy.json', JSON.stringify({ 'Account.hostname': bootstrap }));
  write(
    'agent.json',
    JSON.stringify({
      version: 1,
      server: `https://127.0.0.1:${closedPort}`,
      username: 'bench',
      deviceName: 'bench',
      nameServer: '/api/nameserver',
      accountId: id.accountId,
      deviceId: id.deviceId,
      deviceShortId: id.deviceShortId,
      enrolledAt: new Date().toISOString(),
      keyEncrypted: false,
    }),
  );
  return dir;
}

/** RSS of a bare Node.js process (the runtime the agent cannot do without). */
async function nodeRss(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 3000)'], { stdio: 'ignore' });
  await sleep(1_500);
  const rss = rssKiB(child.pid!);
  child.kill('SIGTERM');
  return rss;
}

/** RSS of an idle `enclave-agent run` joined to the network (after it started and sat idle for 5 s). */
async function agentIdleRss(device: TestDevice, bootstrap: string): Promise<number> {
  const dir = await agentState(device, bootstrap);
  const child: ChildProcess = spawn(process.execPath, [AGENT_BIN, 'run', '--state-dir', dir, '--bind', '127.0.0.1'], {
    env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`agent did not start:\n${out}`)), 30_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"agent started"')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`agent exited:\n${out}`)));
    });
    await sleep(5_000);
    return rssKiB(child.pid!);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- suite

export async function run(): Promise<BenchFigure[]> {
  const reason = dhtnodeUnavailableReason();
  if (reason) throw new Error(`dht bench: ${reason}`);
  const org = await organization();

  const ours = await ourNetwork(NODES);
  let dhtnodes: DhtnodeProcess[] = [];
  try {
    const ourBootstrap = ours.map((n) => `127.0.0.1:${n.address.port}`);
    const oursGet = await ourGets(ours);
    const oursConnect = await firstConnections(org, ourBootstrap);
    const agentRss = await agentIdleRss(org.a, ourBootstrap[0]);
    const bareNodeRss = await nodeRss();

    dhtnodes = await dhtnodeNetwork(NODES);
    const theirBootstrap = dhtnodes.map((d) => d.address);
    const theirGet = await dhtnodeGets(dhtnodes);
    const theirConnect = await firstConnections(org, theirBootstrap);
    const dhtnodeRss = quantile(
      dhtnodes.map((d) => rssKiB((d as unknown as { proc: { child: ChildProcess } }).proc.child.pid!)),
      0.5,
    );

    const ms = (name: string, v: number) => ({ name, value: v, unit: 'ms' });
    const n = `${NODES} nodes on loopback`;
    const getNote = (o: GetSamples, t: GetSamples) =>
      `${GETS} gets of fresh keys, each from a node that did not put it` +
      (o.misses || t.misses ? `; found nothing: ours ${o.misses}, dhtnode ${t.misses}` : '');
    return [
      figure(
        `get, median (${n})`,
        quantile(oursGet.ms, 0.5),
        'ms',
        ms('dhtnode network, dhtnode get', quantile(theirGet.ms, 0.5)),
        getNote(oursGet, theirGet),
      ),
      figure(
        `get, p99 (${n})`,
        quantile(oursGet.ms, 0.99),
        'ms',
        ms('dhtnode network, dhtnode get', quantile(theirGet.ms, 0.99)),
        `ours: ${NODES} DhtNodes in one Node.js process, timed by the caller; dhtnode: ${NODES} processes, the time it prints`,
      ),
      figure(
        `first connection between two agents, median (${n})`,
        quantile(oursConnect, 0.5),
        'ms',
        ms('same agents over the dhtnode network', quantile(theirConnect, 0.5)),
        `${CONNECTIONS} fresh pairs; certificate lookup, chain + CRL checks, ICE over encrypted DHT values, DTLS with RSA-4096 device certificates`,
      ),
      figure(
        `first connection between two agents, p99 (${n})`,
        quantile(oursConnect, 0.99),
        'ms',
        ms('same agents over the dhtnode network', quantile(theirConnect, 0.99)),
        `${CONNECTIONS} fresh pairs`,
      ),
      figure(
        'agent idle memory (RSS of enclave-agent run)',
        agentRss / 1024,
        'MiB',
        { name: 'dhtnode process idle RSS (median)', value: dhtnodeRss / 1024, unit: 'MiB' },
        `the launcher loads precompiled sources (scripts/ts-cache.cjs); a bare Node.js process alone: ${(bareNodeRss / 1024).toFixed(0)} MiB`,
      ),
    ];
  } finally {
    await Promise.all(ours.map((n) => n.stop()));
    await inBatches(dhtnodes.length, 20, (i) => dhtnodes[i].stop());
  }
}
