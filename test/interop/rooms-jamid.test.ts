import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { DataSource } from 'typeorm';
import { KeyPoolService } from '../../apps/server/src/modules/ca/key-pool.service';
import { enrollOk } from '../support/jami-client';
import { JamiEnv, jamidUnavailableReason, startJamiEnv } from '../support/jamid';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';
import { waitFor } from '../support/wait';

after(() => stopTestPostgres());

const sorted = (ids: string[]) => [...ids].sort();

test(
  'a stock jamid enrolls as a room host with the one-time secret: rendezvous on, exactly the moderators, all-moderators off; the secret works once, the name resolves; a members-only room syncs exactly its members as contacts',
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
      server = await startTestServer();
      const admin = await setUp(server, {
        organization: 'Rooms Corp',
        admin: { username: 'admin', password: 'rooms-admin-pw' },
        ca: { mode: 'generate', algorithm: 'RSA-4096' },
      });
      const ds = server.app.get(DataSource);
      await server.app.get(KeyPoolService).fill(5);
      const ids: Record<string, string> = {};
      for (const u of ['alice', 'bob', 'carol', 'erin']) {
        const r = await server.request('POST', '/api/admin/users', {
          token: admin,
          body: { username: u, password: `${u}-password` },
        });
        assert.equal(r.status, 201, r.text());
        const e = await enrollOk(server, u, `${u}-password`);
        ids[u] = JSON.parse(String(e.answer.deviceReceipt)).id as string;
      }
      const [{ id: groupId }] = await ds.query(`INSERT INTO groups (name) VALUES ('facilitators') RETURNING id`);
      await ds.query(`INSERT INTO group_members (group_id, user_id) SELECT $1, id FROM users WHERE username = 'bob'`, [
        groupId,
      ]);

      // (1) A room moderated by alice and the facilitators group (bob).
      const created = await server.request('POST', '/api/admin/rooms', {
        token: admin,
        body: { name: 'room-101', displayName: 'Room 101', moderators: { users: ['alice'], groups: ['facilitators'] } },
      });
      assert.equal(created.status, 201, created.text());
      const roomJamiId = created.json<{ jamiId: string }>().jamiId;
      const secret = (
        await server.request('POST', '/api/admin/rooms/room-101/host-enrollment', { token: admin, body: {} })
      ).json<{ username: string; password: string }>();

      const caPem = (await server.request('GET', '/api/ca')).text();
      env = await startJamiEnv({ serverPort: server.port, caPem, hostname: 'room-101-pc' });
      const host = await env.addJamsAccount({ username: secret.username, password: secret.password });
      assert.equal(await env.waitForRegistration(host, 60_000), 'REGISTERED', env.diagnostics());

      const details = await env.accountDetails(host);
      assert.equal(details['Account.username'], roomJamiId, 'the host runs the room account Enclave issued');
      assert.equal(details['Account.rendezVous'], 'true');
      assert.deepEqual(
        sorted(details['Account.defaultModerators'].split('/').filter(Boolean)),
        sorted([ids.alice, ids.bob]),
      );
      const allModerators = details['Account.allModeratorEnabled'] ?? details['Account.allModeratorsEnabled'];
      assert.equal(allModerators, 'false', JSON.stringify(details));
      assert.equal(details['Account.localModeratorsEnabled'], 'false');
      const volatile = await waitFor('the host announced', async () => {
        const v = await env!.volatileDetails(host);
        return v['Account.deviceAnnounced'] === 'true' ? v : undefined;
      });
      assert.equal(volatile['Account.registeredName'], 'room-101');
      const room = (await server.request('GET', '/api/admin/rooms/room-101', { token: admin })).json<{
        host: { deviceId: string; deviceName: string; secretUsed: boolean };
      }>();
      assert.equal(room.host.deviceId, volatile['Account.deviceID']);
      assert.equal(room.host.deviceName, 'room-101-pc');
      assert.equal(room.host.secretUsed, true);

      // The name resolves for clients, through the daemon's own name-server lookup.
      const lookup = await env.lookupName(host, 'room-101');
      assert.equal(lookup.status, 0, JSON.stringify(lookup));
      assert.equal(lookup.address, roomJamiId);

      // The secret works once: a second daemon account with it is refused and dropped.
      const second = await env.addJamsAccount({ username: secret.username, password: secret.password });
      assert.equal(await env.waitForRegistration(second, 30_000), 'ERROR_GENERIC', env.diagnostics());
      assert.ok(await env.waitForAccountRemoved(second, 10_000));

      // (2) A members-only room: its host's contact sync answers exactly the members (carol, bob).
      const board = await server.request('POST', '/api/admin/rooms', {
        token: admin,
        body: {
          name: 'board-room',
          moderators: { users: ['alice'], groups: [] },
          members: { users: ['carol'], groups: ['facilitators'] },
        },
      });
      assert.equal(board.status, 201, board.text());
      const boardSecret = (
        await server.request('POST', '/api/admin/rooms/board-room/host-enrollment', { token: admin, body: {} })
      ).json<{ username: string; password: string }>();
      const boardHost = await env.addJamsAccount({ username: boardSecret.username, password: boardSecret.password });
      assert.equal(await env.waitForRegistration(boardHost, 60_000), 'REGISTERED', env.diagnostics());
      const boardDetails = await env.accountDetails(boardHost);
      assert.equal(boardDetails['DHT.PublicInCalls'], 'false', 'calls from non-contacts are off');
      const contacts = await waitFor('the members as the host’s contacts', async () => {
        const [list] = (await env!.call('getContacts', 's', [boardHost])) as [Record<string, string>[]];
        return list.length >= 2 ? list : undefined;
      });
      assert.deepEqual(sorted(contacts.map((c) => c.id)), sorted([ids.bob, ids.carol]), JSON.stringify(contacts));
      assert.ok(!contacts.some((c) => c.id === ids.erin || c.id === ids.alice));
    } finally {
      await env?.stop();
      await server?.close();
    }
  },
);
