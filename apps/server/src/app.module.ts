import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AppErrorFilter } from './common/error.filter';
import { SecretBox } from './common/secret-box';
import { SecretsModule } from './common/secrets.module';
import { APP_CONFIG, AppConfig } from './config/app-config';
import { dataSourceOptions } from './database/data-source';
import { DATABASE_URL } from './database/database.tokens';
import { AccountsModule } from './modules/accounts/accounts.module';
import { AuditModule } from './modules/audit/audit.module';
import { AuthModule } from './modules/auth/auth.module';
import { CaModule } from './modules/ca/ca.module';
import { DirectoryModule } from './modules/directory/directory.module';
import { GroupsModule } from './modules/groups/groups.module';
import { HealthModule } from './modules/health/health.module';
import { JamsModule } from './modules/jams/jams.module';
import { MetricsModule } from './modules/metrics/metrics.module';
import { NameserverModule } from './modules/nameserver/nameserver.module';
import { QueueModule } from './modules/queue/queue.module';
import { SetupModule } from './modules/setup/setup.module';
import { UsersModule } from './modules/users/users.module';

export interface AppModuleOptions {
  config: AppConfig;
  databaseUrl: string;
  secrets: SecretBox;
  logger: Logger;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

@Module({})
export class CoreModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    return {
      module: CoreModule,
      global: true,
      providers: [
        { provide: APP_CONFIG, useValue: opts.config },
        { provide: DATABASE_URL, useValue: opts.databaseUrl },
      ],
      exports: [APP_CONFIG, DATABASE_URL],
    };
  }
}

/** Modules shared by the HTTP server and the standalone worker. */
export function sharedImports(opts: AppModuleOptions) {
  return [
    CoreModule.forRoot(opts),
    SecretsModule.forRoot(opts.secrets),
    LoggerModule.forRoot({
      pinoHttp: {
        logger: opts.logger,
        genReqId: (req: IncomingMessage, res: ServerResponse) => {
          const given = req.headers['x-request-id'];
          const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
          res.setHeader('x-request-id', id);
          return id;
        },
        autoLogging: { ignore: (req: IncomingMessage) => req.url === '/healthz' },
        quietReqLogger: true,
      },
    }),
    TypeOrmModule.forRoot(dataSourceOptions(opts.databaseUrl)),
    AuditModule,
    QueueModule,
    AuthModule,
    CaModule,
    DirectoryModule,
  ];
}

@Module({})
export class AppModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...sharedImports(opts),
        HealthModule,
        SetupModule,
        UsersModule,
        AccountsModule,
        JamsModule,
        NameserverModule,
        GroupsModule,
        MetricsModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: AppErrorFilter }],
    };
  }
}
