import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DataSource } from 'typeorm';
import { DirectorySyncService } from '../../apps/server/src/modules/directory/directory-sync.service';
import { QueueName } from '../../apps/server/src/modules/queue/queue-names';
import { QueueService } from '../../apps/server/src/modules/queue/queue.service';
import { syncAndWait, waitForRun } from '../support/directory';
import { deviceLogin, enroll, enrollOk, makeDevice } from '../support/jami-client';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';
import { Slapd, slapdAvailable, startSlapd } from '../support/slapd';

const unavailable = slapdAvailable();
let slapd: Slapd;
let server: TestServer;
let admin: string;
const USERS = 120; // more than the size limit: only paged searches see everyone

const ldapSettings = () => ({
  type: 'ldap',
  url: slapd.url,
  startTls: true,
  caCertPem: slapd.caPem,
  bindDn: slapd.adminDn,
  bindPassword: slapd.adminPassword,
  baseDn: slapd.ldap.usersDn,
  groupBaseDn: slapd.ldap.groupsDn,
  syncIntervalMinutes: 0,
  brakePercent: 10,
});

async function user(name: string) {
  return (await server.request('GET', `/api/admin/users/${name}`, { token: admin })).json<{
    username: string;
    status: string;
    jamiId: string | null;
    firstName: string | null;
    email: string | null;
    devices: { deviceId: string; revokedAt: string | null }[];
  }>();
}

