import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DataSource } from 'typeorm';
import { PolicyService } from '../../apps/server/src/modules/policy/policy.service';
import { deviceToken, enrollOk } from '../support/jami-client';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestResponse, TestServer } from '../support/server';

const DEFAULT_SETTINGS = { 'TURN.enable': true, 'TURN.server': 'turn.example.org:3478', 'Account.upnpEnabled': false };

let server: TestServer;
let admin: string;

interface Group {
  id: string;
  name: string;
  source: string;
  memberCount: number;
  policyId: string | null;
  policyName: string | null;
  priority: number;
  members?: { username: string; jamiId: string | null }[];
}
interface Policy {
  id: string;
  name: string;
  version: number;
  isDefault: boolean;
  settings: Record<string, unknown>;
  groups: { id: string; name: string; priority: number }[];
}
interface ErrorBody {
  code: string;
  message: string;
  details?: { keys?: string[]; field?: string; unknownUsers?: string[] };
}

const api = (method: string, path: string, body?: unknown) => server.request(method, path, { token: admin, body });

async function ok<T>(res: Promise<TestResponse>, status = 200): Promise<T> {
  const r = await res;
  assert.equal(r.status, status, r.text());
  return (r.body.length ? r.json<T>() : undefined) as T;
}

async function createUser(username: string) {
  await ok(api('POST', '/api/admin/users', { username, password: `${username}-password` }), 201);
}

async function createGroup(name: string): Promise<Group> {
  return ok<Group>(api('POST', '/api/admin/groups', { name }), 201);
}

async function createPolicy(name: string, settings: Record<string, unknown>): Promise<Policy> {
  return ok<Policy>(api('POST', '/api/admin/policies', { name, settings }), 201);
}

/** Row counts of every table this feature writes, to prove that a refusal wrote nothing. */
async function rows() {
  const ds = server.app.get(DataSource);
  const out: Record<string, number> = {};
  for (const t of [
    'groups',
    'group_members',
    'policies',
    'policy_versions',
    'user_policies',
    'policy_logos',
    'audit_events',
  ]) {
    out[t] = (await ds.query(`SELECT count(*)::int AS n FROM ${t}`))[0].n;
  }
  return out;
}

async function refused(res: Promise<TestResponse>, status: number, code: string): Promise<ErrorBody> {
  const before = await rows();
  const r = await res;
  assert.equal(r.status, status, r.text());
  const body = r.json<ErrorBody>();
  assert.equal(body.code, code, r.text());
  assert.deepEqual(await rows(), before, 'a refused request writes nothing');
  return body;
}

function multipart(field: string, filename: string, data: Buffer): { rawBody: Buffer; contentType: string } {
  const boundary = `----enclave${randomBytes(8).toString('hex')}`;
  const rawBody = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { rawBody, contentType: `multipart/form-data; boundary=${boundary}` };
}

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from(
    '0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5b0e6b30000000049454e44ae426082',
    'hex',
  ),
]);

before(async () => {
  server = await startTestServer({
    ENCLAVE_DEFAULT_POLICY: JSON.stringify(DEFAULT_SETTINGS),
    ENCLAVE_LOGIN_MAX_FAILURES: '50',
  });
  admin = await setUp(server);
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) await createUser(u);
});
after(async () => {
  await server?.close();
  await stopTestPostgres();
});

