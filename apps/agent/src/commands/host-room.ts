import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { JamsClient, JamsError, JamsErrorCode } from '@enclave/core';
import { AgentError, ExitCode, toAgentError } from '../agent.errors';
import { Context, integerOption } from '../context';
import { jsonLogger, LogLevel } from '../json-log';
import { daemonVersion, INSTALL_HINT, JAMID_PATH, JamiSession, missingPrerequisites } from './host-room-daemon';

/** How often the host asks the server for the room's keys and members (an admin's change shows within it). */
const DEFAULT_POLL_SECONDS = 2;
/** A status report at least this often, even when nothing changed (the server shows "online" for 30 s). */
const REPORT_EVERY_MS = 10_000;
const ENROLL_TIMEOUT_MS = 120_000;
const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;
/** A session that ran this long resets the backoff. */
const STABLE_AFTER_MS = 60_000;

interface HostState {
  version: 1;
  server: string;
  room: string;
  /** jamid's local account id (16 hex). */
  accountId: string;
}

interface Participant {
  jamiId: string;
  device: string;
  moderator: boolean;
  muted: boolean;
}

type Policy = Record<string, string | number | boolean>;

const JAMI_ID = /^[0-9a-f]{40}$/;

/** "hex@ring.dht", "jami:hex", "ring:hex" → hex. */
function jamiIdOf(uri: string): string {
  return uri
    .replace(/^(jami|ring):/, '')
    .replace(/@.*$/, '')
    .toLowerCase();
}

function readSecret(ctx: Context): string {
  const line = ctx.stdinLines?.[0] ?? (process.stdin.isTTY ? '' : fs.readFileSync(0, 'utf8').split(/\r?\n/)[0]);
  if (!line) throw new AgentError(ExitCode.USAGE, '--secret-stdin: no secret on standard input');
  return line.trim();
}

/**
 * `host-room --server URL --room NAME --secret-stdin [--state DIR]`: runs the Jami daemon headless as the
 * room's host. First start: enrolls the room account through Enclave with the one-time secret (the daemon's
 * own JAMS enrollment). Then: keeps the daemon running (restarted with backoff), polls the server with the
 * host device's token and applies moderator and member changes live through D-Bus, and reports the host's
 * status (daemon version, conference, participants, moderators). Clean stop on SIGTERM/SIGINT.
 */
