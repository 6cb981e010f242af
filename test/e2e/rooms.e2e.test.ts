import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DataSource } from 'typeorm';
import { KeyPoolService } from '../../apps/server/src/modules/ca/key-pool.service';
import { AdminRole, ROLES_KEY } from '../../apps/server/src/modules/auth/roles';
import { RoomsController } from '../../apps/server/src/modules/rooms/rooms.controller';
import { agentMain, tempStateDir } from '../support/agent';
import { basic, deviceToken, enroll, enrollOk, makeDevice } from '../support/jami-client';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';

let server: TestServer;
let token: string;
let ds: DataSource;
const jamiIds: Record<string, string> = {};

interface RoomBody {
  name: string;
  displayName: string;
  jamiId: string;
  moderators: { users: string[]; groups: { id: string; name: string }[]; jamiIds: string[]; pending: string[] };
  members: { jamiIds: string[]; pending: string[] } | null;
  allParticipantsModerators: boolean;
  host: {
    online: boolean;
    deviceId: string | null;
    daemonVersion: string | null;
    conference: { id: string; participants: { jamiId: string; name: string | null; moderator: boolean }[] } | null;
    secretUsed: boolean;
  };
}

async function createUser(username: string, enrolled: boolean): Promise<void> {
  const r = await server.request('POST', '/api/admin/users', {
    token,
    body: { username, password: `${username}-password` },
  });
  assert.equal(r.status, 201, r.text());
  if (enrolled) {
    const e = await enrollOk(server, username, `${username}-password`);
    jamiIds[username] = JSON.parse(String(e.answer.deviceReceipt)).id as string;
  }
}

async function createGroup(name: string, members: string[]): Promise<string> {
  const [{ id }] = await ds.query(`INSERT INTO groups (name) VALUES ($1) RETURNING id`, [name]);
  for (const m of members) {
    await ds.query(`INSERT INTO group_members (group_id, user_id) SELECT $1, id FROM users WHERE username = $2`, [
      id,
      m,
    ]);
  }
  return id as string;
}

before(async () => {
  server = await startTestServer();
  token = await setUp(server);
  ds = server.app.get(DataSource);
  await server.app.get(KeyPoolService).fill(4);
  await createUser('alice', true);
  await createUser('bob', true);
  await createUser('carol', true);
  await createUser('dave', false);
  await createGroup('facilitators', ['bob', 'dave']);
});
after(async () => {
  await server?.close();
  await stopTestPostgres();
});

test('POST /api/admin/rooms creates a room account with its Jami ID; moderators resolve through groups, with pending users', async () => {
  const res = await server.request('POST', '/api/admin/rooms', {
    token,
    body: { name: 'Room-101', displayName: 'Room 101', moderators: { users: ['alice'], groups: ['facilitators'] } },
  });
  assert.equal(res.status, 201, res.text());
  const room = res.json<RoomBody>();
  assert.equal(room.name, 'room-101');
  assert.match(room.jamiId, /^[0-9a-f]{40}$/);
  assert.deepEqual(room.moderators.users, ['alice']);
  assert.deepEqual(
    room.moderators.groups.map((g) => g.name),
    ['facilitators'],
  );
  assert.deepEqual(room.moderators.jamiIds, [jamiIds.alice, jamiIds.bob].sort());
  assert.deepEqual(room.moderators.pending, ['dave']);
  assert.equal(room.members, null);
  assert.equal(room.allParticipantsModerators, false);
  assert.equal(room.host.online, false);

  // The room's name resolves like a user's, both ways.
  const byName = await server.request('GET', '/api/nameserver/name/room-101');
  assert.deepEqual(byName.json(), { name: 'room-101', addr: room.jamiId });
  const byAddr = await server.request('GET', `/api/nameserver/addr/${room.jamiId}`);
  assert.deepEqual(byAddr.json(), { name: 'room-101' });

  const audit = await ds.query(`SELECT action FROM audit_events WHERE target = 'room-101' ORDER BY id`);
  assert.ok(audit.some((a: { action: string }) => a.action === 'room.created'));

  const list = await server.request('GET', '/api/admin/rooms', { token });
  assert.deepEqual(
    list.json<RoomBody[]>().map((r) => r.name),
    ['room-101'],
  );
});

