import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AppErrorFilter } from './common/error.filter';
import { RequestContextMiddleware, requestIdFor } from './common/request-context';
import { SecretBox } from './common/secret-box';
import { SecretsModule } from './common/secrets.module';
import { APP_CONFIG, AppConfig } from './config/app-config';
import { dataSourceOptions } from './database/data-source';
import { DatabaseModule } from './database/database.module';
import { DATABASE_HEALTH, DATABASE_URL } from './database/database.tokens';
import type { DatabaseHealth } from './database/postgres-supervisor';
import { AccountsModule } from './modules/accounts/accounts.module';
import { AuditModule } from './modules/audit/audit.module';
import { AuthModule } from './modules/auth/auth.module';
import { redactRequestForLog } from './modules/auth/query-token';
import { CaModule } from './modules/ca/ca.module';
import { DhtModule } from './modules/dht/dht.module';
import { DirectoryModule } from './modules/directory/directory.module';
import { GroupsModule } from './modules/groups/groups.module';
import { HealthModule } from './modules/health/health.module';
import { JamsModule } from './modules/jams/jams.module';
import { MetricsModule } from './modules/metrics/metrics.module';
import { NameserverModule } from './modules/nameserver/nameserver.module';
import { PolicyModule } from './modules/policy/policy.module';
import { QueueModule } from './modules/queue/queue.module';
import { RoomsModule } from './modules/rooms/rooms.module';
import { SetupModule } from './modules/setup/setup.module';
import { UsersModule } from './modules/users/users.module';

export interface AppModuleOptions {
  config: AppConfig;
  databaseUrl: string;
  secrets: SecretBox;
  logger: Logger;
  /** Health of the supervised embedded PostgreSQL (absent with an external DATABASE_URL). */
  databaseHealth?: () => DatabaseHealth;
}

@Module({})
export class CoreModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    return {
      module: CoreModule,
      global: true,
      providers: [
        { provide: APP_CONFIG, useValue: opts.config },
        { provide: DATABASE_URL, useValue: opts.databaseUrl },
        { provide: DATABASE_HEALTH, useValue: opts.databaseHealth ?? null },
      ],
      exports: [APP_CONFIG, DATABASE_URL, DATABASE_HEALTH],
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
        genReqId: (req: IncomingMessage, res: ServerResponse) => requestIdFor(req, res),
        autoLogging: { ignore: (req: IncomingMessage) => req.url === '/healthz' },
        quietReqLogger: true,
        // A URL carrying a token (refused with TOKEN_IN_QUERY) is logged with the value redacted.
        serializers: { req: redactRequestForLog },
      },
    }),
    TypeOrmModule.forRoot(dataSourceOptions(opts.databaseUrl)),
    DatabaseModule,
    AuditModule,
    QueueModule,
    AuthModule,
    CaModule,
    DirectoryModule,
    // Account issuers and certificate holders for CRLs, OCSP and renewals in the worker process too.
    AccountsModule,
  ];
}

@Module({})
export class AppModule implements NestModule {
  /** Every HTTP request runs inside its RequestContext (request id and source address for the audit log). */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestContextMiddleware).forRoutes('*');
  }

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
        PolicyModule,
        RoomsModule,
        MetricsModule,
        DhtModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: AppErrorFilter }],
    };
  }
}
