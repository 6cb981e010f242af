import fs from 'node:fs';
import readline from 'node:readline';
import {
  DeviceIdentity,
  EnclavePeerOptions,
  JamsClient,
  MessageStore,
  networkPolicy,
  parseCertificates,
} from '@enclave/core';
import { AgentError, ExitCode } from './agent.errors';
import { AgentConfig, StateStore } from './state-store';

/** Parsed command-line options (every command's; each reads the ones it knows). */
export interface Options {
  'state-dir'?: string;
  server?: string;
  username?: string;
  'password-stdin'?: boolean;
  'passphrase-stdin'?: boolean;
  'passphrase-file'?: string;
  'device-name'?: string;
  ca?: string;
  'key-bits'?: string;
  force?: boolean;
  json?: boolean;
  offline?: boolean;
  bootstrap?: string;
  'dht-port'?: string;
  'dht-proxy'?: string;
  bind?: string;
  'connect-timeout'?: string;
  'crl-max-age'?: string;
  'log-level'?: string;
  // host-room
  room?: string;
  'secret-stdin'?: boolean;
  state?: string;
  'poll-interval'?: string;
  help?: boolean;
  version?: boolean;
}

/** Everything a command gets: its arguments, the state store, the streams and the environment. */
export interface Context {
  options: Options;
  args: string[];
  store: StateStore;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** The agent's clock (ENCLAVE_AGENT_CLOCK_OFFSET_MS shifts it, to test clock-skew handling). */
  now: () => number;
  /** Standard input's lines, once read (or given by the caller). */
  stdinLines?: string[];
}

export const print = (ctx: Context, line = '') => ctx.stdout.write(`${line}\n`);

/** The lines piped on stdin, read once (for --password-stdin and --passphrase-stdin). */
function stdin(ctx: Context): string[] {
  if (!ctx.stdinLines) {
    if (process.stdin.isTTY) ctx.stdinLines = [];
    else {
      try {
        ctx.stdinLines = fs.readFileSync(0, 'utf8').split(/\r?\n/);
      } catch {
        ctx.stdinLines = [];
      }
    }
  }
  return ctx.stdinLines;
}

