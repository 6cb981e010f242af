import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DynamicModule, INestApplicationContext, Module, ModuleMetadata, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { CoreModule } from '../../apps/server/src/app.module';
import { SecretBox } from '../../apps/server/src/common/secret-box';
import { SecretsModule } from '../../apps/server/src/common/secrets.module';
import { AppConfig, loadConfig } from '../../apps/server/src/config/app-config';
import { dataSourceOptions } from '../../apps/server/src/database/data-source';
import { DatabaseModule } from '../../apps/server/src/database/database.module';
import { runMigrations } from '../../apps/server/src/database/migrate';
import { AuditModule } from '../../apps/server/src/modules/audit/audit.module';
import { AuthModule } from '../../apps/server/src/modules/auth/auth.module';
import { QueueModule } from '../../apps/server/src/modules/queue/queue.module';
import { createTestDatabase, TestDatabase } from './postgres';

/** A Nest application context over a fresh, migrated database: the middle tier between unit and e2e tests. */
export interface ServiceContext {
  app: INestApplicationContext;
  db: TestDatabase;
  config: AppConfig;
  dataSource: DataSource;
  get<T>(type: Type<T>): T;
  /** Rows of a query, for before/after comparisons. */
  rows<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

@Module({})
class ServiceTestModule {
  static forRoot(config: AppConfig, databaseUrl: string, imports: ModuleMetadata['imports']): DynamicModule {
    return {
      module: ServiceTestModule,
      imports: [
        CoreModule.forRoot({
          config,
          databaseUrl,
          secrets: new SecretBox(Buffer.from(config.pki.masterKey as string, 'hex')),
          logger: pino({ level: 'silent' }),
        }),
        SecretsModule.forRoot(new SecretBox(Buffer.from(config.pki.masterKey as string, 'hex'))),
        TypeOrmModule.forRoot(dataSourceOptions(databaseUrl)),
        DatabaseModule,
        AuditModule,
        AuthModule,
        QueueModule,
        ...(imports ?? []),
      ],
    };
  }
}

/**
 * Starts the given feature modules with the real TypeORM wiring on a database of their own (all migrations
 * applied), the real audit, auth, queue (PostgreSQL backend) and secrets modules. Call close() in after().
 */
export async function startServiceContext(
  imports: ModuleMetadata['imports'],
  env: Record<string, string> = {},
): Promise<ServiceContext> {
  const db = await createTestDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-svc-'));
  try {
    await runMigrations(db.url, pino({ level: 'silent' }));
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      ENCLAVE_DATA_DIR: dataDir,
      ENCLAVE_PUBLIC_URL: 'https://127.0.0.1:8443',
      ENCLAVE_MASTER_KEY: randomBytes(32).toString('hex'),
      ENCLAVE_KEY_POOL_SIZE: '0',
      ENCLAVE_QUEUE_PREFIX: `s${randomBytes(4).toString('hex')}`,
      ENCLAVE_DHT_PORT: '0',
      LOG_LEVEL: 'warn',
      ...env,
    });
    const app = await NestFactory.createApplicationContext(ServiceTestModule.forRoot(config, db.url, imports), {
      logger: false,
    });
    const dataSource = app.get(DataSource);
    return {
      app,
      db,
      config,
      dataSource,
      get: (type) => app.get(type),
      rows: (sql, params) => dataSource.query(sql, params),
      async close() {
        await app.close();
        await db.drop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
