/**
 * Backup and restore of an installation: every table of Enclave's schema read in ONE repeatable-read
 * snapshot (so the archive is consistent while the server keeps serving), the applied migrations, and the
 * sequences. Sealed keys (CA, account keys) are rows like any other and stay sealed with the master key;
 * settings edited in the console live in the database too. The master key itself is only inside when asked
 * for (and then the archive must be protected by a passphrase, not by the master key it contains).
 *
 * Archive: `ENCLAVE-BACKUP 1\n` + a JSON header line + AES-256-GCM(gzip(JSON contents)) + 16-byte tag; the
 * header is authenticated as additional data. The key is HKDF-SHA256 of the master key, or scrypt of a
 * passphrase, with the header's random salt.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scryptSync } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Client } from 'pg';
import type { Logger } from 'pino';
import { MIGRATIONS } from '../../../../migrations';
import { createDataSource, dataSourceOptions } from './data-source';
import { DataSource } from 'typeorm';

const MAGIC = 'ENCLAVE-BACKUP 1\n';
const SCRYPT = { N: 1 << 15, r: 8, p: 1 };
const MIGRATIONS_TABLE = 'migrations';
const INSERT_BATCH = 500;

export interface BackupContents {
  format: 1;
  createdAt: string;
  /** Names of the migrations applied in the backed-up database, in order. */
  migrations: string[];
  tables: { name: string; rows: Record<string, unknown>[] }[];
  sequences: { name: string; lastValue: string; isCalled: boolean }[];
  /** Hex master key, only with --include-master-key. */
  masterKey?: string;
}

export type BackupKey = { kind: 'master-key'; masterKey: Buffer } | { kind: 'passphrase'; passphrase: string };

interface Header {
  kdf: 'hkdf-master-key' | 'scrypt';
  salt: string;
  iv: string;
  scrypt?: typeof SCRYPT;
}

export class BackupError extends Error {}

function deriveKey(key: BackupKey, header: Header): Buffer {
  const salt = Buffer.from(header.salt, 'base64');
  if (header.kdf === 'hkdf-master-key') {
    if (key.kind !== 'master-key') {
      throw new BackupError(
        'This archive is encrypted with the master key: set ENCLAVE_MASTER_KEY or put master.key in the data directory',
      );
    }
    return Buffer.from(hkdfSync('sha256', key.masterKey, salt, 'enclave backup v1', 32));
  }
  if (key.kind !== 'passphrase') {
    throw new BackupError('This archive is encrypted with a passphrase: give it with --passphrase-file');
  }
  const p = header.scrypt ?? SCRYPT;
  return scryptSync(key.passphrase, salt, 32, { N: p.N, r: p.r, p: p.p, maxmem: 256 * 1024 * 1024 });
}

export function sealBackup(contents: BackupContents, key: BackupKey): Buffer {
  if (contents.masterKey && key.kind === 'master-key') {
    throw new BackupError(
      '--include-master-key needs a passphrase: an archive cannot be encrypted with the key it contains',
    );
  }
  const header: Header = {
    kdf: key.kind === 'master-key' ? 'hkdf-master-key' : 'scrypt',
    salt: randomBytes(16).toString('base64'),
    iv: randomBytes(12).toString('base64'),
    ...(key.kind === 'passphrase' ? { scrypt: SCRYPT } : {}),
  };
  const head = Buffer.from(`${MAGIC}${JSON.stringify(header)}\n`);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(key, header), Buffer.from(header.iv, 'base64'));
  cipher.setAAD(head);
  const body = Buffer.concat([cipher.update(gzipSync(JSON.stringify(contents))), cipher.final()]);
  return Buffer.concat([head, body, cipher.getAuthTag()]);
}

