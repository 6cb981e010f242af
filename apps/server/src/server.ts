import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SwaggerModule } from '@nestjs/swagger';
import express from 'express';
import { Logger as PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { useBodyParsers } from './common/body-parsing';
import { RequestInputGuard } from './common/request-input.guard';
import { createValidationPipe } from './common/validation';
import { APP_CONFIG, AppConfig } from './config/app-config';
import { ConsoleOptions, mountConsole } from './console';
import { proxyClientCertMiddleware, trustedProxyList } from './common/proxy-client-cert';
import { prepareInfrastructure } from './infrastructure';
import { TlsService } from './modules/ca/tls.service';
import { MetricsService } from './modules/metrics/metrics.service';
import { SetupService } from './modules/setup/setup.service';
import { buildOpenApiDocument } from './openapi';
import { registerProcessors, scheduleRecurringJobs } from './worker';

export interface RunningServer {
  app: INestApplication;
  server: https.Server;
  port: number;
  /** https://127.0.0.1:<port> (the bound address, for local clients). */
  localUrl: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

export function configureHttp(app: INestApplication): void {
  app.use(app.get(MetricsService).httpMiddleware());
  // managerUri with a trailing slash makes clients request //api/...: fold leading slashes.
  app.use((req: express.Request, _res: express.Response, next: express.NextFunction) => {
    if (req.url.startsWith('//')) req.url = req.url.replace(/^\/+/, '/');
    next();
  });
  const config = app.get<AppConfig>(APP_CONFIG);
  app.use(
    proxyClientCertMiddleware({
      header: config.http.clientCertHeader,
      proxies: trustedProxyList(config.http.trustedProxies),
    }),
  );
  useBodyParsers(app);
  app.useGlobalGuards(new RequestInputGuard());
  app.useGlobalPipes(createValidationPipe());
  const expressApp = app.getHttpAdapter().getInstance() as express.Express;
  expressApp.disable('x-powered-by');
  SwaggerModule.setup('api/docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'api/docs/openapi.json' });
}

/** Starts the whole server: database, migrations, Nest, first-start setup, HTTPS, in-process workers. */
export async function startServer(
  config: AppConfig,
  logger: Logger,
  opts: { console?: ConsoleOptions | false } = {},
): Promise<RunningServer> {
  const infra = await prepareInfrastructure(config, logger);
  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(
      AppModule.forRoot({
        config,
        databaseUrl: infra.databaseUrl,
        secrets: infra.secrets,
        logger,
        databaseHealth: infra.embedded?.status,
      }),
      { bufferLogs: true, bodyParser: false },
    );
    app.useLogger(app.get(PinoLogger));
    // bufferLogs holds Nest's Logger output until flushed; app.listen() would flush it, but the HTTPS server
    // is created by hand, so without this every `new Logger(...)` line would be lost.
    app.flushLogs();
    // The admin console (when built) takes every non-API path; mounted before the body parsers.
    const adminConsole = opts.console === false ? undefined : await mountConsole(app, logger, opts.console);
    configureHttp(app);
    await app.init();

    const setup = app.get(SetupService);
    if (await setup.bootstrapFromEnvironment()) {
      logger.info('unattended first start: admin, organization and CA created from the environment');
    } else {
      const code = await setup.announcePendingSetup();
      if (code) {
        logger.warn(
          { setupCodeFile: setup.setupCodeFile },
          `Setup is pending: open the Enclave console's setup page for ${config.http.publicUrl} (or POST /api/setup) ` +
            `and enter the one-time setup code ${code} (also in ${setup.setupCodeFile})`,
        );
      }
    }
    const tls = app.get(TlsService);
    const server = https.createServer(await tls.serverOptions(), app.getHttpAdapter().getInstance());
    tls.attach(server);
    if (config.queue.runWorkers) registerProcessors(app);
    await scheduleRecurringJobs(app);
    await adminConsole?.listen();
    // Listen last: once /healthz answers, the start is complete.
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.http.port, config.http.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    logger.info({ port, publicUrl: config.http.publicUrl }, 'Enclave server listening (HTTPS)');

    const running = app;
    let stopping: Promise<void> | undefined;
    return {
      app: running,
      server,
      port,
      localUrl: `https://127.0.0.1:${port}`,
      databaseUrl: infra.databaseUrl,
      stop: () =>
        (stopping ??= (async () => {
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
          await adminConsole?.close();
          await running.close();
          await infra.embedded?.stop();
        })()),
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await infra.embedded?.stop();
    throw err;
  }
}
