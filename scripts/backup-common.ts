/** What the backup and restore commands share: arguments, configuration, master key, database. */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { createLogger } from '../apps/server/src/common/logger';
import { MASTER_KEY_FILE, parseMasterKey } from '../apps/server/src/common/master-key';
import { AppConfig, loadConfigOrExit } from '../apps/server/src/config/app-config';
import { BackupError } from '../apps/server/src/database/backup';
import { embeddedForTool } from '../apps/server/src/database/embedded-postgres';

export interface BackupArgs {
  file: string;
  passphrase?: string;
  includeMasterKey: boolean;
}

export function parseBackupArgs(argv: string[], backup: boolean): BackupArgs {
  const usage = backup
    ? 'usage: npm run backup -- FILE [--passphrase-file P] [--include-master-key]'
    : 'usage: npm run restore -- FILE [--passphrase-file P]';
  let file: string | undefined;
  let passphrase: string | undefined;
  let includeMasterKey = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--passphrase-file') {
      const p = argv[++i];
      if (!p) throw new BackupError(`--passphrase-file needs a file\n${usage}`);
      passphrase = fs.readFileSync(p, 'utf8').replace(/\r?\n$/, '');
      if (passphrase.length < 12) throw new BackupError('The passphrase must be at least 12 characters');
    } else if (a === '--include-master-key' && backup) includeMasterKey = true;
    else if (a.startsWith('-') || file) throw new BackupError(`unexpected argument ${a}\n${usage}`);
    else file = a;
  }
  if (!file) throw new BackupError(usage);
  if (includeMasterKey && !passphrase) {
    throw new BackupError(
      '--include-master-key needs --passphrase-file: an archive cannot be sealed with the key it carries',
    );
  }
  return { file: path.resolve(file), passphrase, includeMasterKey };
}

/** The configured master key (ENCLAVE_MASTER_KEY or <data dir>/master.key), never creating one. */
export function readMasterKey(config: AppConfig): Buffer | undefined {
  if (config.pki.masterKey !== undefined) return parseMasterKey(config.pki.masterKey);
  try {
    const text = fs.readFileSync(path.join(config.database.dataDir, MASTER_KEY_FILE), 'utf8').trim();
    return Buffer.from(text, 'hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function toolContext(): {
  config: AppConfig;
  logger: Logger;
  database(): Promise<{ url: string; release(): Promise<void> }>;
} {
  const config = loadConfigOrExit(process.env);
  const logger = createLogger(config.log.level, config.log.format);
  return {
    config,
    logger,
    database: async () =>
      config.database.url
        ? { url: config.database.url, release: async () => undefined }
        : embeddedForTool(config.database.dataDir, logger),
  };
}