export async function hostRoomCommand(ctx: Context): Promise<ExitCode> {
  const o = ctx.options;
  const room = o.room?.trim().toLowerCase();
  if (!o.server || !room) throw new AgentError(ExitCode.USAGE, 'host-room needs --server URL and --room NAME');
  const level = (o['log-level'] ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    throw new AgentError(ExitCode.USAGE, '--log-level is debug, info, warn or error');
  }
  const pollMs = (integerOption(ctx, 'poll-interval', 1, 3600) ?? DEFAULT_POLL_SECONDS) * 1000;
  const jamid = ctx.env.ENCLAVE_AGENT_JAMID || JAMID_PATH;
  const missing = missingPrerequisites(jamid);
  if (missing.length) {
    throw new AgentError(
      ExitCode.JAMI_DAEMON_MISSING,
      `cannot host a room here: missing ${missing.join(', ')}`,
      INSTALL_HINT,
    );
  }
  const stateDir = path.resolve(o.state ?? path.join(ctx.store.dir, 'rooms', room));
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const stateFile = path.join(stateDir, 'host-room.json');
  let state: HostState | undefined = fs.existsSync(stateFile)
    ? (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as HostState)
    : undefined;
  if (state && (state.room !== room || state.server !== o.server)) {
    throw new AgentError(
      ExitCode.STATE,
      `${stateDir} hosts room "${state.room}" on ${state.server}`,
      'use another --state directory for another room',
    );
  }
  const secret = state ? undefined : o['secret-stdin'] ? readSecret(ctx) : undefined;
  if (!state && !secret) {
    throw new AgentError(ExitCode.USAGE, 'the first start enrolls the room: pass its host secret with --secret-stdin');
  }
  let ca: string | undefined;
  if (o.ca) {
    try {
      ca = fs.readFileSync(o.ca, 'utf8');
    } catch (err) {
      throw new AgentError(ExitCode.USAGE, `--ca: ${(err as Error).message}`);
    }
  }

  const log = jsonLogger(ctx.stdout, level);
  const version = daemonVersion(jamid);
  let session: JamiSession | undefined;
  let stopping = false;
  let stopReason = '';
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      wake = () => {
        clearTimeout(t);
        r();
      };
    });
  const onSignal = (sig: string) => {
    if (stopping) return;
    stopping = true;
    stopReason = sig;
    log('info', 'host stopping', { reason: sig });
    wake?.();
    void session?.stop();
  };
  const onTerm = () => onSignal('SIGTERM');
  const onInt = () => onSignal('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);

  const server = new RoomServer(o.server, ca);
  let backoff = BACKOFF_MIN_MS;
  let exit: ExitCode = ExitCode.OK;
  try {
    log('info', 'room host starting', { room, server: o.server, stateDir, daemonVersion: version });
    while (!stopping) {
      const started = Date.now();
      session = new JamiSession({
        stateDir,
        jamid,
        caFile: o.ca ? path.resolve(o.ca) : undefined,
        log,
      });
      try {
        await session.start();
        log('info', 'jamid started', { daemonVersion: version, pid: session.jamidPid });
        if (!state) {
          const accountId = await enrollRoom(session, {
            server: o.server,
            room,
            secret: secret!,
            bootstrap: o.bootstrap,
          });
          state = { version: 1, server: o.server, room, accountId };
          fs.writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
          log('info', 'room enrolled', { room, accountId });
        }
        server.useIdentity(session, state.accountId);
        await hostLoop(session, server, state.accountId, { pollMs, version, log, stopped: () => stopping });
      } catch (err) {
        if (stopping) break;
        const e = toAgentError(err);
        if (
          err instanceof AgentError ||
          e.exitCode === ExitCode.DEVICE_REVOKED ||
          e.exitCode === ExitCode.CREDENTIALS_REJECTED ||
          e.exitCode === ExitCode.TLS_UNTRUSTED
        ) {
          exit = e.exitCode;
          log('error', 'room host stopped', { error: e.message, exitCode: e.exitCode });
          await session.stop();
          throw e;
        }
        log('warn', 'daemon session failed', { error: e.message });
      }
      await session.stop();
      if (stopping) break;
      backoff = Date.now() - started > STABLE_AFTER_MS ? BACKOFF_MIN_MS : backoff;
      log('info', 'restarting jamid', { inMs: backoff });
      await sleep(backoff);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
    log('info', 'room host stopped', { reason: stopReason });
    return exit;
  } finally {
    process.removeListener('SIGTERM', onTerm);
    process.removeListener('SIGINT', onInt);
  }
}

/** addAccount with the room's JAMS credentials; waits until the daemon is REGISTERED (or refused). */
async function enrollRoom(
  session: JamiSession,
  o: { server: string; room: string; secret: string; bootstrap?: string },
): Promise<string> {
  const details: Record<string, string> = {
    'Account.type': 'RING',
    'Account.alias': o.room,
    'Account.managerUri': o.server.replace(/\/+$/, ''),
    'Account.managerUsername': o.room,
    'Account.archivePassword': o.secret,
  };
  if (o.bootstrap) details['Account.hostname'] = o.bootstrap.replace(/,/g, ';');
  const [id] = (await session.config('addAccount', 'a{ss}', [details])) as [string];
  const deadline = Date.now() + ENROLL_TIMEOUT_MS;
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const [accounts] = (await session.config('getAccountList', '', [])) as [string[]];
    if (!accounts.includes(id)) {
      throw new AgentError(
        ExitCode.CREDENTIALS_REJECTED,
        `the server refused the room "${o.room}" with this secret (wrong, already used or expired)`,
        'issue a new one: POST /api/admin/rooms/{name}/host-enrollment',
      );
    }
    const [v] = (await session.config('getVolatileAccountDetails', 's', [id])) as [Record<string, string>];
    const status = v['Account.registrationStatus'];
    if (status === 'REGISTERED') return id;
    if (status === 'ERROR_NEED_MIGRATION' || status === 'ERROR_AUTH') {
      throw new AgentError(ExitCode.CREDENTIALS_REJECTED, `the room enrollment failed (${status})`);
    }
    if (Date.now() > deadline) {
      throw new AgentError(
        ExitCode.SERVER_UNREACHABLE,
        `the daemon did not register the room within ${ENROLL_TIMEOUT_MS / 1000} s (state ${status})`,
        `jamid: ${session.tail('jamid').slice(-500)}`,
      );
    }
  }
}

/** Polls the server, applies the room's keys and members to the daemon, reports status; returns on stop. */
async function hostLoop(
  session: JamiSession,
  server: RoomServer,
  accountId: string,
  o: {
    pollMs: number;
    version: string;
    log: ReturnType<typeof jsonLogger>;
    stopped: () => boolean;
  },
): Promise<void> {
  let lastMembers = '';
  let lastReport = '';
  let lastReportAt = 0;
  let announced = false;
  const ended = session.ended.then((why) => {
    throw new Error(why);
  });
  ended.catch(() => undefined);
  while (!o.stopped()) {
    const policy = await server.policy();
    const [details] = (await session.config('getAccountDetails', 's', [accountId])) as [Record<string, string>];
    const changes: Record<string, string> = {};
    for (const [key, value] of Object.entries(policy)) {
      if (key in details && details[key] !== String(value)) changes[key] = String(value);
    }
    if (Object.keys(changes).length) {
      await session.config('setAccountDetails', 'sa{ss}', [accountId, { ...details, ...changes }]);
      o.log('info', 'room settings applied', { changes });
    }
    if (!announced) {
      announced = true;
      o.log('info', 'room hosted', { accountId, jamiId: details['Account.username'] });
    }

    const members = (await server.contacts()).sort();
    if (members.join() !== lastMembers) {
      const [list] = (await session.config('getContacts', 's', [accountId])) as [Record<string, string>[]];
      const current = new Set(list.map((c) => c.id).filter((id) => JAMI_ID.test(id ?? '')));
      const added = members.filter((m) => !current.has(m));
      const removed = [...current].filter((c) => !members.includes(c));
      for (const uri of added) await session.config('addContact', 'ss', [accountId, uri]);
      for (const uri of removed) await session.config('removeContact', 'ssb', [accountId, uri, false]);
      if (added.length || removed.length) o.log('info', 'room members applied', { added, removed });
      lastMembers = members.join();
    }

    const conference = await conferenceOf(session, accountId);
    const report = JSON.stringify({ daemonVersion: o.version, conference });
    if (report !== lastReport || Date.now() - lastReportAt > REPORT_EVERY_MS) {
      await server.report({ daemonVersion: o.version, conference });
      if (report !== lastReport) o.log('info', 'host status reported', { conference });
      lastReport = report;
      lastReportAt = Date.now();
    }
    await Promise.race([new Promise((r) => setTimeout(r, o.pollMs)), ended]);
  }
}

