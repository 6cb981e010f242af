import { ChildProcess, spawn } from 'node:child_process';

/** Most output kept per process; older output is dropped first (jamid -d writes a few hundred kB a run). */
const MAX_OUTPUT = 32 * 1024 * 1024;
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\x1b\[[0-9;]*[A-Za-z]/g;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StopResult extends ExitStatus {
  name: string;
  /** Time from the stop request to the exit. */
  ms: number;
  /** True when SIGTERM was not enough and the process had to be killed. */
  killed: boolean;
}

export interface SpawnOptions {
  env: Record<string, string>;
  cwd?: string;
  /** Keep stdin open as a pipe (for drivers that read requests). */
  stdin?: boolean;
  /** Leave stdout to the caller instead of recording it (for drivers that write replies). */
  ownStdout?: boolean;
}

/**
 * One child process the harness started: records its output, knows when it exited, and stops it with
 * SIGTERM then SIGKILL. Only this exact pid is ever signalled.
 */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitStatus>;
  status: ExitStatus | undefined;
  private chunks: string[] = [];
  private size = 0;
  private listeners = new Set<() => void>();
  private stopping: Promise<StopResult> | undefined;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    opts: SpawnOptions,
  ) {
    this.child = spawn(command, args, {
      env: opts.env,
      cwd: opts.cwd,
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    if (!opts.ownStdout) this.child.stdout?.on('data', (d: Buffer) => this.record(d));
    this.child.stderr?.on('data', (d: Buffer) => this.record(d));
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.record(Buffer.from(`[harness] cannot start ${command}: ${err.message}\n`));
        this.status ??= { code: null, signal: null };
        resolve(this.status);
        this.notify();
      });
      this.child.on('exit', (code, signal) => {
        this.status = { code, signal };
        resolve(this.status);
        this.notify();
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid (it did not start)`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.status === undefined;
  }

  /** Everything recorded, without colour codes (jamid colours its log even without a terminal). */
  output(): string {
    return this.chunks.join('').replace(ANSI_ESCAPE, '');
  }

  tail(chars = 4000): string {
    const out = this.output();
    return out.length > chars ? `…${out.slice(-chars)}` : out;
  }

  describeExit(): string {
    const s = this.status;
    if (!s) return `${this.name} is running`;
    return `${this.name} exited (${s.signal ? `signal ${s.signal}` : `code ${s.code}`})`;
  }

  /** Calls fn on every new output chunk and on exit; returns the unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves once the recorded output matches re; rejects when the process exits first or on timeout. */
  waitForOutput(re: RegExp, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (re.test(this.output())) finish();
        else if (!this.running) finish(new Error(`${this.describeExit()} before printing ${re}:\n${this.tail()}`));
      };
      const timer = setTimeout(
        () => finish(new Error(`${this.name} did not print ${re} within ${timeoutMs} ms:\n${this.tail()}`)),
        timeoutMs,
      );
      const off = this.onChange(check);
      function finish(err?: Error) {
        clearTimeout(timer);
        off();
        if (err) reject(err);
        else resolve();
      }
      check();
    });
  }

  /** SIGTERM, then SIGKILL after graceMs. Safe to call more than once. */
  stop(graceMs = 10_000): Promise<StopResult> {
    this.stopping ??= (async () => {
      const started = Date.now();
      let killed = false;
      if (this.running && this.child.pid !== undefined) {
        this.child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          this.exited.then(() => false),
          new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs))),
        ]);
        clearTimeout(timer);
        if (timedOut && this.running) {
          killed = true;
          this.record(Buffer.from(`[harness] ${this.name} ignored SIGTERM for ${graceMs} ms: SIGKILL\n`));
          this.child.kill('SIGKILL');
        }
      }
      const status = await this.exited;
      return { name: this.name, ms: Date.now() - started, killed, ...status };
    })();
    return this.stopping;
  }

  private record(d: Buffer) {
    const s = d.toString('utf8');
    this.chunks.push(s);
    this.size += s.length;
    while (this.size > MAX_OUTPUT && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
    this.notify();
  }

  private notify() {
    for (const fn of [...this.listeners]) fn();
  }
}

/** Polls fn every intervalMs until it returns true; fails early when `watch` exits. */
export async function pollUntil(
  what: string,
  fn: () => boolean | Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; watch?: ManagedProcess },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (opts.watch && !opts.watch.running) {
      throw new Error(`${opts.watch.describeExit()} while waiting for ${what}:\n${opts.watch.tail()}`);
    }
    if (Date.now() > deadline) {
      const tail = opts.watch ? `\n${opts.watch.name} output:\n${opts.watch.tail()}` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}${tail}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
