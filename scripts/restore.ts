/**
 * npm run restore -- FILE [--passphrase-file P]
 *
 * Brings a fresh installation (an empty ENCLAVE_DATA_DIR, or an empty DATABASE_URL database) back to the
 * state of the archive. An archive sealed with the master key needs that key (ENCLAVE_MASTER_KEY, or the
 * old master.key copied into ENCLAVE_DATA_DIR first); an archive carrying its master key writes it to
 * ENCLAVE_DATA_DIR/master.key unless ENCLAVE_MASTER_KEY is set.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BackupError, BackupKey, openBackup, restoreDatabase } from '../apps/server/src/database/backup';
import { MASTER_KEY_FILE } from '../apps/server/src/common/master-key';
import { parseBackupArgs, readMasterKey, toolContext } from './backup-common';

async function main(): Promise<void> {
  const args = parseBackupArgs(process.argv.slice(2), false);
  const ctx = toolContext();
  const { config, logger } = ctx;
  const archive = fs.readFileSync(args.file);
  const master = readMasterKey(config);
  let key: BackupKey;
  if (args.passphrase) key = { kind: 'passphrase', passphrase: args.passphrase };
  else if (master) key = { kind: 'master-key', masterKey: master };
  else {
    throw new BackupError(
      `No master key to decrypt with: set ENCLAVE_MASTER_KEY, copy the old master.key into ${config.database.dataDir}, ` +
        'or give --passphrase-file for a passphrase archive',
    );
  }
  const contents = openBackup(archive, key);
  if (contents.masterKey) {
    const restored = Buffer.from(contents.masterKey, 'hex');
    if (master && !master.equals(restored)) {
      throw new BackupError(
        'The archive carries a master key that differs from the configured one: refusing to restore',
      );
    }
    if (!master) {
      fs.mkdirSync(config.database.dataDir, { recursive: true });
      fs.writeFileSync(path.join(config.database.dataDir, MASTER_KEY_FILE), contents.masterKey + '\n', {
        mode: 0o600,
        flag: 'wx',
      });
      logger.info({ dir: config.database.dataDir }, 'master key restored from the archive');
    }
  } else if (!master) {
    throw new BackupError('The archive has no master key and none is configured: the sealed keys could not be used');
  }
  const { url, release } = await ctx.database();
  try {
    await restoreDatabase(url, contents, logger);
    logger.info({ file: args.file, createdAt: contents.createdAt }, 'restore complete: start the server');
  } finally {
    await release();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`restore failed: ${err.message}\n`);
    process.exit(1);
  },
);