describe('local groups', () => {
  test('create, list, get with members, add and remove members, delete', async () => {
    const g = await createGroup('design');
    assert.equal(g.source, 'local');
    assert.equal(g.memberCount, 0);
    assert.equal(g.policyId, null);
    await refused(api('POST', '/api/admin/groups', { name: 'design' }), 409, 'GROUP_EXISTS');
    await refused(api('POST', '/api/admin/groups', { name: 'a\u0000b' }), 400, 'VALIDATION_FAILED');
    await refused(api('POST', '/api/admin/groups', {}), 400, 'VALIDATION_FAILED');

    const added = await ok<Group>(api('PUT', `/api/admin/groups/${g.id}/members`, { add: ['alice', 'BOB'] }));
    assert.deepEqual(
      added.members?.map((m) => m.username),
      ['alice', 'bob'],
    );
    const unknown = await refused(
      api('PUT', `/api/admin/groups/${g.id}/members`, { add: ['carol', 'nobody', 'x\u0007y'] }),
      400,
      'VALIDATION_FAILED',
    );
    assert.match(unknown.message, /add: no user "nobody"/);
    assert.deepEqual(unknown.details?.unknownUsers, ['nobody', 'x\u0007y']);
    // A NUL is refused before the route, naming the field.
    const nul = await refused(
      api('PUT', `/api/admin/groups/${g.id}/members`, { add: ['x\u0000y'] }),
      400,
      'VALIDATION_FAILED',
    );
    assert.match(nul.message, /add\[0\]/);
    await refused(api('PUT', `/api/admin/groups/${g.id}/members`, { add: 'alice' }), 400, 'VALIDATION_FAILED');

    const removed = await ok<Group>(api('PUT', `/api/admin/groups/${g.id}/members`, { remove: ['alice'] }));
    assert.deepEqual(
      removed.members?.map((m) => m.username),
      ['bob'],
    );
    const list = await ok<Group[]>(api('GET', '/api/admin/groups'));
    assert.deepEqual(
      list.filter((x) => x.id === g.id).map((x) => [x.name, x.memberCount, x.source, x.priority]),
      [['design', 1, 'local', 0]],
    );
    const one = await ok<Group>(api('GET', `/api/admin/groups/${g.id}`));
    assert.deepEqual(
      one.members?.map((m) => m.username),
      ['bob'],
    );

    await refused(api('GET', '/api/admin/groups/not-a-uuid'), 400, 'VALIDATION_FAILED');
    await refused(
      api('GET', `/api/admin/groups/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`),
      404,
      'GROUP_NOT_FOUND',
    );
    await ok(api('DELETE', `/api/admin/groups/${g.id}`), 204);
    assert.equal((await api('GET', `/api/admin/groups/${g.id}`)).status, 404);
    const audit = await server.app
      .get(DataSource)
      .query("SELECT action FROM audit_events WHERE action LIKE 'group.%' ORDER BY id");
    assert.deepEqual(
      audit.map((a: { action: string }) => a.action),
      ['group.created', 'group.members_changed', 'group.members_changed', 'group.deleted'],
    );
  });

  test('a directory group keeps its membership read-only and cannot be deleted here', async () => {
    const ds = server.app.get(DataSource);
    const [{ id }] = await ds.query(
      "INSERT INTO groups (name, source, external_id) VALUES ('ldap-sales', 'ldap', 'ext-1') RETURNING id",
    );
    await refused(api('PUT', `/api/admin/groups/${id}/members`, { add: ['alice'] }), 409, 'GROUP_READ_ONLY');
    await refused(api('DELETE', `/api/admin/groups/${id}`), 409, 'GROUP_READ_ONLY');
  });
});

