import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type express from 'express';
import type { Logger } from 'pino';

/**
 * The admin console (apps/console, Next.js) served by the server process under the server's own URL:
 * every path outside the API (`/api`, `/healthz`, `/readyz`, `/metrics`) goes to Next's request handler.
 *
 * The console's route handlers call the admin API server-side through a loopback-only plain HTTP listener
 * on the same Express app (the browser never sees it). That listener marks its sockets; a request on such a
 * socket carrying the per-process secret may name the browser's address (`x-enclave-console-client`) so
 * rate limits and audit actors see the admin's address, not 127.0.0.1.
 */
export const CONSOLE_DIR = path.resolve(__dirname, '../../console');
export const CONSOLE_CLIENT_HEADER = 'x-enclave-console-client';
export const CONSOLE_SECRET_HEADER = 'x-enclave-console-secret';
const INTERNAL_SOCKET = Symbol('enclave.console-internal');

export interface ConsoleOptions {
  /** Console session idle timeout, seconds (default 900). */
  idleTimeoutSeconds?: number;
}

/** What the console's server code reads from `globalThis.__enclaveConsole`. */
export interface ConsoleRuntime {
  apiUrl: string;
  secret: string;
  idleTimeoutSeconds: number;
}

export interface MountedConsole {
  /** Starts the loopback API listener; call once the Express app has its routes. */
  listen(): Promise<void>;
  close(): Promise<void>;
}

const secret = randomBytes(32).toString('base64url');

export function consoleBuilt(dir = CONSOLE_DIR): boolean {
  return fs.existsSync(path.join(dir, '.next', 'BUILD_ID'));
}

/** The browser's address when the request came from the console's server code, else undefined. */
export function consoleForwardedAddress(req: express.Request): string | undefined {
  const socket = req.socket as Socket & { [INTERNAL_SOCKET]?: boolean };
  if (!socket[INTERNAL_SOCKET] || req.headers[CONSOLE_SECRET_HEADER] !== secret) return undefined;
  const forwarded = req.headers[CONSOLE_CLIENT_HEADER];
  return typeof forwarded === 'string' && forwarded.length > 0 && forwarded.length < 64 ? forwarded : undefined;
}

function isApiPath(url: string): boolean {
  const p = url.replace(/^\/+/, '/');
  return /^\/(api|healthz|readyz|metrics)(\/|\?|$)/.test(p);
}

/**
 * Loads the built console and routes non-API paths to it. Must run before any body parser is installed
 * (Next reads request bodies itself). Returns undefined (with a warning) when the console is not built.
 */
export async function mountConsole(
  app: INestApplication,
  logger: Logger,
  opts: ConsoleOptions = {},
): Promise<MountedConsole | undefined> {
  if (!consoleBuilt()) {
    logger.warn({ dir: CONSOLE_DIR }, 'admin console is not built (npm run build); serving the API only');
    return undefined;
  }
  // Loaded by name: importing Next's types would bring its global declarations into the server's program.
  const nextPackage = 'next';
  const { default: next } = (await import(nextPackage)) as {
    default: (o: { dev: boolean; dir: string; quiet?: boolean }) => {
      prepare(): Promise<void>;
      close?(): Promise<void>;
      getRequestHandler(): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;
    };
  };
  const nextApp = next({ dev: false, dir: CONSOLE_DIR, quiet: true });
  await nextApp.prepare();
  const handle = nextApp.getRequestHandler();
  app.use((req: express.Request, res: express.Response, nextMiddleware: express.NextFunction) => {
    if (isApiPath(req.url)) return nextMiddleware();
    // The console forwards this to the API as the admin's address; never taken from the browser.
    req.headers[CONSOLE_CLIENT_HEADER] = req.socket.remoteAddress ?? 'unknown';
    handle(req, res).catch(nextMiddleware);
  });

  const expressApp = app.getHttpAdapter().getInstance() as express.Express;
  const internal = http.createServer(expressApp);
  internal.on('connection', (socket: Socket & { [INTERNAL_SOCKET]?: boolean }) => {
    socket[INTERNAL_SOCKET] = true;
  });
  const runtime: ConsoleRuntime = {
    apiUrl: '',
    secret,
    idleTimeoutSeconds: opts.idleTimeoutSeconds ?? 900,
  };
  (globalThis as { __enclaveConsole?: ConsoleRuntime }).__enclaveConsole = runtime;
  return {
    listen: () =>
      new Promise<void>((resolve, reject) => {
        internal.once('error', reject);
        internal.listen(0, '127.0.0.1', () => {
          runtime.apiUrl = `http://127.0.0.1:${(internal.address() as AddressInfo).port}`;
          logger.info('admin console served at /');
          resolve();
        });
      }),
    close: async () => {
      await new Promise<void>((resolve) => {
        internal.close(() => resolve());
        internal.closeAllConnections();
      });
      await nextApp.close?.().catch(() => undefined);
    },
  };
}
