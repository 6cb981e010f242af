import { Client } from 'pg';
import type { Logger } from 'pino';
import { createDataSource } from './data-source';

const MIGRATION_LOCK = 'enclave:migrations';

/**
 * Applies pending migrations, one transaction each; returns the names applied. A session-level advisory
 * lock makes concurrent starts (server and workers) take turns instead of racing.
 */
export async function runMigrations(url: string, logger: Logger): Promise<string[]> {
  const lock = new Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [MIGRATION_LOCK]);
    const ds = createDataSource(url);
    await ds.initialize();
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      const names = applied.map((m) => m.name);
      if (names.length) logger.info({ migrations: names }, 'database migrations applied');
      return names;
    } finally {
      await ds.destroy();
    }
  } finally {
    await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.end();
  }
}
