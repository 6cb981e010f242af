import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Client } from 'pg';
import { EmbeddedDatabase, startEmbeddedPostgres } from '../../apps/server/src/database/embedded-postgres';

/**
 * Each test file gets its own database: on the server named by TEST_DATABASE_URL, else the machine's
 * PostgreSQL at 127.0.0.1:5432 (trust auth), else an embedded PostgreSQL started for this process.
 */
let adminUrl: Promise<{ url: string; embedded?: EmbeddedDatabase; dir?: string }> | undefined;

async function reachable(url: string): Promise<boolean> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

function serverUrl() {
  adminUrl ??= (async () => {
    const candidates = [process.env.TEST_DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/postgres'].filter(
      (u): u is string => !!u,
    );
    for (const url of candidates) if (await reachable(url)) return { url };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-test-pg-'));
    fs.chmodSync(dir, 0o755);
    const embedded = await startEmbeddedPostgres(dir, pino({ level: 'warn' }));
    return { url: embedded.url.replace(/\/enclave$/, '/postgres'), embedded, dir };
  })();
  return adminUrl;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const { url } = await serverUrl();
  const name = `enclave_t_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    async drop() {
      const c = new Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Stops the embedded server this process may have started (call from a top-level after()). */
export async function stopTestPostgres(): Promise<void> {
  if (!adminUrl) return;
  const { embedded, dir } = await adminUrl;
  await embedded?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
