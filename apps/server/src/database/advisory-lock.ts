import { Client } from 'pg';
import type { EntityManager } from 'typeorm';

/**
 * PostgreSQL advisory locks keyed by a text name (hashed with hashtext). Transaction-level locks are
 * released at commit or rollback; session-level locks hold a dedicated connection for their lifetime.
 */

/** Waits for the lock; it is held until the caller's transaction ends. */
export async function lockForTransaction(manager: EntityManager, name: string): Promise<void> {
  await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [name]);
}

/** Takes the lock if free (held until the caller's transaction ends); false when another holds it. */
export async function tryLockForTransaction(manager: EntityManager, name: string): Promise<boolean> {
  const rows: { ok: boolean }[] = await manager.query('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok', [name]);
  return rows[0]?.ok === true;
}

export type SessionLockResult<T> = { acquired: true; value: T } | { acquired: false };

/**
 * Runs `work` while holding a session-level lock on a connection of its own (for long jobs that span many
 * transactions). With `wait: false` the lock is only tried: `{acquired: false}` when someone else has it.
 */
export async function withSessionLock<T>(
  url: string,
  name: string,
  work: () => Promise<T>,
  opts: { wait: boolean },
): Promise<SessionLockResult<T>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    if (opts.wait) {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
    } else {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [name]);
      if (!rows[0]?.ok) return { acquired: false };
    }
    try {
      return { acquired: true, value: await work() };
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [name]).catch(() => undefined);
    }
  } finally {
    await client.end();
  }
}
