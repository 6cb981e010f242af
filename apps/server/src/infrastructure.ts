import type { Logger } from 'pino';
import { loadMasterKey } from './common/master-key';
import { SecretBox } from './common/secret-box';
import { AppConfig } from './config/app-config';
import { EmbeddedDatabase, startEmbeddedPostgres } from './database/embedded-postgres';
import { runMigrations } from './database/migrate';

export interface Infrastructure {
  secrets: SecretBox;
  databaseUrl: string;
  embedded?: EmbeddedDatabase;
}

/** Master key, database (embedded unless DATABASE_URL) and migrations: what the server and worker share. */
export async function prepareInfrastructure(config: AppConfig, logger: Logger): Promise<Infrastructure> {
  const master = loadMasterKey(config.pki.masterKey, config.database.dataDir);
  if (master.created) {
    logger.warn(
      { file: master.origin },
      '!!! A NEW MASTER KEY WAS GENERATED. It encrypts the CA and account private keys. BACK UP THIS FILE ' +
        'NOW (or set ENCLAVE_MASTER_KEY): without it the stored keys cannot be decrypted. !!!',
    );
  }
  let embedded: EmbeddedDatabase | undefined;
  const databaseUrl =
    config.database.url ?? (embedded = await startEmbeddedPostgres(config.database.dataDir, logger)).url;
  try {
    if (!config.database.skipMigrations) await runMigrations(databaseUrl, logger);
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  return { secrets: new SecretBox(master.key), databaseUrl, embedded };
}
