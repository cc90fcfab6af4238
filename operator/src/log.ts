// Structured logs: one JSON object per line on stdout. Callers pass fields, never secrets (configs, tokens).
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function parseLevel(value: string | undefined): Level {
  const v = (value ?? 'info').toLowerCase();
  if (v in ORDER) return v as Level;
  throw new Error(`TORCHAIN_LOG_LEVEL=${value ?? ''} is not a log level: use debug, info, warn or error`);
}

export function createLogger(
  opts: { level?: Level; write?: (line: string) => void; base?: Record<string, unknown> } = {},
): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const base = opts.base ?? {};
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const rec: Record<string, unknown> = { time: new Date().toISOString(), level, msg, ...base, ...fields };
    if (rec.err instanceof Error) rec.err = { name: rec.err.name, message: rec.err.message };
    write(JSON.stringify(rec));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...opts, base: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => undefined });