test('bad room input is a 400 naming the field, a taken name a 409, and nothing is created', async () => {
  const before = (await ds.query('SELECT count(*)::int AS n FROM users'))[0].n;
  const cases: [unknown, number, string, RegExp][] = [
    [{ name: 'x', moderators: { users: [], groups: [] } }, 400, 'USERNAME_INVALID', /Username "x"/],
    [
      { name: 'room-2', moderators: { users: ['nobody'], groups: [] } },
      400,
      'VALIDATION_FAILED',
      /moderators: no user "nobody"/,
    ],
    [
      { name: 'room-2', moderators: { users: [], groups: [] }, members: { users: [], groups: ['no-such-group'] } },
      400,
      'VALIDATION_FAILED',
      /members: no group "no-such-group"/,
    ],
    [{ name: 'room-2', moderators: { users: 'alice', groups: [] } }, 400, 'VALIDATION_FAILED', /moderators.users/],
    [{ name: 'room-2' }, 400, 'VALIDATION_FAILED', /moderators/],
    [{ name: 'room-2', moderators: { users: [], groups: [] }, extra: 1 }, 400, 'VALIDATION_FAILED', /extra/],
    [{ name: 'alice', moderators: { users: [], groups: [] } }, 409, 'ROOM_NAME_TAKEN', /already used/],
    [{ name: 'room-101', moderators: { users: [], groups: [] } }, 409, 'ROOM_NAME_TAKEN', /already used/],
  ];
  for (const [body, status, code, message] of cases) {
    const res = await server.request('POST', '/api/admin/rooms', { token, body });
    assert.equal(res.status, status, `${JSON.stringify(body)} → ${res.text()}`);
    assert.equal(res.json().code, code);
    assert.match(String(res.json().message), message);
  }
  assert.equal((await ds.query('SELECT count(*)::int AS n FROM users'))[0].n, before);
  const missing = await server.request('GET', '/api/admin/rooms/nowhere', { token });
  assert.equal(missing.status, 404);
  assert.equal(missing.json().code, 'ROOM_NOT_FOUND');
  const ttl = await server.request('POST', '/api/admin/rooms/room-101/host-enrollment', {
    token,
    body: { ttlHours: 0 },
  });
  assert.equal(ttl.status, 400);
  assert.match(String(ttl.json().message), /ttlHours/);
  const unauth = await server.request('GET', '/api/admin/rooms');
  assert.equal(unauth.status, 401);
});

test('a room has no password: Basic logins and enrollment with anything but the host secret are refused', async () => {
  const dev = makeDevice();
  for (const pw of ['', 'room-101', 'guess-the-password']) {
    const res = await enroll(server, 'room-101', pw, dev);
    assert.equal(res.status, 401, res.text());
  }
  const login = await server.request('POST', '/api/login', {
    body: '{}',
    headers: { authorization: basic('room-101', 'whatever') },
  });
  assert.equal(login.status, 403);
});

