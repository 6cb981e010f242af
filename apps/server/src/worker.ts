import 'reflect-metadata';
import { DynamicModule, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import { AppModuleOptions, sharedImports } from './app.module';
import { createLogger } from './common/logger';
import { loadConfigOrExit } from './config/app-config';
import { CaOperationsService } from './modules/ca/ca-operations.service';
import { CaService } from './modules/ca/ca.service';
import { DirectorySyncService } from './modules/directory/directory-sync.service';
import { DirectoryScheduler } from './modules/directory/directory.scheduler';
import { DirectoryService } from './modules/directory/directory.service';
import { ProvisioningService } from './modules/directory/provisioning.service';
import { KeyPoolService } from './modules/ca/key-pool.service';
import { TokenService } from './modules/auth/token.service';
import { QueueName } from './modules/queue/queue-names';
import { QueueService } from './modules/queue/queue.service';
import { prepareInfrastructure } from './infrastructure';

@Module({})
class WorkerModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    return { module: WorkerModule, imports: sharedImports(opts) };
  }
}

export type MaintenanceJob = 'refresh-crls' | 'purge-tokens' | 'renew-certificates';

/** The BullMQ processors: every queue's work, in the server process (`npm start`) or a worker process. */
export function registerProcessors(app: INestApplicationContext): void {
  const queues = app.get(QueueService);
  const keyPool = app.get(KeyPoolService);
  const ca = app.get(CaService);
  const tokens = app.get(TokenService);
  const caOperations = app.get(CaOperationsService);
  queues.startWorker<{ target?: number }>(QueueName.KeyPool, async (job) => ({
    added: await keyPool.fill(job.data?.target),
  }));
  queues.startWorker<{ withinDays?: number }>(QueueName.Maintenance, async (job) => {
    switch (job.name as MaintenanceJob) {
      case 'renew-certificates': {
        const retired = await caOperations.retireIfOverlapEnded('system:ca-renewal');
        const report = await caOperations.renewExpiring(job.data?.withinDays, 'system:ca-renewal');
        return {
          retiredPrevious: retired?.retired.keyId ?? null,
          accounts: report.accounts,
          devices: report.devices,
          skipped: report.skipped.length,
        };
      }
      case 'refresh-crls':
        return { refreshed: await ca.refreshCrls() };
      case 'purge-tokens':
        return { purged: await tokens.purgeExpired() };
      default:
        throw new Error(`Unknown maintenance job ${job.name}`);
    }
  });
  const sync = app.get(DirectorySyncService);
  queues.startWorker<{ runId?: string }>(QueueName.DirectorySync, async (job) => {
    const run = job.data?.runId ? await sync.execute(job.data.runId) : await sync.scheduled();
    return run ? { runId: run.id, status: run.status } : { skipped: 'no directory sync configured' };
  });
  const provisioning = app.get(ProvisioningService);
  queues.startWorker<{ runId: string }>(QueueName.Provisioning, async (job) => {
    const run = await provisioning.execute(job.data.runId);
    return { runId: run.id, done: run.done, failed: run.failed };
  });
}

/** Recurring jobs; upserting a scheduler is idempotent across restarts and processes. */
export async function scheduleRecurringJobs(app: INestApplicationContext): Promise<void> {
  const queues = app.get(QueueService);
  await queues.queue(QueueName.KeyPool).upsertJobScheduler('key-pool-fill', { every: 10 * 60_000 }, { name: 'fill' });
  const maintenance = queues.queue(QueueName.Maintenance);
  await maintenance.upsertJobScheduler('refresh-crls', { every: 30 * 60_000 }, { name: 'refresh-crls' });
  await maintenance.upsertJobScheduler('purge-tokens', { every: 60 * 60_000 }, { name: 'purge-tokens' });
  await maintenance.upsertJobScheduler('renew-certificates', { every: 6 * 3600_000 }, { name: 'renew-certificates' });
  await app.get(DirectoryScheduler).apply(await app.get(DirectoryService).config());
  // Fill the pool soon after start rather than waiting for the first period.
  await queues.queue(QueueName.KeyPool).add('fill', {});
}

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env);
  const logger = createLogger(config.log.level, config.log.format);
  if (!config.database.url) {
    logger.fatal('npm run worker needs DATABASE_URL: the embedded PostgreSQL belongs to the server process');
    process.exit(2);
  }
  const infra = await prepareInfrastructure(config, logger);
  const app = await NestFactory.createApplicationContext(
    WorkerModule.forRoot({ config, databaseUrl: infra.databaseUrl, secrets: infra.secrets, logger }),
    { bufferLogs: true },
  );
  app.useLogger(app.get(PinoLogger));
  registerProcessors(app);
  logger.info({ backend: app.get(QueueService).backend }, 'Enclave worker running');
  const shutdown = () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (require.main === module) void main();
