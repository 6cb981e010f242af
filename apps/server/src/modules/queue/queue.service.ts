import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Job, Processor, Queue, Worker, createPostgresBackend } from 'bullmq';
import type { BackendFactory, ConnectionOptions, IQueueBackend } from 'bullmq';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { DATABASE_URL } from '../../database/database.tokens';
import { QueueName } from './queue-names';

export type QueueBackendKind = 'redis' | 'postgres';

/**
 * Builds BullMQ queues and workers on Redis when REDIS_URL is set, otherwise on the PostgreSQL backend
 * in the same (embedded or external) database, so the embedded mode needs no other service.
 */
@Injectable()
export class QueueService implements OnApplicationShutdown {
  private readonly logger = new Logger(QueueService.name);
  private readonly queues = new Map<QueueName, Queue>();
  private readonly workers: Worker[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DATABASE_URL) private readonly databaseUrl: string,
  ) {}

  get backend(): QueueBackendKind {
    return this.config.queue.redisUrl ? 'redis' : 'postgres';
  }

  /** PostgreSQL schema holding BullMQ's tables (PostgreSQL backend). */
  get schema(): string {
    return `${this.config.queue.prefix}_queue`.toLowerCase();
  }

  private connection(): { connection: unknown; prefix?: string; factory?: BackendFactory<IQueueBackend, unknown> } {
    if (this.config.queue.redisUrl) {
      const url = new URL(this.config.queue.redisUrl);
      const connection: ConnectionOptions = {
        host: url.hostname,
        port: Number(url.port || 6379),
        username: url.username || undefined,
        password: url.password ? decodeURIComponent(url.password) : undefined,
        db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
        tls: url.protocol === 'rediss:' ? {} : undefined,
        maxRetriesPerRequest: null,
      };
      return { connection, prefix: this.config.queue.prefix };
    }
    return {
      connection: { connectionString: this.databaseUrl, schema: this.schema, migrate: true, max: 4 },
      factory: createPostgresBackend as unknown as BackendFactory<IQueueBackend, unknown>,
    };
  }

  queue(name: QueueName): Queue {
    let q = this.queues.get(name);
    if (!q) {
      const { connection, prefix, factory } = this.connection();
      const opts = {
        connection,
        prefix,
        defaultJobOptions: {
          removeOnComplete: 100,
          removeOnFail: 500,
          attempts: 3,
          backoff: { type: 'exponential', delay: 1000 },
        },
      };
      q = factory ? new Queue(name, opts as never, factory as never) : new Queue(name, opts as never);
      q.on('error', (err) => this.logger.error({ err, queue: name }, 'queue connection error'));
      this.queues.set(name, q);
    }
    return q;
  }

  startWorker<T>(name: QueueName, processor: (job: Job<T>) => Promise<unknown>, concurrency = 1): Worker {
    const { connection, prefix, factory } = this.connection();
    const opts = { connection, prefix, concurrency, autorun: true };
    const proc = processor as Processor;
    const worker = factory
      ? new Worker(name, proc, opts as never, factory as never)
      : new Worker(name, proc, opts as never);
    worker.on('failed', (job, err) => this.logger.warn({ err, queue: name, jobId: job?.id }, 'job failed'));
    worker.on('error', (err) => this.logger.error({ err, queue: name }, 'worker error'));
    this.workers.push(worker);
    return worker;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.close()));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.workers.length = 0;
    this.queues.clear();
  }
}
