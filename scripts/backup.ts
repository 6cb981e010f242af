/**
 * npm run backup -- FILE [--passphrase-file P] [--include-master-key]
 *
 * Writes one consistent, encrypted archive of the installation configured by the environment (DATABASE_URL,
 * or the embedded PostgreSQL under ENCLAVE_DATA_DIR, running or not). Encrypted with the master key unless a
 * passphrase file is given; the master key is inside only with --include-master-key (which needs a passphrase).
 */
import fs from 'node:fs';
import { BackupError, BackupKey, dumpDatabase, sealBackup } from '../apps/server/src/database/backup';
import { parseBackupArgs, readMasterKey, toolContext } from './backup-common';

async function main(): Promise<void> {
  const args = parseBackupArgs(process.argv.slice(2), true);
  const ctx = toolContext();
  const { config, logger } = ctx;
  const master = readMasterKey(config);
  if (!master) {
    throw new BackupError(
      `No master key: set ENCLAVE_MASTER_KEY or keep master.key in ${config.database.dataDir} (the server's data directory)`,
    );
  }
  const key: BackupKey = args.passphrase
    ? { kind: 'passphrase', passphrase: args.passphrase }
    : { kind: 'master-key', masterKey: master };
  const { url, release } = await ctx.database();
  try {
    const contents = await dumpDatabase(url);
    if (args.includeMasterKey) contents.masterKey = master.toString('hex');
    const archive = sealBackup(contents, key);
    fs.writeFileSync(args.file, archive, { mode: 0o600 });
    logger.info(
      {
        file: args.file,
        bytes: archive.length,
        tables: contents.tables.length,
        rows: contents.tables.reduce((n, t) => n + t.rows.length, 0),
        encryptedWith: key.kind,
        masterKeyIncluded: !!contents.masterKey,
      },
      'backup written',
    );
  } finally {
    await release();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`backup failed: ${err.message}\n`);
    process.exit(1);
  },
);
