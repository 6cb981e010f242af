import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DataSource } from 'typeorm';
import { syncAndWait } from '../support/directory';
import { enrollOk } from '../support/jami-client';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';
import { Slapd, slapdAvailable, startSlapd } from '../support/slapd';

// Directory changes are in the audit log: settings (before/after, never the bind password), sync runs,
// users created at first directory login, provisioning runs.

const unavailable = slapdAvailable();
let slapd: Slapd;
let server: TestServer;
let token: string;
let ds: DataSource;

interface Row {
  id: string;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  request_id: string | null;
}

const rowsFor = (action: string): Promise<Row[]> =>
  ds.query('SELECT * FROM audit_events WHERE action = $1 ORDER BY audit_events.id', [action]);

async function waitForRow(action: string, timeoutMs = 60_000): Promise<Row[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const rows = await rowsFor(action);
    if (rows.length) return rows;
    if (Date.now() > end) throw new Error(`no ${action} audit row`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('audit of directory changes', { skip: unavailable }, () => {
  before(async () => {
    slapd = await startSlapd({ tls: false });
    await slapd.addLdapUsers(
      ['ann', 'ben', 'cid'].map((uid) => ({ uid, givenName: uid, sn: 'Staff', password: `${uid}-secret-pw` })),
    );
    server = await startTestServer({ ENCLAVE_LOGIN_MAX_FAILURES: '1000' });
    token = await setUp(server);
    ds = server.app.get(DataSource);
  });
  after(async () => {
    await server?.close();
    await slapd?.destroy();
    await stopTestPostgres();
  });

  test('a settings change records before and after, without the bind password', async () => {
    const res = await server.request('PUT', '/api/admin/directory', {
      token,
      headers: { 'x-request-id': 'dir-settings-1' },
      body: {
        type: 'ldap',
        url: slapd.url,
        bindDn: slapd.adminDn,
        bindPassword: slapd.adminPassword,
        baseDn: slapd.ldap.usersDn,
        syncIntervalMinutes: 0,
      },
    });
    assert.equal(res.status, 200, res.text());
    const [row] = await rowsFor('directory.settings_changed');
    assert.equal(row.actor, 'admin:admin');
    assert.equal(row.request_id, 'dir-settings-1');
    assert.equal(row.before?.type, 'local');
    assert.equal(row.before?.bindPasswordSet, false);
    assert.equal(row.after?.type, 'ldap');
    assert.equal(row.after?.url, slapd.url);
    assert.equal(row.after?.bindPasswordSet, true);
    assert.equal(row.details?.bindPasswordChanged, true);
    assert.ok(!JSON.stringify(row).includes(slapd.adminPassword), 'the bind password is not in the audit log');
  });

  test('a sync records who requested it and what it changed', async () => {
    const run = await syncAndWait(server, token);
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    const [requested] = await rowsFor('directory.sync_requested');
    assert.equal(requested.actor, 'admin:admin');
    assert.equal(requested.details?.runId, run.id);
    assert.ok(requested.request_id);
    const [finished] = await waitForRow('directory.sync_finished');
    assert.equal(finished.actor, 'system:directory-sync');
    assert.equal(finished.request_id, null, 'the worker runs outside any request');
    assert.deepEqual(
      { runId: finished.details?.runId, status: finished.details?.status, added: finished.details?.added },
      { runId: run.id, status: 'succeeded', added: 3 },
    );
  });

  test('a user created at first directory login is recorded with the new user as actor', async () => {
    await slapd.addLdapUsers([{ uid: 'newbie', givenName: 'New', sn: 'Hire', password: 'newbie-secret-pw' }]);
    await enrollOk(server, 'newbie', 'newbie-secret-pw');
    const created = (await rowsFor('user.created')).filter((r) => r.target === 'newbie');
    assert.equal(created.length, 1);
    assert.equal(created[0].actor, 'user:newbie');
    assert.equal(created[0].details?.via, 'directory-login');
    assert.equal(created[0].after?.firstName, 'New');
  });

  test('provisioning records who started it and how it ended', async () => {
    const res = await server.request('POST', '/api/admin/directory/provision', { token });
    assert.equal(res.status, 202, res.text());
    const runId = res.json<{ id: string }>().id;
    const [started] = await rowsFor('directory.provisioning_started');
    assert.equal(started.actor, 'admin:admin');
    assert.equal(started.details?.runId, runId);
    const [finished] = await waitForRow('directory.provisioning_finished', 120_000);
    assert.equal(finished.details?.runId, runId);
    assert.equal(finished.details?.status, 'succeeded');
    assert.equal(finished.details?.done, started.details?.users);

    const verify = await server.request('GET', '/api/admin/audit/verify', { token });
    assert.equal(verify.json().ok, true);
  });
});
