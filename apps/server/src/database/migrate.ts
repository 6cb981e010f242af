import type { Logger } from 'pino';
import { withSessionLock } from './advisory-lock';
import { createDataSource } from './data-source';

const MIGRATION_LOCK = 'enclave:migrations';

/**
 * Applies pending migrations, one transaction each; returns the names applied. A session-level advisory
 * lock makes concurrent starts (server and workers) take turns instead of racing.
 */
export async function runMigrations(url: string, logger: Logger): Promise<string[]> {
  const result = await withSessionLock(
    url,
    MIGRATION_LOCK,
    async () => {
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
    },
    { wait: true },
  );
  return result.acquired ? result.value : [];
}