/** The conference in progress on the room's account, as the daemon describes it. */
async function conferenceOf(
  session: JamiSession,
  accountId: string,
): Promise<{ id: string; participants: Participant[] } | null> {
  const [ids] = (await session.calls('getConferenceList', 's', [accountId])) as [string[]];
  if (!ids.length) return null;
  const id = ids[0];
  const [infos] = (await session.calls('getConferenceInfos', 'ss', [accountId, id])) as [Record<string, string>[]];
  const participants = infos
    .filter((i) => i.uri)
    .map((i) => ({
      jamiId: jamiIdOf(i.uri),
      device: (i.device ?? '').slice(0, 64),
      moderator: i.isModerator === 'true',
      muted: i.audioModeratorMuted === 'true',
    }))
    .filter((p) => JAMI_ID.test(p.jamiId));
  return { id: id.slice(0, 64), participants };
}

/** The server as the room's host sees it: the host device's DEVICE token, policy, members, status. */
class RoomServer {
  private client: JamsClient | undefined;
  private token: string | undefined;
  /** The CAs trusted for the server's HTTPS certificate: --ca and the organization CA. */
  private trusted: string | undefined;

  constructor(
    private readonly url: string,
    private readonly ca: string | undefined,
  ) {}

  /** The daemon's own device certificate and key authenticate the agent (mTLS login). */
  useIdentity(session: JamiSession, accountId: string): void {
    const dir = path.join(session.dirs.data, 'jami', accountId);
    const chainPem = fs.readFileSync(path.join(dir, 'ring_device.crt'), 'utf8');
    const keyPem = fs.readFileSync(path.join(dir, 'ring_device.key'), 'utf8');
    const orgCa = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\s*/g)?.at(-1) ?? '';
    this.trusted = [this.ca, orgCa].filter(Boolean).join('') || undefined;
    this.client = new JamsClient({
      url: this.url,
      ca: this.trusted,
      clientCertificate: { chainPem, keyPem },
    });
    this.token = undefined;
  }

  policy(): Promise<Policy> {
    return this.withToken((t) => this.client!.policyData(t));
  }

  async contacts(): Promise<string[]> {
    const answer = await this.withToken((t) => this.post('/api/auth/contacts', t, []));
    if (!Array.isArray(answer)) return [];
    return answer.map((c: { uri?: unknown }) => String(c?.uri ?? '').toLowerCase()).filter((uri) => JAMI_ID.test(uri));
  }

  async report(body: unknown): Promise<void> {
    await this.withToken((t) => this.post('/api/rooms/host/status', t, body));
  }

  private async withToken<T>(fn: (token: string) => Promise<T>): Promise<T> {
    if (!this.client) throw new Error('no host identity yet');
    this.token ??= await this.client.loginDevice();
    try {
      return await fn(this.token);
    } catch (err) {
      if (!(err instanceof JamsError && err.status === 401)) throw err;
      this.token = await this.client.loginDevice(); // expired token: one new login, then the call again
      return fn(this.token);
    }
  }

  private post(p: string, token: string, body: unknown): Promise<unknown> {
    const payload = Buffer.from(JSON.stringify(body));
    const url = `${this.client!.baseUrl}${p}`;
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method: 'POST',
          agent: false,
          timeout: 15_000,
          ca: this.trusted ? [...tls.rootCertificates, this.trusted] : undefined,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': String(payload.length),
            accept: 'application/json',
            'user-agent': 'enclave-agent host-room',
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) {
              reject(new JamsError(JamsErrorCode.SERVER_ERROR, `${p}: HTTP ${status} ${text.slice(0, 300)}`, status));
              return;
            }
            try {
              resolve(text ? JSON.parse(text) : null);
            } catch {
              reject(new JamsError(JamsErrorCode.SERVER_ERROR, `${p}: the answer is not JSON`));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(new JamsError(JamsErrorCode.UNREACHABLE, `${p}: ${err.message}`)),
      );
      req.end(payload);
    });
  }
}
