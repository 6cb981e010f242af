import { spawn, ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from '../../apps/server/src/database/embedded-postgres';

/**
 * Redis for tests: TEST_REDIS_URL, else the machine's Redis at 127.0.0.1:6379, else a redis-server this
 * process starts on a free loopback port (and stops).
 */
let started: ChildProcess | undefined;
let resolved: Promise<string> | undefined;

function ping(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port }, () => s.write('PING\r\n'));
    s.setTimeout(1500, () => {
      s.destroy();
      resolve(false);
    });
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.once('error', () => resolve(false));
  });
}

export function testRedisUrl(): Promise<string> {
  resolved ??= (async () => {
    if (process.env.TEST_REDIS_URL) return process.env.TEST_REDIS_URL;
    if (await ping('127.0.0.1', 6379)) return 'redis://127.0.0.1:6379';
    const port = await freePort();
    started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    for (let i = 0; i < 50; i++) {
      if (await ping('127.0.0.1', port)) return `redis://127.0.0.1:${port}`;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('could not start redis-server for the tests');
  })();
  return resolved;
}

export function stopTestRedis(): void {
  started?.kill('SIGTERM');
  started = undefined;
}