describe('policies', () => {
  test('the organization default is seeded from ENCLAVE_DEFAULT_POLICY once, and replaceable', async () => {
    const def = await ok<Policy>(api('GET', '/api/admin/policies/default'));
    assert.equal(def.isDefault, true);
    assert.equal(def.version, 1);
    assert.deepEqual(def.settings, DEFAULT_SETTINGS);
    assert.equal(await server.app.get(PolicyService).seedDefault(), false, 'a later start seeds nothing');
    await refused(api('DELETE', `/api/admin/policies/${def.id}`), 409, 'POLICY_IN_USE');

    const other = await createPolicy('Stricter default', { 'TURN.enable': false });
    await ok(api('PUT', '/api/admin/policies/default', { policyId: other.id }));
    assert.equal((await ok<Policy>(api('GET', '/api/admin/policies/default'))).id, other.id);
    assert.equal((await ok<Policy>(api('GET', `/api/admin/policies/${def.id}`))).isDefault, false);
    await refused(
      api('PUT', '/api/admin/policies/default', { policyId: '00000000-0000-4000-8000-000000000000' }),
      400,
      'VALIDATION_FAILED',
    );
    await ok(api('PUT', '/api/admin/policies/default', { policyId: def.id }));
    await ok(api('DELETE', `/api/admin/policies/${other.id}`), 204);
  });

  test('each save is a new version; versions list diffs; a policy cannot be deleted while assigned', async () => {
    const p = await createPolicy('Sales', { 'Account.videoEnabled': false, 'TURN.server': 'turn1.example.org' });
    assert.equal(p.version, 1);
    await refused(api('POST', '/api/admin/policies', { name: 'Sales', settings: {} }), 409, 'POLICY_EXISTS');
    const v2 = await ok<Policy>(
      api('PUT', `/api/admin/policies/${p.id}`, {
        name: 'Sales team',
        settings: { 'TURN.server': 'turn2.example.org:5349', 'Account.autoAnswer': true },
      }),
    );
    assert.equal(v2.version, 2);
    assert.equal(v2.name, 'Sales team');
    const versions = await ok<
      { version: number; diff: { added: string[]; removed: string[]; changed: string[]; renamedFrom?: string } }[]
    >(api('GET', `/api/admin/policies/${p.id}/versions`));
    assert.deepEqual(
      versions.map((v) => [v.version, v.diff]),
      [
        [
          2,
          {
            added: ['Account.autoAnswer'],
            removed: ['Account.videoEnabled'],
            changed: ['TURN.server'],
            renamedFrom: 'Sales',
          },
        ],
        [1, { added: ['Account.videoEnabled', 'TURN.server'], removed: [], changed: [] }],
      ],
    );

    const [audited] = await server.app
      .get(DataSource)
      .query("SELECT before, after FROM audit_events WHERE action = 'policy.updated' AND target = 'Sales team'");
    assert.deepEqual(
      [audited.before.version, audited.before.name, audited.after.version, audited.after.settings],
      [1, 'Sales', 2, { 'TURN.server': 'turn2.example.org:5349', 'Account.autoAnswer': true }],
      'audited with before and after',
    );

    const g = await createGroup('sales');
    const assigned = await ok<Group>(api('PUT', `/api/admin/groups/${g.id}`, { policyId: p.id, priority: 5 }));
    assert.deepEqual([assigned.policyId, assigned.policyName, assigned.priority], [p.id, 'Sales team', 5]);
    assert.deepEqual((await ok<Policy>(api('GET', `/api/admin/policies/${p.id}`))).groups, [
      { id: g.id, name: 'sales', priority: 5 },
    ]);
    const inUse = await refused(api('DELETE', `/api/admin/policies/${p.id}`), 409, 'POLICY_IN_USE');
    assert.match(inUse.message, /assigned to "sales"/);
    await refused(
      api('PUT', `/api/admin/groups/${g.id}`, { policyId: '00000000-0000-4000-8000-000000000000' }),
      400,
      'VALIDATION_FAILED',
    );
    await refused(api('PUT', `/api/admin/groups/${g.id}`, { policyId: 'sales' }), 400, 'VALIDATION_FAILED');
    await ok(api('PUT', `/api/admin/groups/${g.id}`, { policyId: null }));
    await ok(api('DELETE', `/api/admin/policies/${p.id}`), 204);
    assert.equal((await api('GET', `/api/admin/policies/${p.id}`)).status, 404);
    assert.equal((await api('GET', `/api/admin/policies/${p.id}/versions`)).status, 404);
  });

  test('settings are checked by meaning: a 400 naming each key, nothing written', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ 'TURN.enable': 'yes' }, 'TURN.enable', /TURN.enable must be true or false/],
      [{ 'Account.notAKey': 1 }, 'Account.notAKey', /not a Jami account setting/],
      [{ 'Account.defaultModerators': { users: ['ghost'] } }, 'Account.defaultModerators', /no user "ghost"/],
      [{ 'Account.defaultModerators': { groups: ['no-such-group'] } }, 'Account.defaultModerators', /no group/],
      [{ 'TURN.server': 'turn.example.org:70000' }, 'TURN.server', /host\[:port\]/],
      [{ 'Account.proxyServer': 'proxy example' }, 'Account.proxyServer', /host\[:port\] or an http/],
      [{ 'Account.hostname': 'a.example.org;bad host' }, 'Account.hostname', /separated by ";"/],
      [{ 'Account.activeCallLimit': -2 }, 'Account.activeCallLimit', /non-negative/],
      [{ 'Account.audioPortMin': 5000, 'Account.audioPortMax': 4000 }, 'Account.audioPortMin', /must not exceed/],
      [{ 'Account.uiCustomization': { title: 1 } }, 'Account.uiCustomization', /title must be a string/],
      [
        { 'Account.uiCustomization': { logo: '00000000-0000-4000-8000-000000000000' } },
        'Account.uiCustomization',
        /no uploaded logo/,
      ],
      [{ 'Account.alias': 'x\u0007' }, 'Account.alias', /control characters/],
    ];
    for (const [settings, key, message] of cases) {
      const body = await refused(
        api('POST', '/api/admin/policies', { name: `bad ${key}`, settings }),
        400,
        'VALIDATION_FAILED',
      );
      assert.match(body.message, message);
      assert.ok(body.message.includes(key), `${body.message} names ${key}`);
      assert.deepEqual(body.details?.keys, [key]);
    }
    await refused(api('POST', '/api/admin/policies', { name: 'x', settings: [] }), 400, 'VALIDATION_FAILED');
    await refused(api('POST', '/api/admin/policies', { name: 'x' }), 400, 'VALIDATION_FAILED');
    await refused(api('PUT', '/api/admin/users/nobody/policy', { settings: {} }), 404, 'USER_NOT_FOUND');
    await refused(api('GET', '/api/admin/users/%00/effective-policy'), 400, 'VALIDATION_FAILED');
  });

  test('precedence: default < groups by ascending priority (ties: name) < user override, with sources', async () => {
    const low = await createPolicy('Low', { 'TURN.server': 'low.example.org', 'Account.autoAnswer': false });
    const high = await createPolicy('High', {
      'TURN.server': 'high.example.org',
      'Account.allModeratorsEnabled': false,
    });
    const tieA = await createPolicy('Tie A', { 'Account.videoEnabled': false });
    const tieB = await createPolicy('Tie B', { 'Account.videoEnabled': true });
    const groups: [string, Policy, number][] = [
      ['p-high', high, 20],
      ['p-low', low, 10],
      ['p-tie-b', tieB, 30],
      ['p-tie-a', tieA, 30],
    ];
    for (const [name, policy, priority] of groups) {
      const g = await createGroup(name);
      await ok(api('PUT', `/api/admin/groups/${g.id}`, { policyId: policy.id, priority }));
      await ok(api('PUT', `/api/admin/groups/${g.id}/members`, { add: ['carol'] }));
    }
    type Effective = {
      keys: Record<string, unknown>;
      sources: Record<string, { via: string; policyName: string | null; groupId?: string; groupName?: string }>;
    };
    let eff = await ok<Effective>(api('GET', '/api/admin/users/carol/effective-policy'));
    assert.equal(eff.keys['TURN.server'], 'high.example.org');
    assert.equal(eff.keys['TURN.enable'], true);
    assert.equal(eff.keys['Account.autoAnswer'], false);
    assert.equal(eff.keys['Account.videoEnabled'], true, 'equal priorities apply in name order: Tie B last');
    assert.equal(eff.keys['Account.allModeratorEnabled'], false, 'both spellings are sent');
    assert.deepEqual(eff.sources['TURN.server'], {
      via: 'group',
      policyId: high.id,
      policyName: 'High',
      groupId: eff.sources['TURN.server'].groupId,
      groupName: 'p-high',
    });
    assert.equal(eff.sources['TURN.enable'].via, 'default');
    assert.equal(eff.sources['Account.allModeratorEnabled'].policyName, 'High');

    const override = await ok<{ settings: Record<string, unknown> }>(
      api('PUT', '/api/admin/users/carol/policy', {
        settings: { 'TURN.server': 'carol.example.org', 'Account.allModeratorEnabled': true },
      }),
    );
    assert.equal(override.settings['TURN.server'], 'carol.example.org');
    eff = await ok<Effective>(api('GET', '/api/admin/users/carol/effective-policy'));
    assert.equal(eff.keys['TURN.server'], 'carol.example.org');
    assert.equal(eff.sources['TURN.server'].via, 'user');
    assert.equal(eff.keys['Account.allModeratorsEnabled'], true, "the override's spelling replaces the group's");
    assert.equal(eff.sources['Account.allModeratorsEnabled'].via, 'user');

    const carol = await enrollOk(server, 'carol', 'carol-password');
    assert.equal(carol.answer['TURN.server'], 'carol.example.org', 'the enrollment answer uses the same computation');
    const policyData = await ok<Record<string, unknown>>(
      server.request('GET', '/api/auth/policyData', { token: await deviceToken(server, carol) }),
    );
    assert.deepEqual(policyData, eff.keys);

    await ok(api('DELETE', '/api/admin/users/carol/policy'), 204);
    eff = await ok<Effective>(api('GET', '/api/admin/users/carol/effective-policy'));
    assert.equal(eff.keys['TURN.server'], 'high.example.org');
    const dave = await ok<Effective>(api('GET', '/api/admin/users/dave/effective-policy'));
    assert.deepEqual(dave.keys, DEFAULT_SETTINGS, 'a user in no group gets the default');
  });

  test('a logo is uploaded (type sniffed, size-checked), served publicly and delivered in uiCustomization', async () => {
    const upload = (file: Buffer, name = 'logo.png') =>
      server.request('POST', '/api/admin/policies/logos', { token: admin, ...multipart('file', name, file) });
    const res = await upload(PNG);
    assert.equal(res.status, 201, res.text());
    const logo = res.json<{ id: string; url: string; contentType: string }>();
    assert.equal(logo.contentType, 'image/png');
    assert.equal(logo.url, `/api/branding/logos/${logo.id}`);
    const served = await server.request('GET', logo.url);
    assert.equal(served.status, 200);
    assert.equal(served.headers['content-type'], 'image/png');
    assert.ok(served.body.equals(PNG));

    const svg = await upload(Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'), 'l.svg');
    assert.equal(svg.json<{ contentType: string }>().contentType, 'image/svg+xml');
    const before = await rows();
    const text = await upload(Buffer.from('MZ this is not an image'), 'logo.png');
    assert.equal(text.status, 400);
    assert.equal(text.json().code, 'LOGO_INVALID');
    const big = await upload(Buffer.concat([PNG, Buffer.alloc(512 * 1024)]));
    assert.equal(big.status, 413);
    assert.deepEqual(await rows(), before);
    assert.equal((await server.request('GET', '/api/branding/logos/nope')).status, 404);
    const malformed = await server.request('POST', '/api/admin/policies/logos', {
      token: admin,
      rawBody: Buffer.from('--x\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc'),
      contentType: 'multipart/form-data; boundary=x',
    });
    assert.equal(malformed.status, 400, malformed.text());
    const noFile = await api('POST', '/api/admin/policies/logos', { file: 'abc' });
    assert.equal(noFile.status, 400, noFile.text());

    const p = await createPolicy('Branding', {
      'Account.uiCustomization': { title: 'Example Corp', backgroundColor: '#0a0b0c', logo: logo.id, logoSize: 60 },
    });
    const preview = await ok<{ keys: Record<string, unknown> }>(api('GET', `/api/admin/policies/${p.id}/preview`));
    assert.equal(typeof preview.keys['Account.uiCustomization'], 'string');
    assert.deepEqual(JSON.parse(String(preview.keys['Account.uiCustomization'])), {
      title: 'Example Corp',
      backgroundType: 'color',
      backgroundColorOrUrl: '#0a0b0c',
      logoUrl: logo.url,
      logoSize: 60,
    });
  });
});

