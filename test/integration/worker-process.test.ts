import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, test } from 'node:test';
import { Job, Queue, createPostgresBackend } from 'bullmq';
import { Client } from 'pg';
import { QueueName } from '../../apps/server/src/modules/queue/queue-names';
import { createTestDatabase, stopTestPostgres } from '../support/postgres';

const root = path.resolve(__dirname, '..', '..');
after(() => stopTestPostgres());

test(
  '`npm run worker` runs the processors in a separate process against DATABASE_URL',
  { timeout: 120_000 },
  async () => {
    const db = await createTestDatabase();
    const prefix = `w${randomBytes(3).toString('hex')}`;
    const child = spawn(process.execPath, ['-r', './scripts/register.cjs', 'apps/server/src/worker.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: db.url,
        ENCLAVE_MASTER_KEY: randomBytes(32).toString('hex'),
        ENCLAVE_QUEUE_PREFIX: prefix,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logs: string[] = [];
    child.stdout.on('data', (d: Buffer) => logs.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => logs.push(d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const queue = new Queue(
      QueueName.Maintenance,
      { connection: { connectionString: db.url, schema: `${prefix}_queue`, migrate: true } } as never,
      createPostgresBackend as never,
    );
    try {
      for (let i = 0; i < 200 && !logs.join('').includes('Enclave worker running'); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(logs.join(''), /Enclave worker running.*postgres|"backend":"postgres"/);
      const job: Job = await queue.add('purge-tokens', {});
      let state = await job.getState();
      for (let i = 0; i < 300 && state !== 'completed' && state !== 'failed'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        state = await job.getState();
      }
      assert.equal(state, 'completed', logs.join(''));
      const done = await queue.getJob(job.id as string);
      assert.deepEqual(done?.returnvalue, { purged: 0 });
      // The worker applied the migrations itself (it may start before the server).
      const c = new Client({ connectionString: db.url });
      await c.connect();
      const { rows } = await c.query('SELECT count(*)::int AS n FROM migrations');
      await c.end();
      assert.ok(rows[0].n >= 1);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      await queue.close();
      await db.drop();
    }
  },
);

test('`npm run worker` without DATABASE_URL exits 2 with a clear message', async () => {
  const child = spawn(process.execPath, ['-r', './scripts/register.cjs', 'apps/server/src/worker.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 2);
  assert.match(out, /needs DATABASE_URL/);
});