async function prompt(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
  out._writeToOutput = (s: string) => {
    if (s.includes(question)) out.output.write(s);
  };
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/** The user's password: first stdin line with --password-stdin, else a prompt on a terminal. */
export async function readPassword(ctx: Context): Promise<string> {
  if (ctx.options['password-stdin']) {
    const line = stdin(ctx)[0];
    if (!line) throw new AgentError(ExitCode.USAGE, '--password-stdin: no password on standard input');
    return line;
  }
  if (process.stdin.isTTY) return prompt(`Password for ${ctx.options.username}: `);
  throw new AgentError(ExitCode.USAGE, 'no password: pipe it with --password-stdin');
}

/**
 * The passphrase of the device key and backups, from --passphrase-file, --passphrase-stdin (the line after
 * the password when both are piped), or ENCLAVE_AGENT_PASSPHRASE; `required` prompts on a terminal.
 */
export async function readPassphrase(ctx: Context, required: boolean, why = 'Passphrase'): Promise<string | undefined> {
  const o = ctx.options;
  if (o['passphrase-file']) {
    try {
      return fs.readFileSync(o['passphrase-file'], 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new AgentError(ExitCode.USAGE, `--passphrase-file: ${(err as Error).message}`);
    }
  }
  if (o['passphrase-stdin']) {
    const line = stdin(ctx)[o['password-stdin'] ? 1 : 0];
    if (!line) throw new AgentError(ExitCode.USAGE, '--passphrase-stdin: no passphrase on standard input');
    return line;
  }
  if (ctx.env.ENCLAVE_AGENT_PASSPHRASE) return ctx.env.ENCLAVE_AGENT_PASSPHRASE;
  if (required && process.stdin.isTTY) return prompt(`${why}: `);
  if (required) {
    throw new AgentError(
      ExitCode.PASSPHRASE,
      'a passphrase is needed',
      'give it with --passphrase-file FILE, --passphrase-stdin or ENCLAVE_AGENT_PASSPHRASE',
    );
  }
  return undefined;
}

/** The enrolled identity, its key unlocked with the passphrase when it is encrypted. */
export async function loadIdentity(ctx: Context, config: AgentConfig): Promise<DeviceIdentity> {
  const passphrase = config.keyEncrypted ? await readPassphrase(ctx, true, 'Device key passphrase') : undefined;
  return ctx.store.loadIdentity(passphrase);
}

/** The CAs (PEM) trusted for the organization's HTTPS servers: the one given at enrollment and the org CA. */
function trustedCas(ctx: Context, identity?: DeviceIdentity): string | undefined {
  return [ctx.store.serverCa(), identity?.ca.toString()].filter((c): c is string => !!c).join('') || undefined;
}

/** A client for the enrolled server: trusts the CA given at enrollment and the organization CA. */
export function serverClient(ctx: Context, config: AgentConfig, identity?: DeviceIdentity): JamsClient {
  return new JamsClient({
    url: config.server,
    ca: trustedCas(ctx, identity),
    now: ctx.now,
    clientCertificate: identity
      ? {
          chainPem: identity.chainPem,
          keyPem: identity.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        }
      : undefined,
  });
}

/** The org CA certificate PEM from a stored chain (its last certificate). */
export function orgCaOf(chainPem: string): string {
  const certs = parseCertificates(chainPem);
  return certs[certs.length - 1].toString();
}

/** A Jami ID given directly (40 hex) or a username looked up on the organization's name server. */
export async function resolveAccount(
  config: AgentConfig,
  client: JamsClient,
  name: string,
): Promise<{ name: string; accountId: string }> {
  if (/^[0-9a-fA-F]{40}$/.test(name)) return { name, accountId: name.toLowerCase() };
  return client.lookupName(name, config.nameServer);
}

export function integerOption(ctx: Context, name: keyof Options, min: number, max: number): number | undefined {
  const raw = ctx.options[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new AgentError(ExitCode.USAGE, `--${name} must be an integer between ${min} and ${max}`);
  }
  return n;
}

/** Peer settings from the stored policy, overridden by --bootstrap, --dht-port, --dht-proxy and --bind. */
export function peerOptions(
  ctx: Context,
  identity: DeviceIdentity,
  client: JamsClient,
  store: MessageStore,
  log?: EnclavePeerOptions['log'],
): EnclavePeerOptions & { notApplied: string[] } {
  const policy = networkPolicy(ctx.store.policy());
  const bootstrap = ctx.options.bootstrap
    ? ctx.options.bootstrap
        .split(/[,;]/)
        .map((s) => s.trim())
        .filter(Boolean)
    : policy.bootstrap;
  const proxyOption = ctx.options['dht-proxy']?.trim();
  const proxy = proxyOption === 'off' ? undefined : proxyOption || policy.dhtProxy;
  return {
    identity,
    dht: {
      host: ctx.options.bind ?? '0.0.0.0',
      port: integerOption(ctx, 'dht-port', 0, 65535) ?? policy.dhtPort ?? 0,
      bootstrap,
      nodeCacheFile: ctx.store.path('nodes'),
    },
    dhtProxy: proxy ? { server: proxy, ca: trustedCas(ctx, identity) } : undefined,
    server: client,
    ice: { iceServers: policy.iceServers, bindAddress: ctx.options.bind === '0.0.0.0' ? undefined : ctx.options.bind },
    messageStore: store,
    connectTimeoutMs: (integerOption(ctx, 'connect-timeout', 1, 300) ?? 15) * 1000,
    crlMaxAgeMs: (integerOption(ctx, 'crl-max-age', 0, 86400) ?? 60) * 1000,
    workDir: ctx.store.path('run'),
    log,
    notApplied: policy.notApplied,
  };
}
