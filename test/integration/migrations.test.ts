import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createDataSource } from '../../apps/server/src/database/data-source';
import { createTestDatabase, stopTestPostgres } from '../support/postgres';

after(() => stopTestPostgres());

test('all migrations apply to an empty database and leave no drift between entities and schema', async () => {
  const db = await createTestDatabase();
  const ds = createDataSource(db.url);
  await ds.initialize();
  try {
    const applied = await ds.runMigrations({ transaction: 'each' });
    assert.ok(applied.length >= 1);
    assert.equal(await ds.showMigrations(), false);
    const pending = await ds.driver.createSchemaBuilder().log();
    assert.deepEqual(
      pending.upQueries.map((q) => q.query),
      [],
      'entities changed without a migration: run npm run migration:generate',
    );
    // Migrations are reversible down to an empty schema.
    for (let i = 0; i < applied.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    const tables = await ds.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'",
    );
    assert.deepEqual(tables, []);
  } finally {
    await ds.destroy();
    await db.drop();
  }
});
