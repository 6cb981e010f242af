import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { DataSource } from 'typeorm';
import { KeyPoolService } from '../../apps/server/src/modules/ca/key-pool.service';
import { enrollOk } from '../support/jami-client';
import { JamiEnv, jamidUnavailableReason, startJamiEnv } from '../support/jamid';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';
import { waitFor } from '../support/wait';

after(() => stopTestPostgres());

test(
  'a stock Jami daemon enrolls against Enclave, reaches REGISTERED, resolves a colleague by name, and is refused once revoked; a wrong password creates nothing',
  { timeout: 300_000 },
  async (t) => {
    const unavailable = jamidUnavailableReason();
    if (unavailable) {
      t.skip(`jamid interop: ${unavailable}`);
      return;
    }
    let server: TestServer | undefined;
    let env: JamiEnv | undefined;
    try {
      server = await startTestServer({
        ENCLAVE_DEFAULT_POLICY: JSON.stringify({ 'Account.allowCertFromHistory': false }),
      });
      const admin = await setUp(server, {
        organization: 'Interop Corp',
        admin: { username: 'admin', password: 'interop-admin-pw' },
        ca: { mode: 'generate', algorithm: 'RSA-4096' },
      });
      for (const [u, first] of [
        ['alice', 'Alice'],
        ['bob', 'Bob'],
        ['carol', 'Carol'],
      ]) {
        const r = await server.request('POST', '/api/admin/users', {
          token: admin,
          body: { username: u, password: `${u}-password`, firstName: first },
        });
        assert.equal(r.status, 201);
      }
      await server.app.get(KeyPoolService).fill(2);
      // The colleague enrolls with the TypeScript client, so the name server knows him.
      const bob = await enrollOk(server, 'bob', 'bob-password');
      const bobJamiId = JSON.parse(String(bob.answer.deviceReceipt)).id as string;

      const caPem = (await server.request('GET', '/api/ca')).text();
      env = await startJamiEnv({ serverPort: server.port, caPem, hostname: 'alice-laptop' });
      const id = await env.addJamsAccount({ username: 'alice', password: 'alice-password' });
      const outcome = await env.waitForRegistration(id, 60_000);
      assert.equal(outcome, 'REGISTERED', env.diagnostics());

      const details = await env.accountDetails(id);
      const aliceProfile = (await server.request('GET', '/api/admin/users/alice', { token: admin })).json<{
        jamiId: string;
        devices: { deviceId: string; name: string }[];
      }>();
      assert.equal(details['Account.username'], aliceProfile.jamiId, 'the daemon uses the Jami ID Enclave issued');
      assert.equal(details['Account.allowCertFromHistory'], 'false', 'the organization policy was applied');
      assert.equal(details['RingNS.uri'], `https://127.0.0.1:${server.port}/api/nameserver`);
      const volatile = await waitFor('device announce', async () => {
        const v = await env!.volatileDetails(id);
        return v['Account.deviceAnnounced'] === 'true' ? v : undefined;
      });
      assert.equal(volatile['Account.registeredName'], 'alice');
      const deviceId = volatile['Account.deviceID'];
      assert.deepEqual(
        aliceProfile.devices.map((d) => [d.deviceId, d.name]),
        [[deviceId, 'alice-laptop']],
      );

      // After the announce the daemon logs in with its device certificate (mTLS) and syncs.
      const ds = server.app.get(DataSource);
      await waitFor('a DEVICE token for the daemon', async () => {
        const rows = await ds.query("SELECT 1 FROM access_tokens WHERE scope = 'DEVICE' AND device_id = $1", [
          deviceId,
        ]);
        return rows.length > 0;
      });

      const lookup = await env.lookupName(id, 'bob');
      assert.equal(lookup.status, 0, JSON.stringify(lookup));
      assert.equal(lookup.address, bobJamiId);
      const missing = await env.lookupName(id, 'nobody-here');
      assert.equal(missing.status, 2, 'an unknown name is "not found"');

      // The admin revokes the laptop: its certificate no longer logs in.
      const revoked = await server.request('DELETE', `/api/admin/users/alice/devices/${deviceId}`, { token: admin });
      assert.equal(revoked.status, 200, revoked.text());
      const accountDir = path.join(env.dirs.data, 'jami', id);
      const cert = fs.readFileSync(path.join(accountDir, 'ring_device.crt'), 'utf8');
      const key = fs.readFileSync(path.join(accountDir, 'ring_device.key'), 'utf8');
      const login = await server.request('POST', '/api/login', { body: '{}', cert, key });
      assert.equal(login.status, 401, 'the daemon’s own certificate and key are refused');
      // The daemon itself logs in again at its next start, and is refused.
      await env.restart();
      await waitFor(
        'the daemon’s refused login',
        async () => (await ds.query("SELECT 1 FROM audit_events WHERE action = 'device.login_refused'")).length > 0,
        30_000,
      );

      // A wrong password: the daemon reports an error, drops the account, and the server has nothing new.
      const before = (await ds.query('SELECT count(*)::int AS n FROM devices'))[0].n;
      const bad = await env.addJamsAccount({ username: 'carol', password: 'not-carols-password' });
      assert.equal(await env.waitForRegistration(bad, 30_000), 'ERROR_GENERIC', env.diagnostics());
      assert.ok(await env.waitForAccountRemoved(bad, 10_000));
      const carol = (await server.request('GET', '/api/admin/users/carol', { token: admin })).json<{
        jamiId: string | null;
        devices: unknown[];
      }>();
      assert.equal(carol.jamiId, null);
      assert.deepEqual(carol.devices, []);
      assert.equal((await ds.query('SELECT count(*)::int AS n FROM devices'))[0].n, before);
    } finally {
      await env?.stop();
      await server?.close();
    }
  },
);