describe('roles', () => {
  test('an auditor reads groups, policies and effective policies but changes nothing; helpdesk neither', async () => {
    for (const [username, role] of [
      ['audra', 'auditor'],
      ['helga', 'helpdesk'],
    ]) {
      const password = `${username}-password-1`;
      await ok(api('POST', '/api/admin/admins', { username, password, role }), 201);
      const login = await ok<{ access_token: string }>(
        server.request('POST', '/api/admin/login', { body: { username, password } }),
      );
      const as = (method: string, path: string, body?: unknown) =>
        server.request(method, path, { token: login.access_token, body });
      const g = (await ok<Group[]>(as('GET', '/api/admin/groups')))[0];
      const p = (await ok<Policy[]>(as('GET', '/api/admin/policies')))[0];
      await ok(as('GET', `/api/admin/groups/${g.id}`));
      await ok(as('GET', `/api/admin/policies/${p.id}/versions`));
      await ok(as('GET', '/api/admin/users/alice/effective-policy'));
      for (const [method, path, body] of [
        ['POST', '/api/admin/groups', { name: `by-${role}` }],
        ['PUT', `/api/admin/groups/${g.id}/members`, { add: ['alice'] }],
        ['PUT', `/api/admin/groups/${g.id}`, { priority: 3 }],
        ['POST', '/api/admin/policies', { name: `by-${role}`, settings: {} }],
        ['PUT', `/api/admin/policies/${p.id}`, { settings: {} }],
        ['DELETE', `/api/admin/policies/${p.id}`, undefined],
        ['PUT', '/api/admin/policies/default', { policyId: p.id }],
        ['PUT', '/api/admin/users/alice/policy', { settings: {} }],
      ] as const) {
        await refused(as(method, path, body), 403, 'FORBIDDEN');
      }
    }
  });
});

