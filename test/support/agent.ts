/**
 * Drives enclave-agent in tests: in-process (`agentMain`, fast, for most commands) or as the real launcher
 * `apps/agent/bin/enclave-agent.cjs` in a child process (`runAgentCli`, `AgentDaemon` for `run`).
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../apps/agent/src/main';
import type { TestServer } from './server';

export const AGENT_BIN = path.resolve(__dirname, '..', '..', 'apps', 'agent', 'bin', 'enclave-agent.cjs');

export interface AgentResult {
  code: number;
  stdout: string;
  stderr: string;
}

function capture(): { stream: NodeJS.WriteStream; text: () => string } {
  let buf = '';
  const stream = {
    isTTY: false,
    write(chunk: string | Buffer) {
      buf += chunk.toString();
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, text: () => buf };
}

/** Runs the CLI in this process (same code as the launcher, without the process start-up). */
export async function agentMain(
  args: string[],
  opts: { stdin?: string; env?: Record<string, string> } = {},
): Promise<AgentResult> {
  const out = capture();
  const err = capture();
  const code = await main(args, {
    stdout: out.stream,
    stderr: err.stream,
    env: { ...opts.env },
    stdin: opts.stdin ?? '',
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** Runs the real launcher in a child process. */
export function runAgentCli(
  args: string[],
  opts: { stdin?: string; env?: Record<string, string>; cwd?: string; command?: string[] } = {},
): Promise<AgentResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...pre] = opts.command ?? [process.execPath, AGENT_BIN];
    const child = spawn(cmd, [...pre, ...args], {
      cwd: opts.cwd ?? path.resolve(__dirname, '..', '..'),
      env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

export function tempStateDir(label = 'agent'): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), `enclave-${label}-`)), 'state');
}

export interface LogLine {
  time: string;
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** `enclave-agent run` in a child process, with its JSON log lines parsed. */
export class AgentDaemon {
  readonly logs: LogLine[] = [];
  stderr = '';
  private readonly child: ChildProcess;
  private readonly exited: Promise<number>;
  private readonly waiters = new Set<() => void>();

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [AGENT_BIN, 'run', ...args], {
      cwd: path.resolve(__dirname, '..', '..'),
      env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      partial += d.toString();
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ time: '', level: 'raw', msg: line });
        }
        for (const w of this.waiters) w();
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        for (const w of this.waiters) w();
        resolve(code ?? (signal ? 128 : 1));
      }),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first log line (past or future) that matches. */
  waitFor(match: (l: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`agent log line not seen in ${timeoutMs} ms; logs:\n${this.dump()}`));
      }, timeoutMs);
      const check = () => {
        const found = this.logs.find(match);
        if (found) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(found);
        } else if (!this.running) {
          clearTimeout(timer);
          this.waiters.delete(check);
          reject(new Error(`agent exited; logs:\n${this.dump()}`));
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  dump(): string {
    return `${this.logs.map((l) => JSON.stringify(l)).join('\n')}\n${this.stderr}`;
  }

  /** SIGTERM, then the exit code. */
  async stop(): Promise<number> {
    if (this.running) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** Creates users through the admin API (password "<username>-password"). */
export async function createUsers(server: TestServer, adminToken: string, usernames: string[]): Promise<void> {
  for (const username of usernames) {
    const res = await server.request('POST', '/api/admin/users', {
      token: adminToken,
      body: { username, password: `${username}-password` },
    });
    if (res.status !== 201) throw new Error(`creating ${username}: ${res.status} ${res.text()}`);
  }
}

/** The organization CA certificate, written to a file for --ca. */
export async function caFile(server: TestServer): Promise<string> {
  const res = await server.request('GET', '/api/ca');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-ca-')), 'ca.pem');
  fs.writeFileSync(file, res.text());
  return file;
}

/**
 * `run` flags for loopback tests: DHT and ICE on 127.0.0.1, a 2 s connect timeout, CRLs trusted for 1 s.
 */
export const LOOPBACK_DAEMON_ARGS = ['--bind', '127.0.0.1', '--connect-timeout', '2', '--crl-max-age', '1'];

/**
 * Enrolls a device of `user` (password "<user>-password", as createUsers sets it) into a fresh state
 * directory, with a 2048-bit device key; resolves with that directory.
 */
export async function enrollAgent(server: TestServer, ca: string, deviceName: string, user: string): Promise<string> {
  const stateDir = tempStateDir(deviceName);
  const r = await agentMain(
    [
      'enroll',
      ...['--server', server.localUrl, '--username', user, '--password-stdin', '--ca', ca],
      ...['--key-bits', '2048', '--device-name', deviceName, '--state-dir', stateDir],
    ],
    { stdin: `${user}-password\n` },
  );
  if (r.code !== 0) throw new Error(`enroll ${deviceName} (${user}) exited ${r.code}: ${r.stderr}`);
  return stateDir;
}

/** Starts `enclave-agent run` on an enrolled state directory and waits for its "agent started" line. */
export async function startAgentDaemon(stateDir: string, args = LOOPBACK_DAEMON_ARGS): Promise<AgentDaemon> {
  const daemon = new AgentDaemon(['--state-dir', stateDir, ...args]);
  try {
    await daemon.waitFor((l) => l.msg === 'agent started');
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return daemon;
}
