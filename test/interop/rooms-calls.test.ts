import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { KeyPoolService } from '../../apps/server/src/modules/ca/key-pool.service';
import { AGENT_BIN } from '../support/agent';
import {
  BusClient,
  BusSignal,
  JamiEnv,
  jamidUnavailableReason,
  LOOPBACK_POLICY,
  openBus,
  startJamiEnv,
} from '../support/jamid';
import type { ManagedProcess } from '../support/jamid/process';
import { stopTestPostgres } from '../support/postgres';
import { setUp, startTestServer, TestServer } from '../support/server';
import { waitFor as poll } from '../support/wait';

after(() => stopTestPostgres());

/** waitFor that retries a throwing check too (D-Bus calls fail while a daemon restarts). */
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number) =>
  poll(what, fn, timeoutMs, { retryErrors: true });

const AUDIO_ONLY = [{ MEDIA_TYPE: 'MEDIA_TYPE_AUDIO', ENABLED: 'true', MUTED: 'false', SOURCE: '', LABEL: 'audio_0' }];

const logLines = (p: ManagedProcess): { msg: string; [k: string]: unknown }[] =>
  p
    .output()
    .split('\n')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as { msg: string }];
      } catch {
        return [];
      }
    });

interface ConfEntry {
  uri: string;
  device: string;
  isModerator: string;
  audioModeratorMuted: string;
}

const idOf = (uri: string) => uri.replace(/@.*$/, '').replace(/^(jami|ring):/, '');