describe('typed moderators resolved to Jami IDs in a real enrollment answer', () => {
  test("users and groups named as default moderators reach B's enrollment answer and policyData, following membership and enrollments", async () => {
    for (const u of ['moda', 'modb', 'modc', 'modd']) await createUser(u);
    // A enrolls a device: A's account (and Jami ID) is created.
    await enrollOk(server, 'moda', 'moda-password');
    const jamiA = (await ok<{ jamiId: string }>(api('GET', '/api/admin/users/moda'))).jamiId;
    assert.match(jamiA, /^[0-9a-f]{40}$/);

    const g = await createGroup('moderators');
    await ok(api('PUT', `/api/admin/groups/${g.id}/members`, { add: ['modd'] }));
    const p = await createPolicy('Moderation', {
      'Account.defaultModerators': { users: ['MODA'], groups: ['moderators'] },
      'Account.allModeratorsEnabled': false,
    });
    assert.deepEqual(p.settings['Account.defaultModerators'], { users: ['moda'], groups: [g.id] }, 'stored normalised');
    const everyone = await createGroup('everyone');
    await ok(api('PUT', `/api/admin/groups/${everyone.id}/members`, { add: ['modb'] }));
    await ok(api('PUT', `/api/admin/groups/${everyone.id}`, { policyId: p.id, priority: 1 }));

    // modd is in the group but has no device yet: pending, not in the list.
    const b = await enrollOk(server, 'modb', 'modb-password');
    assert.equal(b.answer['Account.defaultModerators'], jamiA);
    assert.equal(b.answer['Account.allModeratorEnabled'], false);
    const tokenB = await deviceToken(server, b);
    const first = await ok<Record<string, unknown>>(server.request('GET', '/api/auth/policyData', { token: tokenB }));
    assert.equal(first['Account.defaultModerators'], jamiA);
    const eff = await ok<{ pending: string[] }>(api('GET', '/api/admin/users/modb/effective-policy'));
    assert.deepEqual(eff.pending, ['modd']);

    // A member added to the group who then enrolls appears in the next policyData.
    await ok(api('PUT', `/api/admin/groups/${g.id}/members`, { add: ['modc'] }));
    await enrollOk(server, 'modc', 'modc-password');
    await enrollOk(server, 'modd', 'modd-password');
    const jamiC = (await ok<{ jamiId: string }>(api('GET', '/api/admin/users/modc'))).jamiId;
    const jamiD = (await ok<{ jamiId: string }>(api('GET', '/api/admin/users/modd'))).jamiId;
    const next = await ok<Record<string, unknown>>(server.request('GET', '/api/auth/policyData', { token: tokenB }));
    assert.equal(next['Account.defaultModerators'], [jamiA, jamiC, jamiD].sort().join('/'));

    // A group named as moderators cannot be deleted until the policy stops naming it.
    const inUse = await refused(api('DELETE', `/api/admin/groups/${g.id}`), 409, 'GROUP_IN_USE');
    assert.match(inUse.message, /"Moderation"/);

    // Removed from the group: gone from the next policyData.
    await ok(api('PUT', `/api/admin/groups/${g.id}/members`, { remove: ['modc'] }));
    const last = await ok<Record<string, unknown>>(server.request('GET', '/api/auth/policyData', { token: tokenB }));
    assert.equal(last['Account.defaultModerators'], [jamiA, jamiD].sort().join('/'));
  });
});
