import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DeviceIdentity,
  DeviceIdentityFiles,
  loadDeviceIdentity,
  MessageStore,
  OutboxEntry,
  PolicyData,
} from '@enclave/core';
import { AgentError, ExitCode } from './agent.errors';

/** What the agent knows besides the identity files. */
export interface AgentConfig {
  version: 1;
  /** Server base URL as given at enrollment. */
  server: string;
  username: string;
  deviceName: string;
  /** Name server path or URL from the enrollment answer. */
  nameServer: string;
  accountId: string;
  deviceId: string;
  deviceShortId: string;
  enrolledAt: string;
  /** Whether the device key is stored encrypted. */
  keyEncrypted: boolean;
}

const FILES = {
  config: 'agent.json',
  key: 'device.key',
  chain: 'device.crt',
  receipt: 'receipt.json',
  policy: 'policy.json',
  serverCa: 'server-ca.pem',
  outbox: 'outbox.json',
  seen: 'seen.json',
  nodes: 'dht-nodes.json',
  dhtNode: 'dht-node.json',
  socket: 'agent.sock',
  run: 'run',
} as const;

/** The default state directory: $ENCLAVE_AGENT_STATE_DIR, else $XDG_STATE_HOME/enclave-agent, else ~/.local/state/enclave-agent. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ENCLAVE_AGENT_STATE_DIR) return path.resolve(env.ENCLAVE_AGENT_STATE_DIR);
  const base = env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'enclave-agent');
}

/**
 * The agent's private state directory (mode 0700, files 0600): the device key (PKCS#8, encrypted when a
 * passphrase was given), its certificate chain, the receipt, the policy, undelivered messages.
 */
export class StateStore {
  constructor(readonly dir: string) {}

  path(name: keyof typeof FILES): string {
    return path.join(this.dir, FILES[name]);
  }

  get enrolled(): boolean {
    return fs.existsSync(this.path('config')) && fs.existsSync(this.path('key'));
  }

  /** Creates the directory (0700) or tightens an existing one. */
  ensureDir(): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      fs.chmodSync(this.dir, 0o700);
    } catch (err) {
      throw new AgentError(ExitCode.STATE, `cannot create the state directory ${this.dir}: ${(err as Error).message}`);
    }
  }

  requireEnrolled(): AgentConfig {
    if (!this.enrolled) {
      throw new AgentError(
        ExitCode.STATE,
        `this device is not enrolled (no identity in ${this.dir})`,
        'run: enclave-agent enroll --server URL --username NAME',
      );
    }
    const st = fs.statSync(this.dir);
    if ((st.mode & 0o077) !== 0) {
      throw new AgentError(
        ExitCode.STATE,
        `the state directory ${this.dir} is accessible to other users (mode ${(st.mode & 0o777).toString(8)})`,
        `run: chmod 700 ${this.dir}`,
      );
    }
    return this.readJson<AgentConfig>('config');
  }

  identityFiles(): DeviceIdentityFiles {
    const receipt = this.readJson<{ receipt: string; receiptSignature: string }>('receipt');
    return {
      privateKeyPem: this.read('key'),
      certificateChain: this.read('chain'),
      receipt: receipt.receipt,
      receiptSignature: receipt.receiptSignature,
    };
  }

  loadIdentity(passphrase?: string): DeviceIdentity {
    return loadDeviceIdentity(this.identityFiles(), passphrase);
  }

  /** Writes a whole identity (enrollment or restore), each file atomically. */
  writeIdentity(config: AgentConfig, files: DeviceIdentityFiles, policy: PolicyData, serverCa?: string): void {
    this.ensureDir();
    this.write('key', files.privateKeyPem);
    this.write('chain', files.certificateChain);
    this.writeJson('receipt', { receipt: files.receipt, receiptSignature: files.receiptSignature });
    this.writeJson('policy', policy);
    if (serverCa) this.write('serverCa', serverCa);
    else fs.rmSync(this.path('serverCa'), { force: true });
    for (const stale of ['outbox', 'seen', 'nodes', 'dhtNode'] as const) fs.rmSync(this.path(stale), { force: true });
    this.writeJson('config', config);
  }

  policy(): PolicyData {
    return this.exists('policy') ? this.readJson<PolicyData>('policy') : {};
  }

  savePolicy(policy: PolicyData): void {
    this.writeJson('policy', policy);
  }

  /** The DHT node id and port of the last run: a restarted agent comes back as the same node. */
  dhtNode(): { id: string; port: number } | undefined {
    if (!this.exists('dhtNode')) return undefined;
    const n = this.readJson<{ id?: unknown; port?: unknown }>('dhtNode');
    return typeof n.id === 'string' && /^[0-9a-f]{40}$/.test(n.id) && typeof n.port === 'number'
      ? { id: n.id, port: n.port }
      : undefined;
  }

  saveDhtNode(node: { id: string; port: number }): void {
    this.writeJson('dhtNode', node);
  }

  /** Extra CA certificates (PEM) to trust for the server's TLS certificate: the one given at enrollment. */
  serverCa(): string | undefined {
    return this.exists('serverCa') ? this.read('serverCa') : undefined;
  }

  messageStore(): MessageStore {
    return {
      loadOutbox: () => (this.exists('outbox') ? this.readJson<OutboxEntry[]>('outbox') : []),
      saveOutbox: (entries) => this.writeJson('outbox', entries),
      loadSeen: () => (this.exists('seen') ? this.readJson<string[]>('seen') : []),
      saveSeen: (ids) => this.writeJson('seen', ids),
    };
  }

  exists(name: keyof typeof FILES): boolean {
    return fs.existsSync(this.path(name));
  }

  read(name: keyof typeof FILES): string {
    try {
      return fs.readFileSync(this.path(name), 'utf8');
    } catch (err) {
      throw new AgentError(ExitCode.STATE, `cannot read ${this.path(name)}: ${(err as Error).message}`);
    }
  }

  readJson<T>(name: keyof typeof FILES): T {
    const text = this.read(name);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new AgentError(ExitCode.STATE, `${this.path(name)} is not valid JSON`);
    }
  }

  write(name: keyof typeof FILES, content: string): void {
    const file = this.path(name);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, content, { mode: 0o600 });
    fs.renameSync(tmp, file);
  }

  writeJson(name: keyof typeof FILES, value: unknown): void {
    this.write(name, `${JSON.stringify(value, null, 2)}\n`);
  }
}
