import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { KeyPoolService } from '../../apps/server/src/modules/ca/key-pool.service';
import { AGENT_BIN } from '../support/agent';
import { enrollOk } from '../support/jami-client';
import { BusClient, JamiEnv, jamidUnavailableReason, LOOPBACK_POLICY, openBus, startJamiEnv } from '../support/jamid';
import type { ManagedProcess } from '../support/jamid/process';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';
import { waitFor as poll } from '../support/wait';

after(() => stopTestPostgres());

/** waitFor that retries a throwing check too (D-Bus calls fail while a daemon restarts). */
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number) =>
  poll(what, fn, timeoutMs, { retryErrors: true });

interface LogLine {
  msg: string;
  [k: string]: unknown;
}

const logLines = (p: ManagedProcess): LogLine[] =>
  p
    .output()
    .split('\n')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as LogLine];
      } catch {
        return [];
      }
    });

test(
  'enclave-agent host-room hosts a room with the stock jamid: enrolls with the secret, applies an added moderator live within 10 s without a restart, the server shows the host online; members apply live; a crashed daemon is restarted; a used secret is refused',
  { timeout: 300_000 },
  async (t) => {
    const unavailable = jamidUnavailableReason();
    if (unavailable) {
      t.skip(`jamid interop: ${unavailable}`);
      return;
    }
    let server: TestServer | undefined;
    let env: JamiEnv | undefined;
    let bus: BusClient | undefined;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-room-'));
    try {
      server = await startTestServer({ ENCLAVE_DEFAULT_POLICY: JSON.stringify(LOOPBACK_POLICY) });
      const admin = await setUp(server, {
        organization: 'Rooms Corp',
        admin: { username: 'admin', password: 'rooms-admin-pw' },
        ca: { mode: 'generate', algorithm: 'RSA-4096' },
      });
      await server.app.get(KeyPoolService).fill(3);
      const ids: Record<string, string> = {};
      for (const u of ['alice', 'carol']) {
        const r = await server.request('POST', '/api/admin/users', {
          token: admin,
          body: { username: u, password: `${u}-password` },
        });
        assert.equal(r.status, 201, r.text());
        const e = await enrollOk(server, u, `${u}-password`);
        ids[u] = JSON.parse(String(e.answer.deviceReceipt)).id as string;
      }
      const created = await server.request('POST', '/api/admin/rooms', {
        token: admin,
        body: { name: 'huddle', displayName: 'Huddle room', moderators: { users: ['alice'], groups: [] } },
      });
      assert.equal(created.status, 201, created.text());
      const roomJamiId = created.json<{ jamiId: string }>().jamiId;
      const { password } = (
        await server.request('POST', '/api/admin/rooms/huddle/host-enrollment', { token: admin, body: {} })
      ).json<{ password: string }>();

      const caPem = (await server.request('GET', '/api/ca')).text();
      const caFile = path.join(work, 'ca.pem');
      fs.writeFileSync(caFile, caPem);
      const stateDir = path.join(work, 'host');
      env = await startJamiEnv({ serverPort: server.port, hostname: 'huddle-pc', startJamid: false });
      const agent = env.spawnInNamespace(
        'host-room',
        process.execPath,
        [
          AGENT_BIN,
          'host-room',
          '--server',
          env.managerUri,
          '--room',
          'huddle',
          '--secret-stdin',
          '--state',
          stateDir,
          '--ca',
          caFile,
          '--bootstrap',
          env.dhtAddress,
        ],
        { stdin: true },
      );
      agent.child.stdin!.end(`${password}\n`);
      const hosted = await waitFor(
        'the agent to host the room',
        async () => logLines(agent).find((l) => l.msg === 'room hosted'),
        120_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${agent.tail(6000)}`);
      });
      assert.equal(hosted.jamiId, roomJamiId);

      // The agent's daemon, seen on its private bus.
      bus = await openBus(`unix:path=${path.join(stateDir, 'bus')}`);
      const [[accountId]] = (await bus.config('getAccountList', '', [])) as [string[]];
      const details = async () =>
        ((await bus!.config('getAccountDetails', 's', [accountId])) as [Record<string, string>])[0];
      const first = await details();
      assert.equal(first['Account.rendezVous'], 'true');
      assert.equal(first['Account.defaultModerators'], ids.alice);
      assert.equal(first['Account.managerUsername'], 'huddle');

      // Online on the server, with the daemon's version.
      const online = await waitFor(
        'the host online on the server',
        async () => {
          const r = (await server!.request('GET', '/api/admin/rooms/huddle', { token: admin })).json<{
            host: { online: boolean; daemonVersion: string | null; conference: unknown };
          }>();
          return r.host.online ? r.host : undefined;
        },
        20_000,
      );
      assert.match(String(online.daemonVersion), /^Jami Daemon \d+\.\d+/);
      assert.equal(online.conference, null);

      // The admin adds carol: the daemon shows her within 10 s, same jamid process.
      const jamidStarts = logLines(agent).filter((l) => l.msg === 'jamid started').length;
      const changedAt = Date.now();
      const patched = await server.request('PATCH', '/api/admin/rooms/huddle', {
        token: admin,
        body: { moderators: { users: ['alice', 'carol'], groups: [] } },
      });
      assert.equal(patched.status, 200, patched.text());
      const after = await waitFor(
        'carol among the daemon’s default moderators',
        async () => {
          const d = await details();
          return d['Account.defaultModerators'].split('/').includes(ids.carol) ? d : undefined;
        },
        10_000,
      );
      t.diagnostic(`moderator applied ${Date.now() - changedAt} ms after the admin's change`);
      assert.deepEqual(after['Account.defaultModerators'].split('/').sort(), [ids.alice, ids.carol].sort());
      assert.equal(logLines(agent).filter((l) => l.msg === 'jamid started').length, jamidStarts, 'no restart');
      // setAccountDetails re-registers the account on the DHT (briefly TRYING); nothing restarts.
      await waitFor(
        'the account registered again',
        async () =>
          ((await bus!.config('getVolatileAccountDetails', 's', [accountId])) as [Record<string, string>])[0][
            'Account.registrationStatus'
          ] === 'REGISTERED',
        10_000,
      );
      // Only the change was applied (the agent does not re-apply settings that already match).
      const applied = logLines(agent).filter((l) => l.msg === 'room settings applied');
      assert.equal(applied.length, 1, JSON.stringify(applied));

      // Members: the admin limits the room to carol; the daemon gets her as its only contact and stops
      // taking calls from non-contacts, live.
      const limited = await server.request('PATCH', '/api/admin/rooms/huddle', {
        token: admin,
        body: { members: { users: ['carol'], groups: [] } },
      });
      assert.equal(limited.status, 200, limited.text());
      await waitFor(
        'carol as the room’s only contact, calls from others off',
        async () => {
          const [contacts] = (await bus!.config('getContacts', 's', [accountId])) as [Record<string, string>[]];
          const d = await details();
          return contacts.length === 1 && contacts[0].id === ids.carol && d['DHT.PublicInCalls'] === 'false';
        },
        10_000,
      );

      // The daemon crashes: the agent starts it again (same account, no secret) and hosts the room again.
      const pid = Number(logLines(agent).find((l) => l.msg === 'jamid started')?.pid);
      assert.ok(pid > 0);
      await bus.close();
      process.kill(pid, 'SIGKILL');
      await waitFor(
        'the room hosted again after a restart',
        async () =>
          logLines(agent).filter((l) => l.msg === 'room hosted').length === 2 &&
          logLines(agent).some((l) => l.msg === 'restarting jamid'),
        60_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${agent.tail(4000)}`);
      });
      const restarted = logLines(agent).filter((l) => l.msg === 'jamid started');
      assert.equal(restarted.length, 2);
      assert.notEqual(restarted[1].pid, pid);
      assert.equal(logLines(agent).filter((l) => l.msg === 'room enrolled').length, 1, 'enrolled once');
      bus = await openBus(`unix:path=${path.join(stateDir, 'bus')}`);
      const [[sameAccount]] = (await bus.config('getAccountList', '', [])) as [string[]];
      assert.equal(sameAccount, accountId);

      // SIGTERM: a clean stop.
      await bus.close();
      bus = undefined;
      const stopped = await agent.stop(30_000);
      assert.equal(stopped.code, 0, agent.tail(3000));
      assert.ok(logLines(agent).some((l) => l.msg === 'room host stopped'));

      // The secret was used: another host with it is refused (exit code 4) and says what to do.
      const second = env.spawnInNamespace(
        'host-room-2',
        process.execPath,
        [
          AGENT_BIN,
          'host-room',
          '--server',
          env.managerUri,
          '--room',
          'huddle',
          '--secret-stdin',
          '--state',
          path.join(work, 'host-2'),
          '--ca',
          caFile,
          '--bootstrap',
          env.dhtAddress,
        ],
        { stdin: true },
      );
      second.child.stdin!.end(`${password}\n`);
      const refused = await second.exited;
      assert.equal(refused.code, 4, second.tail(3000));
      assert.match(second.output(), /refused the room "huddle" with this secret/);
      assert.match(second.output(), /host-enrollment/);
    } finally {
      await bus?.close();
      await env?.stop();
      await server?.close();
      fs.rmSync(work, { recursive: true, force: true });
    }
  },
);
