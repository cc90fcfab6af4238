// The exporter logs through the shared logger (common/log.ts: pino, redaction of secret-bearing fields), one JSON
// object per line on stderr: stdout belongs to one-shot mode's exposition.
import { createLogger as createSharedLogger, type Level, type Logger } from '../../common/log.js';

export { errorText, type Level, type Logger } from '../../common/log.js';

export function createLogger(level: Level): Logger {
  return createSharedLogger({ level, destination: 2, base: { component: 'log-exporter' } });
}
