import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DataSource } from 'typeorm';
import { startServiceContext, ServiceContext } from '../../../../../test/support/service-context';
import { AppError } from '../../common/app-error';
import { GroupsService } from '../groups/groups.service';
import { SECRET_MASK } from './policy-secrets';
import { PolicyModule } from './policy.module';
import { PolicyService } from './policy.service';

// PolicyService through its real module on a database of its own (all migrations): seeding, layering, people
// resolved at delivery, secrets.
let ctx: ServiceContext;
let ds: DataSource;
let policies: PolicyService;
let groups: GroupsService;
const SEED = { 'TURN.enable': true, 'Account.hostname': 'boot.example.org:4222' };

async function user(username: string, jamiId: string | null = null, status = 'active'): Promise<string> {
  const [{ id }] = await ds.query('INSERT INTO users (username, jami_id, status) VALUES ($1, $2, $3) RETURNING id', [
    username,
    jamiId,
    status,
  ]);
  return id;
}

before(async () => {
  ctx = await startServiceContext([PolicyModule], { ENCLAVE_DEFAULT_POLICY: JSON.stringify(SEED) });
  ds = ctx.dataSource;
  policies = ctx.get(PolicyService);
  groups = ctx.get(GroupsService);
});
after(async () => {
  await ctx?.close();
});

test('the start seeds the organization default from ENCLAVE_DEFAULT_POLICY once', async () => {
  const def = await policies.getDefault();
  assert.deepEqual([def.name, def.version, def.settings], ['Organization default', 1, SEED]);
  assert.equal(await policies.seedDefault(), false, 'a later start seeds nothing');
  const versions = await ds.query('SELECT version, actor FROM policy_versions WHERE policy_id = $1', [def.id]);
  assert.deepEqual(versions, [{ version: 1, actor: 'system' }]);
  const audit = await ds.query("SELECT actor, after FROM audit_events WHERE action = 'policy.default_seeded'");
  assert.equal(audit.length, 1);
  assert.equal(audit[0].after.name, 'Organization default');
});

test('a seed naming people who do not exist stops the start with a message naming the setting', async () => {
  await assert.rejects(
    startServiceContext([PolicyModule], {
      ENCLAVE_DEFAULT_POLICY: JSON.stringify({ 'Account.defaultModerators': { users: ['ghost'] } }),
    }),
    /ENCLAVE_DEFAULT_POLICY: Account.defaultModerators: no user "ghost"/,
  );
});

test('forUser layers default < groups by priority then name < override, and resolves people now', async () => {
  const ann = await user('ann', 'a'.repeat(40));
  const ben = await user('ben');
  await user('cid', 'c'.repeat(40), 'suspended');
  const team = await groups.create({ name: 'team' }, 'test');
  const other = await groups.create({ name: 'other' }, 'test');
  await groups.updateMembers(team.id, { add: ['ann', 'ben', 'cid'] }, 'test');
  await groups.updateMembers(other.id, { add: ['ben'] }, 'test');
  const mods = await policies.create(
    { name: 'Mods', settings: { 'Account.defaultModerators': { users: [], groups: ['team'] }, 'TURN.enable': false } },
    'test',
  );
  const later = await policies.create({ name: 'Later', settings: { 'TURN.enable': true } }, 'test');
  await groups.update(team.id, { policyId: mods.id, priority: 1 }, 'test');
  await groups.update(other.id, { policyId: later.id, priority: 1 }, 'test');

  // ben: default, then "other" (name before "team") then "team": team's TURN.enable wins.
  let keys = await policies.forUser(ben);
  assert.equal(keys['TURN.enable'], false);
  assert.equal(keys['Account.hostname'], 'boot.example.org:4222');
  assert.equal(
    keys['Account.defaultModerators'],
    'a'.repeat(40),
    'the suspended member and ben (no Jami ID) are left out',
  );

  await ds.query('UPDATE users SET jami_id = $1 WHERE id = $2', ['b'.repeat(40), ben]);
  keys = await policies.forUser(ann);
  assert.equal(keys['Account.defaultModerators'], `${'a'.repeat(40)}/${'b'.repeat(40)}`, 'a new enrollment counts');

  await groups.update(other.id, { priority: 2 }, 'test');
  assert.equal((await policies.forUser(ben))['TURN.enable'], true, 'a higher priority overrides');

  await policies.setUserPolicy('ben', { 'TURN.enable': false }, 'test');
  const eff = await policies.effective(ben);
  assert.equal(eff.keys['TURN.enable'], false);
  assert.deepEqual(eff.sources['TURN.enable'], { via: 'user', policyId: null, policyName: null });
  assert.equal(eff.sources['Account.defaultModerators'].groupName, 'team');
});

test('validate refuses bad settings with every key named, and normalises people', async () => {
  await assert.rejects(
    policies.validate({
      'TURN.server': 'a b',
      'Account.activeCallLimit': -1,
      'Account.defaultModerators': { users: ['ANN'] },
    }),
    (err: unknown) =>
      err instanceof AppError &&
      JSON.stringify(err.details?.keys) === JSON.stringify(['TURN.server', 'Account.activeCallLimit']),
  );
  assert.deepEqual(await policies.validate({ 'Account.defaultModerators': { users: [' ANN '], groups: [] } }), {
    'Account.defaultModerators': { users: ['ann'], groups: [] },
  });
});

test('TURN.password is sealed at rest, masked for admins and the audit log, sent in clear to devices', async () => {
  const p = await policies.create({ name: 'Relay', settings: { 'TURN.password': 'relay-secret-1' } }, 'test');
  assert.equal(p.settings['TURN.password'], SECRET_MASK);
  const [row] = await ds.query('SELECT settings FROM policies WHERE id = $1', [p.id]);
  assert.ok(!JSON.stringify(row.settings).includes('relay-secret-1'), 'sealed at rest');
  const audit = await ds.query("SELECT details FROM audit_events WHERE target = 'Relay'");
  assert.ok(!JSON.stringify(audit).includes('relay-secret-1'), 'never in the audit log');
  assert.deepEqual((await policies.preview(p.id)).keys, { 'TURN.password': SECRET_MASK });

  const dan = await user('dan');
  const g = await groups.create({ name: 'relay-users' }, 'test');
  await groups.updateMembers(g.id, { add: ['dan'] }, 'test');
  await groups.update(g.id, { policyId: p.id }, 'test');
  assert.equal((await policies.forUser(dan))['TURN.password'], 'relay-secret-1');

  // Saving the mask back keeps the saved password; the version diff does not list it as changed.
  await policies.update(p.id, { settings: { 'TURN.password': SECRET_MASK, 'TURN.enable': true } }, 'test');
  assert.equal((await policies.forUser(dan))['TURN.password'], 'relay-secret-1');
  const [v2] = await policies.listVersions(p.id);
  assert.deepEqual(v2.diff, { added: ['TURN.enable'], removed: [], changed: [] });
  await assert.rejects(
    policies.create({ name: 'No secret', settings: { 'TURN.password': SECRET_MASK } }, 'test'),
    /TURN.password: "\*{8}" stands for the saved value/,
  );
});
