import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../apps/server/src/common/logger';
import { loadConfig } from '../../apps/server/src/config/app-config';
import type { ConsoleOptions } from '../../apps/server/src/console';
import { RunningServer, startServer } from '../../apps/server/src/server';
import { createTestDatabase, TestDatabase } from './postgres';

export interface TestServer extends RunningServer {
  db: TestDatabase;
  dataDir: string;
  /** The org CA PEM once set up (fetch again after setup). */
  request(method: string, path: string, opts?: RequestOptions): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: Buffer;
  contentType?: string;
  token?: string;
  headers?: Record<string, string>;
  cert?: string;
  key?: string;
}

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json<T = Record<string, unknown>>(): T;
  text(): string;
}

/**
 * Starts the real server in this process on a fresh database and a free port, with the given extra
 * environment (the admin console only when `opts.console` is given). Requests use HTTPS without certificate verification unless a CA is passed.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  logStream?: NodeJS.WritableStream,
  opts: { console?: ConsoleOptions } = {},
): Promise<TestServer> {
  const db = await createTestDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-test-data-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    ENCLAVE_DATA_DIR: dataDir,
    ENCLAVE_PORT: '0',
    ENCLAVE_HOST: '127.0.0.1',
    ENCLAVE_PUBLIC_URL: 'https://127.0.0.1:8443',
    ENCLAVE_MASTER_KEY: randomBytes(32).toString('hex'),
    ENCLAVE_KEY_POOL_SIZE: '0',
    ENCLAVE_QUEUE_PREFIX: `t${randomBytes(4).toString('hex')}`,
    // No DHT node unless a test asks for one (test/support/dhtnode.ts freeUdpPort()): tests run in parallel.
    ENCLAVE_DHT_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ...env,
  });
  let running: RunningServer;
  try {
    const logger = createLogger(config.log.level, 'json', logStream ?? process.stdout);
    running = await startServer(config, logger, { console: opts.console ?? false });
  } catch (err) {
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const request = (method: string, p: string, opts: RequestOptions = {}) =>
    httpsRequest(`${running.localUrl}${p}`, method, opts);
  return {
    ...running,
    db,
    dataDir,
    request,
    async close() {
      await running.stop();
      await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function httpsRequest(
  url: string,
  method: string,
  opts: RequestOptions & { ca?: string } = {},
): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    let payload: Buffer | undefined;
    if (opts.rawBody) {
      payload = opts.rawBody;
      headers['content-type'] = opts.contentType ?? 'application/octet-stream';
    } else if (opts.body !== undefined) {
      payload = Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (payload) headers['content-length'] = String(payload.length);
    const req = https.request(
      url,
      {
        method,
        headers,
        ca: opts.ca,
        rejectUnauthorized: !!opts.ca,
        cert: opts.cert,
        key: opts.key,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: () => body.toString('utf8'),
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The one-time setup code the server wrote to <dataDir>/setup-code at start. */
export function setupCode(server: { dataDir: string }): string {
  return fs.readFileSync(path.join(server.dataDir, 'setup-code'), 'utf8').trim();
}

/** Runs first setup through the API (with the server's setup code) and returns the owner's token. */
export async function setUp(
  server: TestServer,
  body: Record<string, unknown> = {
    organization: 'Example Corp',
    admin: { username: 'admin', password: 'admin-password-1' },
    ca: { mode: 'generate', algorithm: 'P-256' },
  },
): Promise<string> {
  const res = await server.request('POST', '/api/setup', { body: { setupCode: setupCode(server), ...body } });
  if (res.status !== 201) throw new Error(`setup failed: ${res.status} ${res.text()}`);
  return res.json<{ access_token: string }>().access_token;
}