test('the host secret enrolls exactly one device, which gets the room keys; a new secret revokes the old host', async () => {
  const issued = await server.request('POST', '/api/admin/rooms/room-101/host-enrollment', { token, body: {} });
  assert.equal(issued.status, 201, issued.text());
  const secret = issued.json<{ username: string; password: string; expiresAt: string }>();
  assert.equal(secret.username, 'room-101');
  assert.ok(Date.parse(secret.expiresAt) - Date.now() > 23 * 3600_000);

  const host = await enrollOk(server, 'room-101', secret.password);
  const room = (await server.request('GET', '/api/admin/rooms/room-101', { token })).json<RoomBody>();
  assert.equal(JSON.parse(String(host.answer.deviceReceipt)).id, room.jamiId);
  assert.equal(host.answer['Account.rendezVous'], true);
  assert.equal(host.answer['Account.defaultModerators'], [jamiIds.alice, jamiIds.bob].sort().join('/'));
  assert.equal(host.answer['Account.localModeratorsEnabled'], false);
  assert.equal(host.answer['Account.allModeratorEnabled'], false);
  assert.equal(host.answer['Account.allModeratorsEnabled'], false);
  assert.equal(host.answer['Account.displayName'], 'Room 101');
  assert.equal(host.answer['DHT.PublicInCalls'], undefined, 'a room without members takes calls from anyone');
  assert.equal(room.host.secretUsed, true);

  // Used: refused like a wrong password, on enrollment and on the Basic login.
  assert.equal((await enroll(server, 'room-101', secret.password, makeDevice())).status, 401);
  const login = await server.request('POST', '/api/login', {
    body: '{}',
    headers: { authorization: basic('room-101', secret.password) },
  });
  assert.equal(login.status, 403);

  // policyData follows the room: dave enrolls and becomes a moderator; the flag turns all-moderators on.
  const hostToken = await deviceToken(server, host);
  await enrollOk(server, 'dave', 'dave-password').then((e) => {
    jamiIds.dave = JSON.parse(String(e.answer.deviceReceipt)).id as string;
  });
  const patched = await server.request('PATCH', '/api/admin/rooms/room-101', {
    token,
    body: { allParticipantsModerators: true, displayName: 'Room one-oh-one' },
  });
  assert.equal(patched.status, 200, patched.text());
  const policy = (await server.request('GET', '/api/auth/policyData', { token: hostToken })).json<
    Record<string, unknown>
  >();
  assert.equal(policy['Account.defaultModerators'], [jamiIds.alice, jamiIds.bob, jamiIds.dave].sort().join('/'));
  assert.equal(policy['Account.allModeratorEnabled'], true);
  assert.equal(policy['Account.allModeratorsEnabled'], true);
  assert.equal(policy['Account.displayName'], 'Room one-oh-one');
  assert.equal(policy['Account.rendezVous'], true);
  const audit = await ds.query(`SELECT action FROM audit_events WHERE target = 'room-101' AND action = 'room.updated'`);
  assert.equal(audit.length, 1);

  // The host reports; the admin sees it online with the conference and who moderates.
  const report = await server.request('POST', '/api/rooms/host/status', {
    token: hostToken,
    body: {
      daemonVersion: 'Jami Daemon 13.7.0',
      conference: {
        id: '1234',
        participants: [
          { jamiId: jamiIds.alice, device: 'a'.repeat(64), moderator: true, muted: false },
          { jamiId: jamiIds.carol, device: 'c'.repeat(64), moderator: false, muted: true },
        ],
      },
    },
  });
  assert.equal(report.status, 204, report.text());
  const seen = (await server.request('GET', '/api/admin/rooms/room-101', { token })).json<RoomBody>();
  assert.equal(seen.host.online, true);
  assert.equal(seen.host.daemonVersion, 'Jami Daemon 13.7.0');
  assert.deepEqual(
    seen.host.conference?.participants.map((p) => [p.name, p.moderator]),
    [
      ['alice', true],
      ['carol', false],
    ],
  );
  const bad = await server.request('POST', '/api/rooms/host/status', {
    token: hostToken,
    body: { daemonVersion: 'x', conference: { id: '1', participants: [{ jamiId: 'nope' }] } },
  });
  assert.equal(bad.status, 400);
  // A person's device may not report for a room.
  const alice = await enrollOk(server, 'alice', 'alice-password');
  const notHost = await server.request('POST', '/api/rooms/host/status', {
    token: await deviceToken(server, alice),
    body: { daemonVersion: 'x', conference: null },
  });
  assert.equal(notHost.status, 403);
  assert.equal(notHost.json().code, 'ROOM_HOST_ONLY');

  // A new secret revokes the old host device: its certificate no longer logs in.
  const again = await server.request('POST', '/api/admin/rooms/room-101/host-enrollment', {
    token,
    body: { ttlHours: 1 },
  });
  assert.equal(again.status, 201);
  assert.equal(
    (await server.request('POST', '/api/login', { body: '{}', cert: host.chainPem, key: host.device.keyPem })).status,
    401,
  );
  const after = (await server.request('GET', '/api/admin/rooms/room-101', { token })).json<RoomBody>();
  assert.equal(after.host.deviceId, null);
  assert.equal(after.host.online, false);
});

test('an expired host secret is refused like a wrong password', async () => {
  const issued = await server.request('POST', '/api/admin/rooms/room-101/host-enrollment', { token, body: {} });
  const { password } = issued.json<{ password: string }>();
  await ds.query(`UPDATE rooms SET host_secret_expires_at = now() - interval '1 second'`);
  assert.equal((await enroll(server, 'room-101', password, makeDevice())).status, 401);
});

