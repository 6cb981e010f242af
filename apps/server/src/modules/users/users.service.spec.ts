import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServiceContext, ServiceContext } from '../../../../../test/support/service-context';
import { stopTestPostgres } from '../../../../../test/support/postgres';
import { AppError } from '../../common/app-error';
import { TransactionRunner } from '../../database/transaction-runner';
import { UsersModule } from './users.module';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';
import { USER_SEARCH_EXPRESSION } from './user.entity';

let ctx: ServiceContext;
let users: UsersService;
const actor = 'admin:test';

const rejects = (p: Promise<unknown>, code: string) =>
  assert.rejects(p, (e: unknown) => e instanceof AppError && e.code === code);

before(async () => {
  ctx = await startServiceContext([UsersModule]);
  users = ctx.get(UsersService);
});
after(async () => {
  await ctx?.close();
  await stopTestPostgres();
});

describe('UsersService on a real database', () => {
  test('create stores a local user with an argon2id hash and an audit entry; a taken name is USER_EXISTS', async () => {
    const u = await users.create({ username: 'Alice', password: 'alice-password', email: 'A@Example.org' }, actor);
    assert.equal(u.username, 'alice');
    assert.equal(u.email, 'a@example.org');
    const [row] = await ctx.rows<{ password_hash: string }>("SELECT password_hash FROM users WHERE username = 'alice'");
    assert.match(row.password_hash, /^\$argon2id\$/);
    const [audit] = await ctx.rows("SELECT actor, action, target FROM audit_events WHERE action = 'user.created'");
    assert.deepEqual(audit, { actor, action: 'user.created', target: 'alice' });
    await rejects(users.create({ username: 'ALICE', password: 'another-password' }, actor), 'USER_EXISTS');
  });

  test('keyset pages visit every user once in username order; search, status and source filter', async () => {
    await ctx.rows(
      `INSERT INTO users (username, first_name, last_name, email, source, status)
       SELECT 'user' || lpad(i::text, 3, '0'), 'First' || i, CASE WHEN i % 5 = 0 THEN 'Needle' ELSE 'Hay' END,
              'u' || i || '@example.org', CASE WHEN i % 7 = 0 THEN 'ldap' ELSE 'local' END,
              CASE WHEN i % 11 = 0 THEN 'suspended' ELSE 'active' END
       FROM generate_series(1, 60) i`,
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await users.list({ limit: 7, cursor });
      assert.ok(page.items.length <= 7);
      seen.push(...page.items.map((u) => u.username));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    assert.equal(seen.length, 61);
    assert.deepEqual(seen, [...seen].sort());
    const needles = await users.list({ search: 'NEEDLE', limit: 200 });
    assert.equal(needles.items.length, 12);
    const ldapSuspended = await users.list({ source: 'ldap', status: 'suspended', limit: 200 });
    assert.deepEqual(
      ldapSuspended.items.map((u) => u.username),
      [],
    );
    const ldap = await users.list({ source: 'ldap', limit: 200 });
    assert.equal(ldap.items.length, 8);
    await rejects(users.list({ cursor: Buffer.from('Not a name!').toString('base64url') }), 'VALIDATION_FAILED');
  });

  test('the search expression is served by the pg_trgm index', async () => {
    const plan = await ctx.dataSource.transaction(async (m) => {
      await m.query('SET LOCAL enable_seqscan = off');
      const rows: { 'QUERY PLAN': string }[] = await m.query(
        `EXPLAIN SELECT id FROM users WHERE ${USER_SEARCH_EXPRESSION} LIKE '%needle%'`,
      );
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    assert.match(plan, /ix_users_search_trgm/);
  });

  test('profile edits apply to local users; directory users’ fields belong to the directory', async () => {
    const updated = await users.update('alice', { firstName: 'Alicia', phone: '+1 555 0100' }, actor);
    assert.equal(updated.firstName, 'Alicia');
    assert.equal(updated.phone, '+1 555 0100');
    await rejects(users.update('user007', { firstName: 'X' }, actor), 'USER_FIELD_MANAGED_BY_DIRECTORY');
    await rejects(users.update('alice', {}, actor), 'VALIDATION_FAILED');
    await rejects(users.update('nobody', { firstName: 'X' }, actor), 'USER_NOT_FOUND');
  });

  test('suspend and resume follow the status rules; directory suspensions are resumed by the directory', async () => {
    const s = await users.suspend('alice', { reason: 'Investigation' }, actor);
    assert.equal(s.status, 'suspended');
    assert.equal(s.suspensionNote, 'Investigation');
    await rejects(users.suspend('alice', { reason: 'again' }, actor), 'USER_STATUS_CONFLICT');
    assert.equal((await users.resume('alice', actor)).status, 'active');
    await rejects(users.resume('alice', actor), 'USER_STATUS_CONFLICT');
    await ctx.rows("UPDATE users SET status = 'suspended', suspended_reason = 'directory' WHERE username = 'user014'");
    await rejects(users.resume('user014', actor), 'USER_STATUS_CONFLICT');
    await rejects(users.setPassword('user014', 'long-enough-1', actor), 'USER_NOT_LOCAL');
  });

  test('a tombstone reserves the name against creation and directory sync until released', async () => {
    const repo = ctx.get(UsersRepository);
    const ldapUser = await repo.byUsername('user021');
    assert.equal(ldapUser?.source, 'ldap');
    await ctx.rows("UPDATE users SET external_id = 'ext-21' WHERE username = 'user021'");
    await ctx.get(TransactionRunner).run(async (m) => {
      await users.tombstone((await repo.byUsername('user021', m))!, m);
    });
    await rejects(users.create({ username: 'user021', password: 'long-enough-1' }, actor), 'USERNAME_RESERVED');
    await rejects(users.update('user021', { firstName: 'X' }, actor), 'USER_NOT_FOUND');
    // The directory sync neither renames nor revives the tombstone.
    const owners = await repo.nameOwners(['user021']);
    assert.deepEqual(owners.get('user021'), { externalId: 'ext-21', deleted: true });
    const counts = await repo.upsertDirectoryUsers('ldap', [
      {
        externalId: 'ext-21',
        username: 'user021',
        dn: 'uid=user021',
        firstName: 'Back',
        lastName: null,
        email: null,
        phone: null,
        photo: null,
        version: '20990101000000Z',
        disabled: false,
      },
    ]);
    assert.deepEqual(counts, { inserted: 0, updated: 0 });
    const [row] = await ctx.rows("SELECT status, first_name FROM users WHERE external_id = 'ext-21'");
    assert.deepEqual(row, { status: 'deleted', first_name: null });
    assert.deepEqual(
      (await users.tombstones()).map((t) => t.username),
      ['user021'],
    );

    await users.releaseTombstone('USER021', actor);
    assert.deepEqual(await users.tombstones(), []);
    await rejects(users.releaseTombstone('user021', actor), 'TOMBSTONE_NOT_FOUND');
    const again = await users.create({ username: 'user021', password: 'long-enough-1' }, actor);
    assert.equal(again.status, 'active');
    const [released] = await ctx.rows<{ username: string; external_id: string | null }>(
      "SELECT username, external_id FROM users WHERE status = 'deleted'",
    );
    assert.match(released.username, /^~[0-9a-f]{31}$/);
    assert.equal(released.external_id, null);
  });
});
