import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { DataSource } from 'typeorm';
import { syncAndWait } from '../support/directory';
import { JamiEnv, jamidUnavailableReason, startJamiEnv } from '../support/jamid';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';
import { Slapd, slapdAvailable, startSlapd } from '../support/slapd';

after(() => stopTestPostgres());

test(
  'a directory user never created by hand enrolls a stock Jami daemon with their directory password, and disabling them in the directory revokes the device',
  { timeout: 300_000 },
  async (t) => {
    const unavailable = jamidUnavailableReason() ?? slapdAvailable();
    if (unavailable) {
      t.skip(`directory interop: ${unavailable}`);
      return;
    }
    let slapd: Slapd | undefined;
    let server: TestServer | undefined;
    let env: JamiEnv | undefined;
    try {
      slapd = await startSlapd({ tls: true });
      await slapd.addAdUsers([
        { sAMAccountName: 'dana', givenName: 'Dana', sn: 'Scully', password: 'Dana-Directory-1' },
      ]);
      server = await startTestServer({ ENCLAVE_KEY_POOL_SIZE: '0' });
      const admin = await setUp(server, {
        organization: 'Directory Corp',
        admin: { username: 'admin', password: 'directory-admin-pw' },
        ca: { mode: 'generate', algorithm: 'RSA-4096' },
      });
      const settings = await server.request('PUT', '/api/admin/directory', {
        token: admin,
        body: {
          type: 'ad',
          url: slapd.url,
          startTls: true,
          caCertPem: slapd.caPem,
          bindDn: slapd.ad.bindDn,
          bindPassword: slapd.ad.bindPassword,
          baseDn: slapd.ad.usersDn,
          syncIntervalMinutes: 0,
          brakePercent: 100,
        },
      });
      assert.equal(settings.status, 200, settings.text());
      assert.equal(
        (await server.request('GET', '/api/admin/users/dana', { token: admin })).status,
        404,
        'not created by hand',
      );

      const caPem = (await server.request('GET', '/api/ca')).text();
      env = await startJamiEnv({ serverPort: server.port, caPem, hostname: 'dana-laptop' });
      const id = await env.addJamsAccount({ username: 'dana', password: 'Dana-Directory-1' });
      assert.equal(await env.waitForRegistration(id, 60_000), 'REGISTERED', env.diagnostics());
      const dana = (await server.request('GET', '/api/admin/users/dana', { token: admin })).json<{
        source: string;
        firstName: string;
        jamiId: string;
        devices: { deviceId: string }[];
      }>();
      assert.equal(dana.source, 'ad');
      assert.equal(dana.firstName, 'Dana');
      assert.equal((await env.accountDetails(id))['Account.username'], dana.jamiId);
      assert.equal(dana.devices.length, 1);

      await slapd.setAdDisabled('dana', true);
      const run = await syncAndWait(server, admin);
      assert.equal(run.status, 'succeeded', JSON.stringify(run));
      assert.equal(run.suspended, 1);
      const after = (await server.request('GET', '/api/admin/users/dana', { token: admin })).json<{
        status: string;
        devices: { revokedAt: string | null }[];
      }>();
      assert.equal(after.status, 'suspended');
      assert.ok(after.devices[0].revokedAt);

      const dir = path.join(env.dirs.data, 'jami', id);
      const login = await server.request('POST', '/api/login', {
        body: '{}',
        cert: fs.readFileSync(path.join(dir, 'ring_device.crt'), 'utf8'),
        key: fs.readFileSync(path.join(dir, 'ring_device.key'), 'utf8'),
      });
      assert.equal(login.status, 401, 'the daemon’s device certificate is refused');
      await env.restart();
      const ds = server.app.get(DataSource);
      const end = Date.now() + 30_000;
      while ((await ds.query("SELECT 1 FROM audit_events WHERE action = 'device.login_refused'")).length === 0) {
        assert.ok(Date.now() < end, 'the restarted daemon tried to log in and was refused');
        await new Promise((r) => setTimeout(r, 200));
      }
      const deprovisioned = await ds.query("SELECT target FROM audit_events WHERE action = 'user.deprovisioned'");
      assert.deepEqual(deprovisioned, [{ target: 'dana' }]);
    } finally {
      await env?.stop();
      await server?.close();
      await slapd?.destroy();
    }
  },
);
