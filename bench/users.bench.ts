import https from 'node:https';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { USER_SEARCH_EXPRESSION } from '../apps/server/src/modules/users/user.entity';
import { stopTestPostgres } from '../test/support/postgres';
import { setUp, startTestServer } from '../test/support/server';
import { BenchFigure, figure } from './harness';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const SAMPLES = Number(process.env.BENCH_USER_SAMPLES ?? 400);
const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ren',
  'sto',
  'var',
  'bel',
  'dun',
  'fer',
  'gal',
  'hol',
  'jor',
  'kem',
  'lin',
  'mor',
  'nor',
  'pol',
  'quin',
  'ros',
  'sil',
  'tam',
  'ul',
  'ven',
  'wil',
  'yor',
  'zan',
];
const SURNAMES = SYLLABLES.length ** 3;

/** The k-th of 17,576 three-syllable surnames (the seed SQL computes the same). */
const surname = (k: number) =>
  SYLLABLES[k % 26] + SYLLABLES[Math.floor(k / 26) % 26] + SYLLABLES[Math.floor(k / 676) % 26];

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)];
}

async function timed(op: (i: number) => Promise<unknown>, n: number): Promise<number[]> {
  for (let i = 0; i < 5; i++) await op(i); // warm-up
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    out.push(performance.now() - t);
  }
  return out;
}

/**
 * GET /api/admin/users at 100,000 users: p99 of a search (`?search=`, served by the pg_trgm index) and of a
 * keyset page (`?cursor=`), one request at a time over a keep-alive connection, each against the p99 of the
 * same SQL run directly with pg in the same run (the floor: what the database alone costs).
 */
export async function run(): Promise<BenchFigure[]> {
  const server = await startTestServer({ ENCLAVE_KEY_POOL_SIZE: '0' });
  const client = new Client({ connectionString: server.db.url });
  try {
    const admin = await setUp(server, {
      organization: 'Bench Corp',
      admin: { username: 'admin', password: 'bench-admin-password' },
      ca: { mode: 'generate', algorithm: 'P-256' },
    });
    const ds = server.app.get(DataSource);
    const seedStart = performance.now();
    await ds.query(
      `INSERT INTO users (username, first_name, last_name, email, source, status)
       SELECT 'u' || lpad(i::text, 6, '0'), initcap(s[1 + (i * 31) % 26] || s[1 + (i * 17) % 26]),
              initcap(s[1 + k % 26] || s[1 + (k / 26) % 26] || s[1 + (k / 676) % 26]),
              'u' || i || '@corp.example', CASE WHEN i % 10 = 0 THEN 'ldap' ELSE 'local' END,
              CASE WHEN i % 50 = 0 THEN 'suspended' ELSE 'active' END
       FROM generate_series(1, $1) i, LATERAL (SELECT (i * 7919) % $2 AS k) kk, (SELECT $3::text[] AS s) syl`,
      [USERS, SURNAMES, SYLLABLES],
    );
    await ds.query('ANALYZE users');
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
    const get = (p: string) =>
      new Promise<void>((resolve, reject) => {
        const req = https.request(
          `${server.localUrl}${p}`,
          { agent, method: 'GET', headers: { authorization: `Bearer ${admin}` } },
          (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${p}: ${res.statusCode}`))));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const term = (i: number) => surname((i * 7919 * 37) % SURNAMES);
    const cursorName = (i: number) => `u${String(((i * 7907) % USERS) + 1).padStart(6, '0')}`;

    await client.connect();
    const searchSql = `SELECT * FROM users u WHERE u.status <> 'deleted' AND ${USER_SEARCH_EXPRESSION.replace(
      /\b(username|first_name|last_name|email)\b/g,
      'u.$1',
    )} LIKE $1 ORDER BY u.username LIMIT 51`;
    const pageSql = `SELECT * FROM users u WHERE u.status <> 'deleted' AND u.username > $1 ORDER BY u.username LIMIT 51`;
    const sqlSearch = p99(await timed((i) => client.query(searchSql, [`%${term(i)}%`]), SAMPLES));
    const sqlPage = p99(await timed((i) => client.query(pageSql, [cursorName(i)]), SAMPLES));
    const httpSearch = p99(
      await timed((i) => get(`/api/admin/users?limit=50&search=${encodeURIComponent(term(i))}`), SAMPLES),
    );
    const httpPage = p99(
      await timed(
        (i) => get(`/api/admin/users?limit=50&cursor=${Buffer.from(cursorName(i)).toString('base64url')}`),
        SAMPLES,
      ),
    );
    agent.destroy();
    const users = `${USERS.toLocaleString('en-US')} users`;
    return [
      figure(
        `user search p99, GET /api/admin/users?search= (${users})`,
        httpSearch,
        'ms',
        { name: 'same SQL directly with pg, p99', value: sqlSearch, unit: 'ms' },
        `pg_trgm GIN index on username/names/email; ${SAMPLES} sequential requests; seeded in ${seedSeconds.toFixed(1)} s`,
      ),
      figure(
        `user page p99, GET /api/admin/users?cursor= (${users})`,
        httpPage,
        'ms',
        { name: 'same SQL directly with pg, p99', value: sqlPage, unit: 'ms' },
        `keyset on the username index, 50 per page; ${SAMPLES} sequential requests`,
      ),
    ];
  } finally {
    await client.end().catch(() => undefined);
    await server.close();
    await stopTestPostgres();
  }
}
