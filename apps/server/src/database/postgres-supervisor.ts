import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

/** What /healthz and the error mapping need to know about the database process. */
export interface DatabaseHealth {
  state: 'starting' | 'up' | 'down' | 'stopped';
  /** Why it is down (exit code or signal, last lines of its log), when it is. */
  reason?: string;
  /** Restarts since the server started. */
  restarts: number;
}

export interface SupervisorOptions {
  /** The `postgres` binary. */
  binary: string;
  clusterDir: string;
  port: number;
  flags: string[];
  /** uid/gid to run as (PostgreSQL refuses to run as root). */
  ids?: { uid: number; gid: number };
  logger: Logger;
  /** First restart delay; doubles up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

const READY = 'database system is ready to accept connections';
const TAIL_LINES = 12;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(pid);
}

/**
 * A postmaster still running on our cluster directory after the server was killed (`kill -9` leaves its
 * PostgreSQL child behind, holding postmaster.pid and the shared memory): its pid when postmaster.pid names
 * a live `postgres` process whose data directory is ours.
 */
export function leftoverPostmaster(clusterDir: string): number | undefined {
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !isAlive(pid)) return undefined;
  if (path.resolve(lines[1] ?? '') !== path.resolve(clusterDir)) return undefined;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!/postgres/.test(cmdline)) return undefined;
  } catch {
    // No /proc (not Linux): postmaster.pid naming our directory and a live pid is the evidence.
  }
  return pid;
}

/**
 * Runs the embedded PostgreSQL postmaster as a child process and keeps it running: a leftover postmaster
 * of the same cluster is stopped before the first start, a start failure reports PostgreSQL's own words,
 * and an unexpected exit is restarted with exponential backoff on the same port (the connection pool's URL
 * stays valid, so service resumes without restarting the server).
 */
export class PostgresSupervisor {
  private child?: ChildProcess;
  private stopping = false;
  private restartTimer?: NodeJS.Timeout;
  private backoffMs: number;
  private readonly health: DatabaseHealth = { state: 'starting', restarts: 0 };

  constructor(private readonly opts: SupervisorOptions) {
    this.backoffMs = opts.initialBackoffMs ?? 500;
  }

  status(): DatabaseHealth {
    return { ...this.health };
  }

  /** Stops a leftover postmaster of our cluster, then starts PostgreSQL and waits until it accepts connections. */
  async start(): Promise<void> {
    await this.stopLeftover();
    try {
      await this.spawnOnce();
    } catch (err) {
      this.health.state = 'down';
      this.health.reason = (err as Error).message;
      this.opts.logger.error({ component: 'postgres', dir: this.opts.clusterDir }, (err as Error).message);
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    this.health.state = 'stopped';
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // SIGINT is PostgreSQL's "fast" shutdown: running transactions are rolled back, the cluster stays clean.
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGQUIT'), 30_000);
    await exited;
    clearTimeout(timer);
  }

  private async stopLeftover(): Promise<void> {
    const pid = leftoverPostmaster(this.opts.clusterDir);
    if (pid === undefined) return;
    this.opts.logger.info(
      { component: 'postgres', pid, dir: this.opts.clusterDir },
      'a PostgreSQL left running on this data directory by an unclean stop was found; stopping it before starting',
    );
    process.kill(pid, 'SIGINT');
    if (await waitForExit(pid, 30_000)) return;
    this.opts.logger.warn({ component: 'postgres', pid }, 'the leftover PostgreSQL did not stop in 30 s; killing it');
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 10_000);
  }

  private spawnOnce(): Promise<void> {
    const { binary, clusterDir, port, flags, ids, logger } = this.opts;
    const child = spawn(binary, ['-D', clusterDir, '-p', String(port), ...flags], {
      ...(ids ?? {}),
      // English messages, so readiness is recognised; PostgreSQL needs nothing else from the environment.
      env: { LANG: 'C', LC_MESSAGES: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const tail: string[] = [];
    let ready = false;
    const onOutput = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        const text = line.trim();
        if (!text) continue;
        tail.push(text);
        if (tail.length > TAIL_LINES) tail.shift();
        logger.debug({ component: 'postgres' }, text);
        if (!ready && text.includes(READY)) {
          ready = true;
          child.emit('ready');
        }
      }
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    return new Promise<void>((resolve, reject) => {
      child.once('error', (err) => reject(new Error(`The embedded PostgreSQL could not be started: ${err.message}`)));
      child.once('ready', () => {
        this.health.state = 'up';
        this.health.reason = undefined;
        this.backoffMs = this.opts.initialBackoffMs ?? 500;
        resolve();
      });
      child.once('exit', (code, signal) => {
        const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
        const reason = `The embedded PostgreSQL in ${clusterDir} ${how}${tail.length ? `: ${tail.join(' | ')}` : ''}`;
        if (!ready) {
          reject(new Error(reason.replace(how, `did not start (${how})`)));
          return;
        }
        if (this.stopping) return;
        this.health.state = 'down';
        this.health.reason = reason;
        logger.error({ component: 'postgres' }, `${reason}; restarting it`);
        this.scheduleRestart();
      });
    });
  }

  private scheduleRestart(): void {
    if (this.stopping) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 30_000);
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.health.restarts += 1;
      this.stopLeftover()
        .then(() => this.spawnOnce())
        .then(
          () =>
            this.opts.logger.info(
              { component: 'postgres', restarts: this.health.restarts },
              'the embedded PostgreSQL is running again',
            ),
          (err: Error) => {
            this.health.reason = err.message;
            this.opts.logger.error({ component: 'postgres', retryInMs: this.backoffMs }, err.message);
            this.scheduleRestart();
          },
        );
    }, delay);
    this.restartTimer.unref();
  }
}