test('a room with members: its host gets exactly the members as contacts and refuses calls from others', async () => {
  const created = await server.request('POST', '/api/admin/rooms', {
    token,
    body: {
      name: 'board-room',
      moderators: { users: ['alice'], groups: [] },
      members: { users: ['carol'], groups: ['facilitators'] },
    },
  });
  assert.equal(created.status, 201, created.text());
  assert.deepEqual(created.json<RoomBody>().members?.jamiIds, [jamiIds.bob, jamiIds.carol, jamiIds.dave].sort());
  const { password } = (
    await server.request('POST', '/api/admin/rooms/board-room/host-enrollment', { token, body: {} })
  ).json<{ password: string }>();
  const host = await enrollOk(server, 'board-room', password);
  assert.equal(host.answer['DHT.PublicInCalls'], false);
  assert.equal(host.answer['DHT.AllowFromTrusted'], false);
  const hostToken = await deviceToken(server, host);
  const contacts = await server.request('POST', '/api/auth/contacts', {
    token: hostToken,
    body: [{ uri: jamiIds.alice, added: 1 }],
  });
  assert.equal(contacts.status, 200);
  assert.deepEqual(
    contacts
      .json<{ uri: string }[]>()
      .map((c) => c.uri)
      .sort(),
    [jamiIds.bob, jamiIds.carol, jamiIds.dave].sort(),
  );

  // Open to everyone again: no contacts, calls from non-contacts allowed again (the key is no longer sent).
  const open = await server.request('PATCH', '/api/admin/rooms/board-room', { token, body: { members: null } });
  assert.equal(open.status, 200, open.text());
  assert.equal(open.json<RoomBody>().members, null);
  const after = await server.request('POST', '/api/auth/contacts', { token: hostToken, body: [] });
  assert.deepEqual(after.json(), []);

  // DELETE revokes the room's account; the name stays reserved and no longer resolves.
  const del = await server.request('DELETE', '/api/admin/rooms/board-room', { token });
  assert.equal(del.status, 204, del.text());
  assert.equal((await server.request('GET', '/api/admin/rooms/board-room', { token })).status, 404);
  assert.equal((await server.request('GET', '/api/nameserver/name/board-room')).status, 404);
  assert.equal((await deviceToken(server, host).catch((e: Error) => e.message)).includes('401'), true);
  const again = await server.request('POST', '/api/admin/rooms', {
    token,
    body: { name: 'board-room', moderators: { users: [], groups: [] } },
  });
  assert.equal(again.status, 409);
});

test('enclave-agent host-room without the Jami daemon ends with the install command and exit code 14', async () => {
  const state = tempStateDir('room-host');
  const missing = await agentMain(
    ['host-room', '--server', 'https://127.0.0.1:1', '--room', 'room-101', '--secret-stdin', '--state', state],
    { stdin: 'secret\n', env: { ENCLAVE_AGENT_JAMID: '/nonexistent/jamid' } },
  );
  assert.equal(missing.code, 14, missing.stderr);
  assert.match(missing.stderr, /the Jami daemon \(\/nonexistent\/jamid, package jami-daemon\)/);
  assert.match(missing.stderr, /apt-get install jami-daemon/);
  const usage = await agentMain(['host-room', '--server', 'https://127.0.0.1:1']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--room NAME/);
});

test('every room admin route carries its role rule: reads for any role, changes for owners and admins', () => {
  const expected: Record<string, AdminRole[]> = {
    create: [AdminRole.OWNER, AdminRole.ADMIN],
    list: [AdminRole.OWNER, AdminRole.ADMIN, AdminRole.HELPDESK, AdminRole.AUDITOR],
    get: [AdminRole.OWNER, AdminRole.ADMIN, AdminRole.HELPDESK, AdminRole.AUDITOR],
    update: [AdminRole.OWNER, AdminRole.ADMIN],
    remove: [AdminRole.OWNER, AdminRole.ADMIN],
    hostEnrollment: [AdminRole.OWNER, AdminRole.ADMIN],
  };
  const proto = RoomsController.prototype as unknown as Record<string, object>;
  const routes = Object.getOwnPropertyNames(RoomsController.prototype).filter((n) => n !== 'constructor');
  assert.deepEqual(routes.sort(), Object.keys(expected).sort());
  for (const [method, roles] of Object.entries(expected)) {
    assert.deepEqual(Reflect.getMetadata(ROLES_KEY, proto[method]), roles, method);
  }
});