describe('LDAP directory', { skip: unavailable }, () => {
  before(async () => {
    slapd = await startSlapd({ tls: true, sizeLimit: 50 });
    await slapd.addLdapUsers(
      Array.from({ length: USERS }, (_, i) => ({
        uid: `staff${String(i).padStart(3, '0')}`,
        givenName: `Given${i}`,
        sn: `Family${i}`,
        mail: `Staff${i}@Example.org`,
        password: `pw-${i}-secret`,
      })),
    );
    await slapd.addGroup('ldap', 'engineering', [slapd.ldapUserDn('staff000'), slapd.ldapUserDn('staff001')]);
    server = await startTestServer({ ENCLAVE_LOGIN_MAX_FAILURES: '1000' });
    admin = await setUp(server);
  });
  after(async () => {
    await server?.close();
    await slapd?.destroy();
    await stopTestPostgres();
  });

  test('settings are validated, the bind password is sealed and never returned', async () => {
    const bad = await server.request('PUT', '/api/admin/directory', {
      token: admin,
      body: { ...ldapSettings(), url: 'http://x' },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.json<{ message: string }>().message, /url must be ldap:\/\/host/);
    const ok = await server.request('PUT', '/api/admin/directory', { token: admin, body: ldapSettings() });
    assert.equal(ok.status, 200, ok.text());
    const body = ok.json<Record<string, unknown>>();
    assert.equal(body.bindPasswordSet, true);
    assert.ok(!JSON.stringify(body).includes(slapd.adminPassword));
    assert.equal(body.usernameAttribute, 'uid');
    const [row] = await server.app.get(DataSource).query('SELECT bind_password_sealed FROM directory_config');
    assert.ok(!String(row.bind_password_sealed).includes(slapd.adminPassword));
  });

  test('test connection reports each stage: success with the user count, and the failing stage otherwise', async () => {
    const good = (await server.request('POST', '/api/admin/directory/test', { token: admin })).json<{
      ok: boolean;
      matchedUsers: number;
      stages: { stage: string; ok: boolean; message?: string }[];
    }>();
    assert.equal(good.ok, true, JSON.stringify(good));
    assert.equal(good.matchedUsers, USERS);
    const failingStage = async (patch: Record<string, unknown>) => {
      await server.request('PUT', '/api/admin/directory', { token: admin, body: { ...ldapSettings(), ...patch } });
      const r = (await server.request('POST', '/api/admin/directory/test', { token: admin })).json<{
        ok: boolean;
        stages: { stage: string; ok: boolean }[];
      }>();
      assert.equal(r.ok, false);
      return r.stages.find((s) => !s.ok)?.stage;
    };
    assert.equal(await failingStage({ bindPassword: 'wrong-bind-password' }), 'bind');
    assert.equal(await failingStage({ caCertPem: '' }), 'tls', 'StartTLS without the custom CA fails at TLS');
    assert.equal(await failingStage({ url: 'ldap://127.0.0.1:1' }), 'tcp');
    assert.equal(await failingStage({ url: 'ldap://no-such-host.invalid' }), 'dns');
    await server.request('PUT', '/api/admin/directory', { token: admin, body: ldapSettings() });
  });

  test('a full sync pages through every user, maps attributes, mirrors groups and records the run', async () => {
    const run = await syncAndWait(server, admin);
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    assert.equal(run.added, USERS);
    assert.equal(run.suspended, 0);
    const u = await user('staff007');
    assert.equal(u.firstName, 'Given7');
    assert.equal(u.email, 'staff7@example.org');
    const members = await server.app
      .get(DataSource)
      .query(
        "SELECT u.username FROM group_members m JOIN groups g ON g.id = m.group_id JOIN users u ON u.id = m.user_id WHERE g.name = 'engineering' ORDER BY 1",
      );
    assert.deepEqual(
      members.map((m: { username: string }) => m.username),
      ['staff000', 'staff001'],
    );
    const again = await syncAndWait(server, admin);
    assert.equal(again.added + again.updated, 0, 'an unchanged directory writes nothing');
    const runs = (await server.request('GET', '/api/admin/directory/sync-runs', { token: admin })).json<unknown[]>();
    assert.ok(runs.length >= 2);
  });

  test("a directory group's policy reaches its members' devices, and only theirs; its membership is read-only", async () => {
    const groups = (await server.request('GET', '/api/admin/groups', { token: admin })).json<
      { id: string; name: string; memberCount: number; source: string }[]
    >();
    const eng = groups.find((g) => g.name === 'engineering');
    assert.equal(eng?.memberCount, 2);
    assert.equal(eng?.source, 'ldap');
    const bad = await server.request('POST', '/api/admin/policies', {
      token: admin,
      body: { name: 'Engineering', settings: { 'TLS.privateKeyFile': '/etc/passwd' } },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.json<{ message: string }>().message, /TLS.privateKeyFile is not a Jami account setting/);
    const created = await server.request('POST', '/api/admin/policies', {
      token: admin,
      body: { name: 'Engineering', settings: { 'TURN.server': 'turn.eng.example.org', 'Account.rendezVous': false } },
    });
    assert.equal(created.status, 201, created.text());
    const ok = await server.request('PUT', `/api/admin/groups/${eng?.id}`, {
      token: admin,
      body: { policyId: created.json<{ id: string }>().id, priority: 1 },
    });
    assert.equal(ok.status, 200, ok.text());
    const readOnly = await server.request('PUT', `/api/admin/groups/${eng?.id}/members`, {
      token: admin,
      body: { add: ['staff006'] },
    });
    assert.equal(readOnly.status, 409, readOnly.text());
    assert.equal(readOnly.json().code, 'GROUP_READ_ONLY');
    const member = await enrollOk(server, 'staff001', 'pw-1-secret');
    assert.equal(member.answer['TURN.server'], 'turn.eng.example.org');
    assert.equal(member.answer['Account.rendezVous'], false);
    const other = await enrollOk(server, 'staff006', 'pw-6-secret');
    assert.ok(!('TURN.server' in other.answer));
  });

  test('directory users enroll with their directory password; a wrong one is 401 and a new directory user is created at first login', async () => {
    const e = await enrollOk(server, 'staff003', 'pw-3-secret');
    assert.equal((await deviceLogin(server, e)).status, 200);
    const wrong = await enroll(server, 'staff004', 'not-the-password', makeDevice());
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json().code, 'INVALID_CREDENTIALS');
    await slapd.addLdapUsers([{ uid: 'newhire', givenName: 'New', sn: 'Hire', password: 'newhire-secret' }]);
    await enrollOk(server, 'newhire', 'newhire-secret');
    assert.equal((await user('newhire')).firstName, 'New');
  });

  test('a rename keeps the user (stable entryUUID); an incremental sync reads only changed entries', async () => {
    const before = await user('staff010');
    await slapd.rename(slapd.ldapUserDn('staff010'), 'uid=staff010b');
    await slapd.modify(slapd.ldapUserDn('staff011'), { replace: { givenName: 'Renamed' } });
    // modifyTimestamp has one-second resolution.
    await new Promise((r) => setTimeout(r, 1100));
    const inc = await syncAndWait(server, admin, 'incremental');
    assert.equal(inc.status, 'succeeded', JSON.stringify(inc));
    // The filter is modifyTimestamp >= watermark (one-second resolution): entries of the watermark's second are
    // read again, but only the changed ones are written.
    assert.deepEqual([inc.added, inc.updated], [0, 2], JSON.stringify(inc));
    const renamed = await user('staff010b');
    assert.equal(renamed.username, 'staff010b');
    const ds = server.app.get(DataSource);
    const [row] = await ds.query("SELECT count(*)::int AS n FROM users WHERE username IN ('staff010', 'staff010b')");
    assert.equal(row.n, 1);
    assert.equal(renamed.jamiId, before.jamiId);
    assert.equal((await user('staff011')).firstName, 'Renamed');
  });

  test('a user gone from the directory is suspended and their devices revoked, with an audit entry', async () => {
    const e = await enrollOk(server, 'staff020', 'pw-20-secret');
    await slapd.remove(slapd.ldapUserDn('staff020'));
    const run = await syncAndWait(server, admin);
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    assert.equal(run.suspended, 1);
    const u = await user('staff020');
    assert.equal(u.status, 'suspended');
    assert.ok(
      u.devices.every((d) => d.revokedAt),
      'devices revoked',
    );
    assert.equal((await deviceLogin(server, e)).status, 401);
    const audit = await server.app
      .get(DataSource)
      .query("SELECT target FROM audit_events WHERE action = 'user.deprovisioned'");
    assert.deepEqual(audit, [{ target: 'staff020' }]);
  });

  test('the mass-deletion brake holds a sync that would suspend too many users until an admin confirms', async () => {
    for (let i = 30; i < 50; i++) await slapd.remove(slapd.ldapUserDn(`staff0${i}`));
    const run = await syncAndWait(server, admin);
    assert.equal(run.status, 'awaiting_confirmation', JSON.stringify(run));
    assert.equal(run.pendingSuspensions, 20);
    assert.equal(run.suspended, 0);
    assert.equal((await user('staff030')).status, 'active', 'nobody is suspended before confirmation');
    const confirmed = await server.request('POST', `/api/admin/directory/sync-runs/${run.id}/confirm`, {
      token: admin,
    });
    assert.equal(confirmed.status, 200, confirmed.text());
    assert.equal(confirmed.json<{ suspended: number }>().suspended, 20);
    assert.equal((await user('staff030')).status, 'suspended');
    const again = await server.request('POST', `/api/admin/directory/sync-runs/${run.id}/confirm`, { token: admin });
    assert.equal(again.status, 409);
  });

  test('the schedule follows the settings; scheduled runs are incremental between full syncs', async () => {
    const queue = server.app.get(QueueService).queue(QueueName.DirectorySync);
    await server.request('PUT', '/api/admin/directory', {
      token: admin,
      body: { ...ldapSettings(), syncIntervalMinutes: 15 },
    });
    const schedulers = await queue.getJobSchedulers();
    assert.deepEqual(
      schedulers.map((j) => [j.key, j.every]),
      [['directory-sync', 15 * 60_000]],
    );
    const sync = server.app.get(DirectorySyncService);
    const scheduled = await sync.scheduled();
    assert.equal(scheduled?.mode, 'incremental', 'the last full sync is recent');
    assert.equal(scheduled?.trigger, 'schedule');
    await server.app.get(DataSource).query("UPDATE directory_config SET last_full_sync_at = now() - interval '2 days'");
    const due = await sync.scheduled();
    assert.equal(due?.mode, 'full');
    await server.request('PUT', '/api/admin/directory', {
      token: admin,
      body: { ...ldapSettings(), syncIntervalMinutes: 0 },
    });
    assert.deepEqual(await queue.getJobSchedulers(), []);
  });

  test('slapd down mid-sync: the run fails cleanly, nobody is suspended, and the next run recovers', async () => {
    const extra = Array.from({ length: 6000 }, (_, i) => ({ uid: `bulk${i}`, password: undefined }));
    await slapd.addLdapUsers(extra);
    const res = await server.request('POST', '/api/admin/directory/sync', { token: admin, body: { mode: 'full' } });
    const id = res.json<{ id: string }>().id;
    const ds = server.app.get(DataSource);
    for (let i = 0; i < 2000; i++) {
      const [r] = await ds.query('SELECT seen, status FROM directory_sync_runs WHERE id = $1', [id]);
      if (r.seen > 0 || r.status !== 'queued') break;
      await new Promise((r2) => setTimeout(r2, 5));
    }
    await slapd.stop();
    const failed = await waitForRun(server, admin, id);
    assert.equal(failed.status, 'failed', JSON.stringify(failed));
    assert.equal(failed.suspended, 0);
    assert.match(failed.errors.join('\n'), /sync stopped/);
    const [{ n }] = await ds.query("SELECT count(*)::int AS n FROM users WHERE status = 'suspended'");
    // While the directory is down, logins are 503, never a false "wrong password".
    const down = await enroll(server, 'staff005', 'pw-5-secret', makeDevice());
    assert.equal(down.status, 503);
    assert.equal(down.json().code, 'DIRECTORY_UNAVAILABLE');
    await slapd.start();
    const next = await syncAndWait(server, admin);
    assert.equal(next.status, 'succeeded', JSON.stringify(next));
    assert.equal(next.suspended, 0);
    const [{ n: after }] = await ds.query("SELECT count(*)::int AS n FROM users WHERE status = 'suspended'");
    assert.equal(after, n);
    const [{ b }] = await ds.query("SELECT count(*)::int AS b FROM users WHERE username LIKE 'bulk%'");
    assert.equal(b, 6000);
  });
});
