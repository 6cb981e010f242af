import path from 'node:path';
import { parseArgs } from 'node:util';
import { AgentError, ExitCode, toAgentError } from './agent.errors';
import { backupCommand, restoreCommand } from './commands/backup';
import { devicesCommand } from './commands/devices';
import { enrollCommand } from './commands/enroll';
import { hostRoomCommand } from './commands/host-room';
import { lookupCommand } from './commands/lookup';
import { runCommand } from './commands/run';
import { sendCommand } from './commands/send';
import { statusCommand } from './commands/status';
import { Context, Options } from './context';
import { defaultStateDir, StateStore } from './state-store';

const VERSION = '0.1.0';

export const USAGE = `enclave-agent: the Enclave agent (Jami-compatible peer) for an employee machine

Usage:
  enclave-agent enroll --server URL --username NAME [--password-stdin] [--passphrase-file FILE]
                       [--device-name NAME] [--ca FILE] [--force]
  enclave-agent run [--bootstrap HOST:PORT,...] [--dht-port N] [--dht-proxy URL|off] [--bind ADDR]
                    [--connect-timeout S] [--crl-max-age S] [--log-level LEVEL]
  enclave-agent status [--offline] [--json]
  enclave-agent devices [--json]
  enclave-agent lookup NAME [--json]
  enclave-agent send NAME MESSAGE [--json] [--connect-timeout S]
  enclave-agent backup FILE [--force]
  enclave-agent restore FILE [--force]
  enclave-agent host-room --server URL --room NAME [--secret-stdin] [--state DIR] [--ca FILE]
                          [--bootstrap HOST:PORT] [--poll-interval S] [--log-level LEVEL]

Options:
  --state-dir DIR        private state directory (default $ENCLAVE_AGENT_STATE_DIR,
                         else $XDG_STATE_HOME/enclave-agent, else ~/.local/state/enclave-agent)
  --password-stdin       read the password from the first line of standard input
  --passphrase-file FILE passphrase of the device key and of backups (or --passphrase-stdin,
                         the next stdin line, or $ENCLAVE_AGENT_PASSPHRASE); at enrollment it
                         encrypts the device key, which is otherwise stored unencrypted (mode 0600)
  --ca FILE              trust this CA for the server's TLS certificate (the organization CA)
  --bootstrap H:P,...    DHT nodes to join (default: the policy's Account.hostname)
  --dht-proxy URL|off    reach the DHT through this OpenDHT proxy ("host:port" or http(s)://…),
                         or "off" for a direct UDP node (default: the policy's Account.proxyServer
                         when Account.proxyEnabled is true)
  --bind ADDR            address for the DHT socket and ICE candidates (default all)
  --connect-timeout S    how long a peer connection may take (default 15)
  --crl-max-age S        refetch a cached CRL older than this (default 60)
  --json                 machine-readable output
  --room NAME            host-room: the conference room to host (runs the Jami daemon headless)
  --secret-stdin         host-room: the room's one-time host secret on standard input (first start)
  --state DIR            host-room: the daemon's private state (default <state-dir>/rooms/NAME)
  -h, --help             this help;  --version  the version

Exit codes: 0 ok, 1 unexpected failure, 2 usage, 3 server unreachable, 4 credentials rejected,
5 device revoked, 6 clock skew, 7 not enrolled / already enrolled / state unusable, 8 not found,
9 passphrase missing or wrong, 10 server error, 11 server certificate not trusted,
12 stored identity invalid, 13 DHT proxy unreachable, 14 Jami daemon not installed (host-room).
`;

const COMMANDS: Record<string, (ctx: Context) => Promise<ExitCode>> = {
  enroll: enrollCommand,
  run: runCommand,
  status: statusCommand,
  devices: devicesCommand,
  lookup: lookupCommand,
  send: sendCommand,
  backup: backupCommand,
  restore: restoreCommand,
  'host-room': hostRoomCommand,
};

function parse(argv: string[]): { command?: string; options: Options; args: string[] } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'state-dir': { type: 'string' },
      server: { type: 'string' },
      username: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      'passphrase-stdin': { type: 'boolean' },
      'passphrase-file': { type: 'string' },
      'device-name': { type: 'string' },
      ca: { type: 'string' },
      'key-bits': { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      offline: { type: 'boolean' },
      bootstrap: { type: 'string' },
      'dht-port': { type: 'string' },
      'dht-proxy': { type: 'string' },
      bind: { type: 'string' },
      'connect-timeout': { type: 'string' },
      'crl-max-age': { type: 'string' },
      'log-level': { type: 'string' },
      room: { type: 'string' },
      'secret-stdin': { type: 'boolean' },
      state: { type: 'string' },
      'poll-interval': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  const [command, ...args] = positionals;
  return { command, options: values as Options, args };
}

/** Runs the CLI; resolves with the exit code (errors are printed on stderr, never thrown). */
export async function main(
  argv: string[],
  io: { stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream; env?: NodeJS.ProcessEnv; stdin?: string } = {},
): Promise<ExitCode> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  try {
    let parsed;
    try {
      parsed = parse(argv);
    } catch (err) {
      throw new AgentError(ExitCode.USAGE, (err as Error).message, 'see enclave-agent --help');
    }
    const { command, options, args } = parsed;
    if (options.version) {
      stdout.write(`enclave-agent ${VERSION}\n`);
      return ExitCode.OK;
    }
    if (options.help || !command) {
      (options.help ? stdout : stderr).write(USAGE);
      return options.help ? ExitCode.OK : ExitCode.USAGE;
    }
    const run = COMMANDS[command];
    if (!run) throw new AgentError(ExitCode.USAGE, `unknown command "${command}"`, 'see enclave-agent --help');
    const offset = Number(env.ENCLAVE_AGENT_CLOCK_OFFSET_MS ?? 0) || 0;
    const ctx: Context = {
      options,
      args,
      store: new StateStore(options['state-dir'] ? path.resolve(options['state-dir']) : defaultStateDir(env)),
      env,
      stdout,
      stderr,
      now: () => Date.now() + offset,
      stdinLines: io.stdin?.split(/\r?\n/),
    };
    return await run(ctx);
  } catch (err) {
    const e = toAgentError(err);
    stderr.write(`enclave-agent: error: ${e.message}\n`);
    if (e.hint) stderr.write(`  ${e.hint}\n`);
    if (e.exitCode === ExitCode.FAILURE && env.ENCLAVE_AGENT_DEBUG && err instanceof Error)
      stderr.write(`${err.stack}\n`);
    return e.exitCode;
  }
}

/** Entry point of bin/enclave-agent.cjs. */
export function cli(): void {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // A daemon that stopped, or a command that used the DHT, may leave handles (native ICE threads) behind.
    setTimeout(() => process.exit(code), 500).unref();
  });
}
