import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DataSource } from 'typeorm';
import { syncAndWait } from '../support/directory';
import { deviceLogin, enroll, enrollOk, makeDevice } from '../support/jami-client';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';
import { AddedAdUser, Slapd, slapdAvailable, startSlapd } from '../support/slapd';

const unavailable = slapdAvailable();
let slapd: Slapd;
let server: TestServer;
let admin: string;
let added: AddedAdUser[];

async function user(name: string) {
  return (await server.request('GET', `/api/admin/users/${name}`, { token: admin })).json<{
    username: string;
    status: string;
    jamiId: string | null;
    devices: { revokedAt: string | null }[];
  }>();
}

describe('Active Directory', { skip: unavailable }, () => {
  before(async () => {
    slapd = await startSlapd({ tls: true, sizeLimit: 5 });
    added = await slapd.addAdUsers(
      Array.from({ length: 8 }, (_, i) => ({
        sAMAccountName: `emp${i}`,
        givenName: `Emp`,
        sn: `Number${i}`,
        mail: `emp${i}@corp.example`,
        thumbnailPhoto: Buffer.from([0xff, 0xd8, 0xff, i]),
        password: `emp${i}-Secret`,
      })),
    );
    await slapd.addGroup('ad', 'Sales', [added[0].dn, added[1].dn, added[2].dn]);
    server = await startTestServer({ ENCLAVE_LOGIN_MAX_FAILURES: '1000', ENCLAVE_KEY_POOL_SIZE: '0' });
    admin = await setUp(server);
    const res = await server.request('PUT', '/api/admin/directory', {
      token: admin,
      body: {
        type: 'ad',
        url: slapd.ldapsUrl,
        caCertPem: slapd.caPem,
        bindDn: slapd.ad.bindDn,
        bindPassword: slapd.ad.bindPassword,
        baseDn: slapd.ad.usersDn,
        groupBaseDn: slapd.ad.groupsDn,
        syncIntervalMinutes: 0,
        brakePercent: 50,
      },
    });
    assert.equal(res.status, 200, res.text());
    assert.equal(res.json<{ usernameAttribute: string }>().usernameAttribute, 'sAMAccountName');
  });
  after(async () => {
    await server?.close();
    await slapd?.destroy();
    await stopTestPostgres();
  });

  test('a full sync over ldaps keys users on objectGUID, pages past the size limit and mirrors groups', async () => {
    const run = await syncAndWait(server, admin);
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    assert.equal(run.added, 8);
    const ds = server.app.get(DataSource);
    const [row] = await ds.query(
      "SELECT external_id, source, length(photo) AS photo FROM users WHERE username = 'emp3'",
    );
    assert.equal(row.external_id, added[3].objectGUID.toString('hex'));
    assert.equal(row.source, 'ad');
    assert.equal(row.photo, 4);
    const sales = await ds.query(
      "SELECT count(*)::int AS n FROM group_members m JOIN groups g ON g.id = m.group_id WHERE g.name = 'Sales'",
    );
    assert.equal(sales[0].n, 3);
  });

  test('users log in with sAMAccountName or userPrincipalName; the enrollment answer carries their photo', async () => {
    const bySam = await enrollOk(server, 'emp1', 'emp1-Secret');
    assert.equal(bySam.answer.userPhoto, Buffer.from([0xff, 0xd8, 0xff, 1]).toString('base64'));
    const byUpn = await enroll(server, 'emp2@corp.example', 'emp2-Secret', makeDevice());
    assert.equal(byUpn.status, 200, byUpn.text());
    assert.equal((await user('emp2')).jamiId, JSON.parse(byUpn.json<{ deviceReceipt: string }>().deviceReceipt).id);
  });

  test('disabling a user (userAccountControl 0x2) suspends them and revokes their devices; enabling reactivates', async () => {
    const e = await enrollOk(server, 'emp4', 'emp4-Secret');
    await slapd.setAdDisabled('emp4', true);
    const inc = await syncAndWait(server, admin, 'incremental');
    assert.equal(inc.status, 'succeeded', JSON.stringify(inc));
    assert.equal(inc.seen, 1, 'the incremental sync reads only what changed since the last uSNChanged');
    assert.equal(inc.suspended, 1, JSON.stringify(inc));
    const u = await user('emp4');
    assert.equal(u.status, 'suspended');
    assert.ok(u.devices.every((d) => d.revokedAt));
    assert.equal((await deviceLogin(server, e)).status, 401);
    const refused = await enroll(server, 'emp4', 'emp4-Secret', makeDevice());
    assert.equal(refused.status, 403);
    assert.equal(refused.json().code, 'USER_SUSPENDED');

    await slapd.setAdDisabled('emp4', false);
    const back = await syncAndWait(server, admin, 'incremental');
    assert.equal(back.reactivated, 1, JSON.stringify(back));
    assert.equal((await user('emp4')).status, 'active');
    const again = await enrollOk(server, 'emp4', 'emp4-Secret');
    assert.notEqual(
      JSON.parse(String(again.answer.deviceReceipt)).id,
      u.jamiId,
      'a new account replaces the revoked one',
    );
  });

  test('eager provisioning pre-issues accounts for synced users and reports count, rate and ETA', async () => {
    const ds = server.app.get(DataSource);
    const missing = (
      await ds.query(
        "SELECT count(*)::int AS n FROM users u WHERE u.status = 'active' AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.user_id = u.id AND a.revoked_at IS NULL)",
      )
    )[0].n;
    assert.ok(missing >= 3);
    const start = await server.request('POST', '/api/admin/directory/provision', { token: admin });
    assert.equal(start.status, 202, start.text());
    const id = start.json<{ id: string; total: number }>().id;
    assert.equal(start.json<{ total: number }>().total, missing);
    let p = start.json<{ status: string; done: number; rate: number; etaSeconds: number | null }>();
    for (let i = 0; i < 600 && p.status !== 'succeeded' && p.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      p = (await server.request('GET', `/api/admin/directory/provisioning/${id}`, { token: admin })).json();
    }
    assert.equal(p.status, 'succeeded', JSON.stringify(p));
    assert.equal(p.done, missing);
    assert.ok(p.rate > 0);
    assert.equal(p.etaSeconds, 0);
    const [{ n }] = await ds.query("SELECT count(*)::int AS n FROM users WHERE status = 'active' AND jami_id IS NULL");
    assert.equal(n, 0);
    // The names of provisioned users resolve at once.
    assert.equal((await server.request('GET', '/api/nameserver/name/emp7')).status, 200);
  });

  test('a wrong service-account password fails the sync cleanly at the bind stage', async () => {
    await server.request('PUT', '/api/admin/directory', { token: admin, body: { type: 'ad', bindPassword: 'wrong' } });
    const run = await syncAndWait(server, admin);
    assert.equal(run.status, 'failed');
    assert.match(run.errors.join('\n'), /invalid credentials/i);
    await server.request('PUT', '/api/admin/directory', {
      token: admin,
      body: { type: 'ad', bindPassword: slapd.ad.bindPassword },
    });
  });
});
