import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { NestFactory } from '@nestjs/core';
import { DynamicModule, INestApplicationContext, Module } from '@nestjs/common';
import Redis from 'ioredis';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { AppModuleOptions, sharedImports } from '../../apps/server/src/app.module';
import { SecretBox } from '../../apps/server/src/common/secret-box';
import { loadConfig } from '../../apps/server/src/config/app-config';
import { runMigrations } from '../../apps/server/src/database/migrate';
import { poolKeyPurpose } from '../../apps/server/src/modules/ca/key-pool.service';
import { QueueName } from '../../apps/server/src/modules/queue/queue-names';
import { QueueService } from '../../apps/server/src/modules/queue/queue.service';
import { registerProcessors } from '../../apps/server/src/worker';
import { createTestDatabase, stopTestPostgres } from '../support/postgres';
import { stopTestRedis, testRedisUrl } from '../support/redis';

@Module({})
class QueueTestModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    return { module: QueueTestModule, imports: sharedImports(opts) };
  }
}

after(async () => {
  await stopTestPostgres();
  stopTestRedis();
});

async function context(redisUrl?: string) {
  const db = await createTestDatabase();
  const logger = pino({ level: 'warn' });
  await runMigrations(db.url, logger);
  const key = randomBytes(32);
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    ENCLAVE_QUEUE_PREFIX: prefix,
    ENCLAVE_KEY_POOL_SIZE: '2',
  });
  const app = await NestFactory.createApplicationContext(
    QueueTestModule.forRoot({ config, databaseUrl: db.url, secrets: new SecretBox(key), logger }),
    { logger: false },
  );
  return { app, db, box: new SecretBox(key), prefix };
}

async function fillThroughQueue(app: INestApplicationContext, box: SecretBox) {
  const queues = app.get(QueueService);
  registerProcessors(app);
  const queue = queues.queue(QueueName.KeyPool);
  // The event loop keeps turning while RSA-4096 keys are generated: key generation is off the loop.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const job = await queue.add('fill', { target: 2 });
  const started = Date.now();
  let state = await job.getState();
  while (state !== 'completed' && state !== 'failed' && Date.now() - started < 120_000) {
    await new Promise((r) => setTimeout(r, 100));
    state = await job.getState();
  }
  clearInterval(timer);
  assert.equal(state, 'completed');
  const elapsed = Date.now() - started;
  const done = await queue.getJob(job.id as string);
  assert.deepEqual(done?.returnvalue, { added: 2 });
  // At least a third of the 10 ms ticks fired while two 4096-bit keys were made.
  assert.ok(ticks >= elapsed / 10 / 3, `event loop starved: ${ticks} ticks in ${elapsed} ms`);
  const rows: { key_id: string; public_key_pem: string; private_key_sealed: string }[] = await app
    .get(DataSource)
    .query('SELECT key_id, public_key_pem, private_key_sealed FROM account_key_pool');
  assert.equal(rows.length, 2);
  for (const r of rows) {
    assert.ok(!r.private_key_sealed.includes('PRIVATE KEY'), 'pooled keys are encrypted at rest');
    const pem = box.openText(r.private_key_sealed, poolKeyPurpose(r.key_id));
    const { createPrivateKey } = await import('node:crypto');
    assert.equal(createPrivateKey(pem).asymmetricKeyDetails?.modulusLength, 4096);
  }
}

describe('queue module', () => {
  test(
    'on the PostgreSQL backend (no REDIS_URL) a key-pool job fills the pool through a worker',
    { timeout: 180_000 },
    async () => {
      const { app, db, box } = await context();
      try {
        assert.equal(app.get(QueueService).backend, 'postgres');
        await fillThroughQueue(app, box);
        const schemas = await app
          .get(DataSource)
          .query("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '%_queue'");
        assert.equal(schemas.length, 1, 'BullMQ keeps its tables in its own schema of the same database');
      } finally {
        await app.close();
        await db.drop();
      }
    },
  );

  test('on the Redis backend (REDIS_URL) the same job runs through Redis', { timeout: 180_000 }, async () => {
    const redisUrl = await testRedisUrl();
    const { app, db, box, prefix } = await context(redisUrl);
    try {
      assert.equal(app.get(QueueService).backend, 'redis');
      await fillThroughQueue(app, box);
      const redis = new Redis(redisUrl);
      try {
        const keys = await redis.keys(`${prefix}:${QueueName.KeyPool}:*`);
        assert.ok(keys.length > 0, 'the job lives in Redis under the configured prefix');
      } finally {
        redis.disconnect();
      }
      const tables = await app
        .get(DataSource)
        .query("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '%_queue'");
      assert.deepEqual(tables, [], 'nothing queue-related in PostgreSQL');
    } finally {
      await app.close();
      await db.drop();
    }
  });

  test('a job that throws is retried and then marked failed with its reason', { timeout: 60_000 }, async () => {
    const { app, db } = await context();
    try {
      const queues = app.get(QueueService);
      registerProcessors(app);
      const job = await queues.queue(QueueName.Maintenance).add('no-such-task', {}, { attempts: 2, backoff: 10 });
      let state = await job.getState();
      for (let i = 0; i < 300 && state !== 'failed'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        state = await job.getState();
      }
      assert.equal(state, 'failed');
      const failed = await queues.queue(QueueName.Maintenance).getJob(job.id as string);
      assert.equal(failed?.attemptsMade, 2);
      assert.match(failed?.failedReason ?? '', /Unknown maintenance job no-such-task/);
    } finally {
      await app.close();
      await db.drop();
    }
  });
});
