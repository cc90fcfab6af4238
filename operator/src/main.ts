// The operator process: configuration from the environment (docs/operator.md), JSON logs on stdout (common/log.ts;
// start failures on stderr), graceful stop on SIGTERM/SIGINT (the Lease is released so the other replica takes over at once).
import { loadConfig } from './config.js';
import { errorMessage } from './errors.js';
import { createLogger } from '../../common/log.js';
import { startOperator } from './operator.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    createLogger({ destination: 2, base: { component: 'operator' } }).error('bad configuration', {
      error: errorMessage(err),
    });
    process.exit(2);
  }
  const log = createLogger({ level: config.logLevel, base: { component: 'operator', pod: config.podName } });
  const op = await startOperator(config, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void op.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (err) => log.error('unhandled rejection', { error: errorMessage(err) }));
}

main().catch((err: unknown) => {
  createLogger({ destination: 2, base: { component: 'operator' } }).error('operator failed to start', {
    error: errorMessage(err),
  });
  process.exit(1);
});
