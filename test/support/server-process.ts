/**
 * The real server as a separate process (`node apps/server/src/main.ts`), for tests that kill it or its
 * PostgreSQL: started with an environment of the test's choosing, ready once /healthz answers 200.
 */
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { httpsRequest } from './server';

const root = path.resolve(__dirname, '..', '..');

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  logs: string[];
  exited: Promise<number | null>;
}

export function baseServerEnv(dataDir: string, port: number): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ENCLAVE_DATA_DIR: dataDir,
    ENCLAVE_PORT: String(port),
    ENCLAVE_HOST: '127.0.0.1',
    ENCLAVE_PUBLIC_URL: `https://localhost:${port}`,
    ENCLAVE_ADMIN_USER: 'admin',
    ENCLAVE_ADMIN_PASSWORD: 'process-password',
    ENCLAVE_CA_ALGORITHM: 'P-256',
    ENCLAVE_KEY_POOL_SIZE: '1',
    LOG_LEVEL: 'info',
  };
}

export async function startServerProcess(env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<ServerProcess> {
  const port = Number(env.ENCLAVE_PORT);
  const child = spawn(process.execPath, ['-r', './scripts/register.cjs', 'apps/server/src/main.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  child.stdout?.on('data', (d: Buffer) => logs.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `https://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await httpsRequest(`${url}/healthz`, 'GET');
      if (res.status === 200) break;
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited early:\n${logs.join('')}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start:\n${logs.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { child, port, url, logs, exited };
}