test(
  'calls: two stock jamid participants call an agent-hosted room and meet in one conference; the default moderator is moderator, mutes the other, and the reverse is refused',
  { timeout: 420_000 },
  async (t) => {
    const unavailable = jamidUnavailableReason();
    if (unavailable) {
      t.skip(`jamid interop: ${unavailable}`);
      return;
    }
    let server: TestServer | undefined;
    let env: JamiEnv | undefined;
    let hostBus: BusClient | undefined;
    let step = 'setup';
    let agentProc: ManagedProcess | undefined;
    let bobLogs: (() => string) | undefined;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-call-'));
    try {
      server = await startTestServer({ ENCLAVE_DEFAULT_POLICY: JSON.stringify(LOOPBACK_POLICY) });
      const admin = await setUp(server, {
        organization: 'Rooms Corp',
        admin: { username: 'admin', password: 'rooms-admin-pw' },
        ca: { mode: 'generate', algorithm: 'RSA-4096' },
      });
      await server.app.get(KeyPoolService).fill(3);
      for (const u of ['alice', 'bob']) {
        const r = await server.request('POST', '/api/admin/users', {
          token: admin,
          body: { username: u, password: `${u}-password` },
        });
        assert.equal(r.status, 201, r.text());
      }
      // alice moderates; she has no account yet, so she is pending until her daemon enrolls.
      const created = await server.request('POST', '/api/admin/rooms', {
        token: admin,
        body: { name: 'standup', moderators: { users: ['alice'], groups: [] } },
      });
      assert.equal(created.status, 201, created.text());
      const room = created.json<{ jamiId: string; moderators: { pending: string[] } }>();
      assert.deepEqual(room.moderators.pending, ['alice']);
      const { password } = (
        await server.request('POST', '/api/admin/rooms/standup/host-enrollment', { token: admin, body: {} })
      ).json<{ password: string }>();

      const caPem = (await server.request('GET', '/api/ca')).text();
      const caFile = path.join(work, 'ca.pem');
      fs.writeFileSync(caFile, caPem);
      env = await startJamiEnv({ serverPort: server.port, caPem, hostname: 'alice-pc', calls: true });
      const bobDaemon = await env.startDaemon('bob');
      bobLogs = () => bobDaemon.logs();

      // The room's host: enclave-agent host-room, enrolled with the secret.
      const stateDir = path.join(work, 'host');
      const agent = env.spawnInNamespace(
        'host-room',
        process.execPath,
        [
          AGENT_BIN,
          'host-room',
          '--server',
          env.managerUri,
          '--room',
          'standup',
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
      agentProc = agent;

      step = 'enroll participants';
      // The participants enroll with their own stock daemons.
      const alice = await env.addJamsAccount({ username: 'alice', password: 'alice-password' });
      const bob = await bobDaemon.addJamsAccount({ username: 'bob', password: 'bob-password' });
      assert.equal(await env.waitForRegistration(alice, 60_000), 'REGISTERED', env.diagnostics());
      assert.equal(await bobDaemon.waitForRegistration(bob, 60_000), 'REGISTERED', bobDaemon.logs().slice(-3000));
      const aliceId = (await env.accountDetails(alice))['Account.username'];
      const [bobDetails] = (await bobDaemon.bus.config('getAccountDetails', 's', [bob])) as [Record<string, string>];
      const bobId = bobDetails['Account.username'];

      await waitFor(
        'the agent to host the room',
        async () => logLines(agent).some((l) => l.msg === 'room hosted'),
        120_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${agent.tail(6000)}`);
      });
      step = 'host bus';
      hostBus = await openBus(`unix:path=${path.join(stateDir, 'bus')}`);
      const [[roomAccount]] = (await hostBus.config('getAccountList', '', [])) as [string[]];
      // alice enrolled after the room was created: the host learns her Jami ID live.
      await waitFor(
        'alice among the host’s default moderators',
        async () => {
          const [d] = (await hostBus!.config('getAccountDetails', 's', [roomAccount])) as [Record<string, string>];
          return d['Account.defaultModerators'] === aliceId;
        },
        15_000,
      );

      const connected = async (
        who: string,
        place: () => Promise<string>,
        signals: () => BusSignal[],
      ): Promise<string> => {
        const since = signals().length;
        const callId = await place();
        assert.match(callId, /\S/, `${who}: placeCallWithMedia returned no call id`);
        const started = Date.now();
        await waitFor(
          `${who}'s call to be CURRENT`,
          async () => {
            const states = signals()
              .slice(since)
              .filter((s) => s.member === 'callStateChanged' && s.args[1] === callId)
              .map((s) => String(s.args[2]));
            if (states.some((st) => st === 'FAILURE' || st === 'OVER' || st === 'HUNGUP')) {
              throw new Error(`${who}'s call ended: ${states.join(' → ')}`);
            }
            return states.includes('CURRENT');
          },
          45_000,
        );
        t.diagnostic(`${who}: call CURRENT after ${Date.now() - started} ms`);
        return callId;
      };
      step = 'alice calls';
      const aliceCall = await connected(
        'alice',
        async () =>
          (await env!.calls('placeCallWithMedia', 'ssaa{ss}', [alice, `jami:${room.jamiId}`, AUDIO_ONLY]))[0] as string,
        () => env!.signals(),
      );
      step = 'bob calls';
      const bobCall = await connected(
        'bob',
        async () =>
          (
            await bobDaemon.bus.calls('placeCallWithMedia', 'ssaa{ss}', [bob, `jami:${room.jamiId}`, AUDIO_ONLY])
          )[0] as string,
        () => bobDaemon.bus.signals,
      );

      // One conference on the host with both; alice is a moderator, bob is not.
      const infos = async (): Promise<ConfEntry[]> => {
        const [confs] = (await hostBus!.calls('getConferenceList', 's', [roomAccount])) as [string[]];
        if (confs.length !== 1) return [];
        const [list] = (await hostBus!.calls('getConferenceInfos', 'ss', [roomAccount, confs[0]])) as [ConfEntry[]];
        return list.filter((e) => e.uri);
      };
      step = 'conference infos';
      const both = await waitFor(
        'one conference with alice and bob',
        async () => {
          const list = await infos();
          return list.length === 2 ? list : undefined;
        },
        20_000,
      );
      const entry = (list: ConfEntry[], id: string) => list.find((e) => idOf(e.uri) === id)!;
      assert.deepEqual(both.map((e) => idOf(e.uri)).sort(), [aliceId, bobId].sort());
      assert.equal(entry(both, aliceId).isModerator, 'true');
      assert.equal(entry(both, bobId).isModerator, 'false');
      assert.equal(entry(both, bobId).audioModeratorMuted, 'false');

      step = 'server status';
      // The server shows it, from the agent's report.
      const shown = await waitFor(
        'the conference on the server',
        async () => {
          const r = (await server!.request('GET', '/api/admin/rooms/standup', { token: admin })).json<{
            host: { online: boolean; conference: { participants: { name: string; moderator: boolean }[] } | null };
          }>();
          return r.host.conference?.participants.length === 2 ? r.host : undefined;
        },
        15_000,
      );
      assert.equal(shown.online, true);
      assert.deepEqual(shown.conference!.participants.map((p) => [p.name, p.moderator]).sort(), [
        ['alice', true],
        ['bob', false],
      ]);

      step = 'bob mutes alice';
      // bob (not a moderator) tries to mute alice: refused, nothing changes.
      await bobDaemon.bus.calls('muteParticipant', 'sssb', [bob, bobCall, aliceId, true]);
      step = 'alice mutes bob';
      // alice (moderator) mutes bob: it takes effect.
      await env.calls('muteParticipant', 'sssb', [alice, aliceCall, bobId, true]);
      const muted = await waitFor(
        'bob muted by the moderator',
        async () => {
          const list = await infos();
          return entry(list, bobId)?.audioModeratorMuted === 'true' ? list : undefined;
        },
        10_000,
      );
      assert.equal(entry(muted, aliceId).audioModeratorMuted, 'false', 'the non-moderator’s mute was refused');
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(entry(await infos(), aliceId).audioModeratorMuted, 'false');

      // Teardown of the participants' calls. Debian's jamid 13.7 sometimes leaves the bus while hanging up a
      // conference call (D-Bus NoReply, seen once in a CI run after every assertion above had passed): that is
      // the participant daemon's crash on its way out, not the room's behaviour, so it is reported, not failed.
      step = 'hang up';
      for (const [who, hangUp] of [
        ['alice', () => env!.calls('hangUp', 'ss', [alice, aliceCall])],
        ['bob', () => bobDaemon.bus.calls('hangUp', 'ss', [bob, bobCall])],
      ] as const) {
        try {
          await hangUp();
        } catch (err) {
          if (!/NoReply/.test((err as Error).message)) throw err;
          t.diagnostic(`${who}'s jamid left the bus while hanging up: ${(err as Error).message}`);
        }
      }
      // The host itself must still be alive and stop cleanly.
      step = 'host stop';
      const stopped = await agent.stop(30_000);
      assert.equal(stopped.code, 0, agent.tail(3000));
    } catch (err) {
      // Which step, and what each daemon said last (a daemon that dies mid-call shows up as NoReply).
      throw new Error(
        `${(err as Error).message}\nstep: ${step}\n---- host-room ----\n${agentProc?.tail(3000) ?? ''}\n` +
          `---- bob's jamid ----\n${bobLogs?.().slice(-3000) ?? ''}\n${env?.diagnostics(3000) ?? ''}`,
      );
    } finally {
      await hostBus?.close();
      await env?.stop();
      await server?.close();
      fs.rmSync(work, { recursive: true, force: true });
    }
  },
);
