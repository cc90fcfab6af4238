// One structured logger for every torchain process (operator, log-exporter): pino, one JSON object per line with the
// level name, an ISO time and `msg`. Secret-bearing fields are redacted by path, so a token, an Authorization header,
// a Vault token, Secret data or a VPN config never reaches the output even when a caller logs an object by mistake.
import { pino, stdTimeFunctions, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];

/** The calls torchain code makes: message first, then the structured fields. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /** The pino instance underneath (fastify takes it as its logger). */
  readonly pino: PinoLogger;
}

/** Keys whose value is secret wherever they appear at the top level or one or two objects down. */
const SECRET_KEYS = [
  'token',
  'authorization',
  'Authorization',
  'cookie',
  'jwt',
  'password',
  'vaultToken',
  'clientToken',
  'client_token',
  'x-vault-token',
  'X-Vault-Token',
  // Secret data (base64 VPN configs and keys) and the configs themselves, as Vault returns them.
  'data',
  'stringData',
  'config',
  'privateKey',
];

const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`);
const join = (prefix: string, k: string) => (key(k).startsWith('[') ? `${prefix}${key(k)}` : `${prefix}.${k}`);

export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap((k) => [key(k), join('*', k), join('*.*', k)]);

export const CENSOR = '[redacted]';

export function parseLevel(value: string | undefined, variable = 'TORCHAIN_LOG_LEVEL'): Level {
  const v = (value ?? 'info').toLowerCase();
  if ((LEVELS as readonly string[]).includes(v)) return v as Level;
  throw new Error(`${variable}=${value ?? ''} is not a log level: use debug, info, warn or error`);
}

export interface LoggerOptions {
  level?: Level;
  /** Fields on every line, e.g. component and pod. */
  base?: Record<string, unknown>;
  /** 1 (stdout, default), 2 (stderr) or any stream with write(line). */
  destination?: 1 | 2 | { write(line: string): void };
}

function wrap(p: PinoLogger): Logger {
  const at =
    (level: Level) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (fields) p[level](fields, msg);
      else p[level](msg);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => wrap(p.child(fields)),
    pino: p,
  };
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const dest = opts.destination ?? 1;
  // Synchronous writes: a process that exits right after logging (bad configuration, SIGTERM) loses no line.
  const stream: DestinationStream =
    typeof dest === 'number' ? pino.destination({ fd: dest, sync: true }) : (dest as DestinationStream);
  return wrap(
    pino(
      {
        level: opts.level ?? 'info',
        base: opts.base ?? {},
        messageKey: 'msg',
        timestamp: stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        redact: { paths: [...REDACT_PATHS], censor: CENSOR },
      },
      stream,
    ),
  );
}

/**
 * A logger that drops everything (tests that do not look at logs). Its own no-op destination: pino's default would
 * open a stream on stdout in every process that imports this module, used or not.
 */
export const silentLogger: Logger = wrap(pino({ level: 'silent' }, { write: () => undefined }));

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