export function openBackup(archive: Buffer, key: BackupKey): BackupContents {
  if (!archive.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) {
    throw new BackupError('Not an Enclave backup archive (bad magic)');
  }
  const end = archive.indexOf(0x0a, MAGIC.length);
  if (end < 0) throw new BackupError('Corrupt backup archive (no header)');
  let header: Header;
  try {
    header = JSON.parse(archive.subarray(MAGIC.length, end).toString('utf8')) as Header;
  } catch {
    throw new BackupError('Corrupt backup archive (unreadable header)');
  }
  if (header.kdf !== 'hkdf-master-key' && header.kdf !== 'scrypt') {
    throw new BackupError('Corrupt backup archive (unknown key derivation)');
  }
  const head = archive.subarray(0, end + 1);
  const decipher = createDecipheriv('aes-256-gcm', deriveKey(key, header), Buffer.from(header.iv, 'base64'));
  decipher.setAAD(head);
  decipher.setAuthTag(archive.subarray(archive.length - 16));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(archive.subarray(end + 1, archive.length - 16)), decipher.final()]);
  } catch {
    throw new BackupError('The archive cannot be decrypted: wrong master key or passphrase, or the file was altered');
  }
  const contents = JSON.parse(gunzipSync(plain).toString('utf8')) as BackupContents;
  if (contents.format !== 1) throw new BackupError(`Unsupported backup format ${String(contents.format)}`);
  return contents;
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Reads the whole schema in one REPEATABLE READ, READ ONLY transaction (one snapshot). */
export async function dumpDatabase(url: string): Promise<BackupContents> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const tables = await client.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`,
    );
    const out: BackupContents = {
      format: 1,
      createdAt: new Date().toISOString(),
      migrations: [],
      tables: [],
      sequences: [],
    };
    for (const { name } of tables.rows) {
      const r = await client.query<{ rows: Record<string, unknown>[] }>(
        `SELECT coalesce(json_agg(t), '[]'::json) AS rows FROM ${ident(name)} t`,
      );
      out.tables.push({ name, rows: r.rows[0].rows });
    }
    const migrations = out.tables.find((t) => t.name === MIGRATIONS_TABLE);
    if (!migrations) throw new BackupError('The database has no Enclave schema (no migrations table)');
    out.migrations = migrations.rows
      .sort((a, b) => Number(a.timestamp) - Number(b.timestamp))
      .map((r) => String(r.name));
    const seqs = await client.query<{ name: string }>(
      `SELECT sequencename AS name FROM pg_sequences WHERE schemaname = current_schema() ORDER BY sequencename`,
    );
    for (const { name } of seqs.rows) {
      const r = await client.query<{ last_value: string; is_called: boolean }>(
        `SELECT last_value::text, is_called FROM ${ident(name)}`,
      );
      out.sequences.push({ name, lastValue: r.rows[0].last_value, isCalled: r.rows[0].is_called });
    }
    await client.query('COMMIT');
    return out;
  } finally {
    await client.end();
  }
}

/** Tables ordered so that every table comes after the tables its foreign keys reference. */
async function insertOrder(client: Client, names: string[]): Promise<string[]> {
  const fks = await client.query<{ child: string; parent: string }>(
    `SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
      WHERE k.contype = 'f' AND c.relnamespace = to_regnamespace(current_schema())`,
  );
  const deps = new Map(names.map((n) => [n, new Set<string>()]));
  for (const { child, parent } of fks.rows) if (child !== parent) deps.get(child)?.add(parent);
  const ordered: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string, stack: Set<string>) => {
    if (seen.has(n) || stack.has(n)) return;
    stack.add(n);
    for (const p of deps.get(n) ?? []) visit(p, stack);
    seen.add(n);
    ordered.push(n);
  };
  for (const n of names) visit(n, new Set());
  return ordered;
}

async function isFresh(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const t = await client.query(`SELECT to_regclass($1) AS t`, [MIGRATIONS_TABLE]);
    if (t.rows[0].t === null) return true;
    const n = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${ident(MIGRATIONS_TABLE)}`);
    return n.rows[0].n === 0;
  } finally {
    await client.end();
  }
}

/**
 * Restores into a fresh database: applies the migrations the backup had, loads every row in one transaction,
 * sets the sequences, then applies this version's newer migrations (so an older backup upgrades on restore).
 */
export async function restoreDatabase(url: string, contents: BackupContents, logger: Logger): Promise<void> {
  if (!(await isFresh(url))) {
    throw new BackupError(
      'The target database is not empty: restore into a fresh installation (empty data directory or an empty DATABASE_URL)',
    );
  }
  const known = new Set(MIGRATIONS.map((m) => m.name));
  const unknown = contents.migrations.filter((m) => !known.has(m));
  if (unknown.length) {
    throw new BackupError(
      `The backup was made by a newer Enclave (unknown migrations: ${unknown.join(', ')}): restore with that version`,
    );
  }
  const wanted = new Set(contents.migrations);
  const atBackup = new DataSource(dataSourceOptions(url, { migrations: MIGRATIONS.filter((m) => wanted.has(m.name)) }));
  await atBackup.initialize();
  try {
    await atBackup.runMigrations({ transaction: 'each' });
  } finally {
    await atBackup.destroy();
  }
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    const data = contents.tables.filter((t) => t.name !== MIGRATIONS_TABLE);
    const present = new Set(
      (
        await client.query<{ name: string }>(
          `SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()`,
        )
      ).rows.map((r) => r.name),
    );
    const missing = data.filter((t) => !present.has(t.name)).map((t) => t.name);
    if (missing.length) throw new BackupError(`Tables in the backup but not in the schema: ${missing.join(', ')}`);
    // Rows some migrations seed are replaced by the backup's.
    if (data.length) await client.query(`TRUNCATE ${data.map((t) => ident(t.name)).join(', ')} CASCADE`);
    const byName = new Map(data.map((t) => [t.name, t]));
    for (const name of await insertOrder(client, [...byName.keys()])) {
      const { rows } = byName.get(name) as { rows: Record<string, unknown>[] };
      if (!rows.length) continue;
      const cols = (
        await client.query<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER'
            ORDER BY ordinal_position`,
          [name],
        )
      ).rows.map((r) => ident(r.column_name));
      for (let i = 0; i < rows.length; i += INSERT_BATCH) {
        await client.query(
          `INSERT INTO ${ident(name)} (${cols.join(', ')}) OVERRIDING SYSTEM VALUE
           SELECT ${cols.join(', ')} FROM json_populate_recordset(NULL::${ident(name)}, $1::json)`,
          [JSON.stringify(rows.slice(i, i + INSERT_BATCH))],
        );
      }
      logger.info({ table: name, rows: rows.length }, 'restored');
    }
    for (const s of contents.sequences) {
      await client.query(`SELECT setval($1::regclass, $2::bigint, $3)`, [ident(s.name), s.lastValue, s.isCalled]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
  const current = createDataSource(url);
  await current.initialize();
  try {
    const applied = await current.runMigrations({ transaction: 'each' });
    if (applied.length)
      logger.info({ migrations: applied.map((m) => m.name) }, 'newer migrations applied after the restore');
  } finally {
    await current.destroy();
  }
}
