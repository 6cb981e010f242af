import 'reflect-metadata';
import { loadConfigOrExit } from './config/app-config';
import { createLogger } from './common/logger';
import { RunningServer, startServer } from './server';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env);
  const logger = createLogger(config.log.level, config.log.format);
  // Signals are handled from the first moment: a stop requested during start-up waits for it, then stops.
  const startup: { server?: Promise<RunningServer> } = {};
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    (startup.server ?? Promise.reject(new Error('not started')))
      .then((running) => running.stop())
      .then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, 'unclean shutdown');
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  startup.server = startServer(config, logger);
  try {
    await startup.server;
  } catch (err) {
    logger.fatal({ err }, 'Enclave failed to start');
    process.exit(1);
  }
}

void main();
