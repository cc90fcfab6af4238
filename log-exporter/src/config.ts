// Flags and environment → a validated Config. Pure: takes argv and env, returns a Config or throws a ConfigError
// that names the flag/variable and says what to do. Flags win over environment. Documented in log-exporter/README.md.
import { PROTOCOLS, isProtocol, type Protocol } from '../../common/contracts/protocols.js';
import { protocolModule } from './protocols/index.js';
import { HANDSHAKE_READERS, type HandshakeReaderKind } from './protocols/protocol.js';

export { HANDSHAKE_READERS, type HandshakeReaderKind };

export const SOURCES = ['kube', 'file', 'stdin'] as const;
export type SourceKind = (typeof SOURCES)[number];

export interface HostPort {
  host: string;
  port: number;
}

export interface Config {
  once: boolean;
  type: Protocol;
  source: SourceKind;
  /** file source, or the one-shot input ("-" = stdin). */
  file: string | undefined;
  pod: string | undefined;
  namespace: string | undefined;
  container: string;
  kubeRefreshSeconds: number;
  historySeconds: number;
  listen: HostPort;
  /** The tunnel interface: the probe's automatic target, and the handshake reader's interface (WireGuard). */
  tunInterface: string | undefined;
  handshakeReader: HandshakeReaderKind;
  handshakeIntervalSeconds: number;
  /** 'auto': derived from the tunnel interface at each probe (probe/target.ts). */
  probeTarget: HostPort | 'auto' | undefined;
  probeIntervalSeconds: number;
  probeTimeoutSeconds: number;
  probeFailures: number;
  maxLineBytes: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** The gateway's resolver on a hop that serves DNS: probed through the chain (torchain_dns_up). */
  dnsResolver: HostPort | undefined;
  /** unbound's remote control (plain, loopback): its statistics (torchain_dns_queries_total). */
  dnsControl: HostPort | undefined;
  /** The probe asks for this name's NS records (`.`: the root, which every resolver can answer). */
  dnsProbeName: string;
  dnsIntervalSeconds: number;
  dnsTimeoutSeconds: number;
}

export class ConfigError extends Error {}

interface Option {
  flag: string;
  /** An older spelling of the flag, still accepted. */
  alias?: string;
  env?: string;
  boolean?: boolean;
}

const OPTIONS = {
  once: { flag: '--once', boolean: true },
  type: { flag: '--type', env: 'TORCHAIN_TYPE' },
  source: { flag: '--source', env: 'TORCHAIN_LOG_SOURCE' },
  file: { flag: '--file', env: 'TORCHAIN_LOG_FILE' },
  pod: { flag: '--pod', env: 'POD_NAME' },
  namespace: { flag: '--namespace', env: 'POD_NAMESPACE' },
  container: { flag: '--container', env: 'TORCHAIN_LOG_CONTAINER' },
  kubeRefresh: { flag: '--kube-refresh-seconds', env: 'TORCHAIN_KUBE_REFRESH_SECONDS' },
  history: { flag: '--history-seconds', env: 'TORCHAIN_HISTORY_SECONDS' },
  listen: { flag: '--listen', env: 'TORCHAIN_EXPORTER_LISTEN' },
  tunInterface: { flag: '--tun-interface', alias: '--wg-interface', env: 'TORCHAIN_TUN_IF' },
  handshakeReader: { flag: '--handshake-reader', env: 'TORCHAIN_HANDSHAKE_READER' },
  handshakeInterval: { flag: '--handshake-interval-seconds', env: 'TORCHAIN_HANDSHAKE_INTERVAL_SECONDS' },
  probeTarget: { flag: '--probe-target', env: 'TORCHAIN_PROBE_TARGET' },
  probeInterval: { flag: '--probe-interval-seconds', env: 'TORCHAIN_PROBE_INTERVAL_SECONDS' },
  probeTimeout: { flag: '--probe-timeout-seconds', env: 'TORCHAIN_PROBE_TIMEOUT_SECONDS' },
  probeFailures: { flag: '--probe-failures', env: 'TORCHAIN_PROBE_FAILURES' },
  maxLineBytes: { flag: '--max-line-bytes', env: 'TORCHAIN_MAX_LINE_BYTES' },
  logLevel: { flag: '--log-level', env: 'TORCHAIN_LOG_LEVEL' },
  dnsResolver: { flag: '--dns-resolver', env: 'TORCHAIN_DNS_RESOLVER' },
  dnsControl: { flag: '--dns-control', env: 'TORCHAIN_DNS_CONTROL' },
  dnsProbeName: { flag: '--dns-probe-name', env: 'TORCHAIN_DNS_PROBE_NAME' },
  dnsInterval: { flag: '--dns-interval-seconds', env: 'TORCHAIN_DNS_INTERVAL_SECONDS' },
  dnsTimeout: { flag: '--dns-timeout-seconds', env: 'TORCHAIN_DNS_TIMEOUT_SECONDS' },
} satisfies Record<string, Option>;
type Key = keyof typeof OPTIONS;

const TYPES = PROTOCOLS.join('|');

export const USAGE = `usage: log-exporter --type ${TYPES} [--source kube|file|stdin] [options]
       log-exporter --once --type ${TYPES} FILE|-
options (flag / environment variable; see log-exporter/README.md):
  --source kube|file|stdin           TORCHAIN_LOG_SOURCE (default kube)
  --file PATH                        TORCHAIN_LOG_FILE (file source)
  --pod NAME --namespace NS          POD_NAME, POD_NAMESPACE (kube source: the exporter's own pod)
  --container NAME                   TORCHAIN_LOG_CONTAINER (default vpn)
  --kube-refresh-seconds N           TORCHAIN_KUBE_REFRESH_SECONDS (default 60)
  --history-seconds N                TORCHAIN_HISTORY_SECONDS (default 30)
  --listen HOST:PORT                 TORCHAIN_EXPORTER_LISTEN (default 0.0.0.0:9108)
  --tun-interface IF                 TORCHAIN_TUN_IF (the tunnel interface: probe target, WireGuard handshake)
  --handshake-reader auto|uapi|wg|off  TORCHAIN_HANDSHAKE_READER (default auto)
  --handshake-interval-seconds N     TORCHAIN_HANDSHAKE_INTERVAL_SECONDS (default 5)
  --probe-target HOST:PORT|auto|off  TORCHAIN_PROBE_TARGET (default auto with --tun-interface)
  --probe-interval-seconds N         TORCHAIN_PROBE_INTERVAL_SECONDS (default 2)
  --probe-timeout-seconds N          TORCHAIN_PROBE_TIMEOUT_SECONDS (default 1.5)
  --probe-failures N                 TORCHAIN_PROBE_FAILURES (default 2)
  --max-line-bytes N                 TORCHAIN_MAX_LINE_BYTES (default 65536)
  --log-level debug|info|warn|error  TORCHAIN_LOG_LEVEL (default info)
  --dns-resolver HOST:PORT           TORCHAIN_DNS_RESOLVER (the hop's LAN resolver: probed, torchain_dns_up)
  --dns-control HOST:PORT            TORCHAIN_DNS_CONTROL (unbound's remote control: torchain_dns_queries_total)
  --dns-probe-name NAME              TORCHAIN_DNS_PROBE_NAME (default ., the root's NS records)
  --dns-interval-seconds N           TORCHAIN_DNS_INTERVAL_SECONDS (default 5)
  --dns-timeout-seconds N            TORCHAIN_DNS_TIMEOUT_SECONDS (default 3)`;

/** IPv6 literal check through the URL parser (node:net would cost ~1 MB of RSS in one-shot mode). */
function isIPv6(host: string): boolean {
  try {
    return host.includes(':') && new URL(`http://[${host}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

export function parseHostPort(text: string, what: string): HostPort {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535) || (m[0].startsWith('[') && !isIPv6(m[1] ?? ''))) {
    throw new ConfigError(`${what}: "${text}" is not HOST:PORT (IPv6 as [addr]:port, port 0-65535); fix the value`);
  }
  return { host: m[1] as string, port };
}

function parseNumber(text: string, what: string, min: number, integer: boolean): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new ConfigError(`${what}: "${text}" must be ${integer ? 'an integer' : 'a number'} >= ${min}; fix the value`);
  }
  return n;
}

function oneOf<T extends string>(text: string, values: readonly T[], what: string): T {
  if (!(values as readonly string[]).includes(text)) {
    throw new ConfigError(`${what}: "${text}" is not one of ${values.join(', ')}; fix the value`);
  }
  return text as T;
}

/** Explicit HOST:PORT, `off`, or `auto` (the default when the protocol probes and the tunnel interface is known). */
function probeTargetOf(
  text: string | undefined,
  what: string,
  type: Protocol,
  tunInterface: string | undefined,
): HostPort | 'auto' | undefined {
  if (text === 'off') return undefined;
  if (text === 'auto' || (text === undefined && protocolModule(type).liveness.probeByDefault && tunInterface)) {
    if (!tunInterface)
      throw new ConfigError(`${what}: auto needs the tunnel interface (--tun-interface / TORCHAIN_TUN_IF)`);
    return 'auto';
  }
  return text === undefined ? undefined : parseHostPort(text, what);
}

export function parseConfig(argv: string[], env: Record<string, string | undefined>): Config {
  const given = new Map<Key, string>();
  const positional: string[] = [];
  const byFlag = new Map<string, Key>();
  for (const [k, o] of Object.entries(OPTIONS) as [Key, Option][]) {
    byFlag.set(o.flag, k);
    if (o.alias) byFlag.set(o.alias, k);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-' || !arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const key = byFlag.get(flag);
    if (!key) throw new ConfigError(`unknown flag ${flag}\n${USAGE}`);
    const opt: Option = OPTIONS[key];
    if (opt.boolean) {
      given.set(key, eq === -1 ? 'true' : arg.slice(eq + 1));
      continue;
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`${flag} needs a value\n${USAGE}`);
    given.set(key, value);
  }
  const get = (key: Key): [string | undefined, string] => {
    const opt: Option = OPTIONS[key];
    const fromFlag = given.get(key);
    if (fromFlag !== undefined) return [fromFlag, opt.flag];
    const fromEnv = opt.env ? env[opt.env] : undefined;
    return [fromEnv === '' ? undefined : fromEnv, opt.env ? `${opt.env} (${opt.flag})` : opt.flag];
  };
  const num = (key: Key, dflt: number, min: number, integer = false): number => {
    const [v, what] = get(key);
    return v === undefined ? dflt : parseNumber(v, what, min, integer);
  };

  const once = given.get('once') === 'true';
  const [typeText, typeWhat] = get('type');
  if (typeText === undefined) throw new ConfigError(`${typeWhat} is required: ${PROTOCOLS.join(', ')}\n${USAGE}`);
  if (!isProtocol(typeText)) {
    throw new ConfigError(`${typeWhat}: "${typeText}" is not one of ${PROTOCOLS.join(', ')}`);
  }

  const [sourceText, sourceWhat] = get('source');
  let source: SourceKind = sourceText === undefined ? 'kube' : oneOf(sourceText, SOURCES, sourceWhat);
  let file = get('file')[0];
  if (once) {
    if (positional.length !== 1) throw new ConfigError(`--once reads one FILE (or - for stdin)\n${USAGE}`);
    file = positional[0];
    source = file === '-' ? 'stdin' : 'file';
  } else if (positional.length) {
    throw new ConfigError(`unexpected argument "${positional[0]}" (a file to follow is --file PATH)\n${USAGE}`);
  }
  if (!once && source === 'file' && !file)
    throw new ConfigError(`--source file needs --file PATH or TORCHAIN_LOG_FILE`);
  const pod = get('pod')[0];
  const namespace = get('namespace')[0];
  if (!once && source === 'kube' && (!pod || !namespace)) {
    throw new ConfigError(
      'the kube source needs the pod name and namespace: set POD_NAME and POD_NAMESPACE from the downward API ' +
        '(or --pod/--namespace), or choose --source file|stdin',
    );
  }
  const [listenText, listenWhat] = get('listen');
  const [readerText, readerWhat] = get('handshakeReader');
  const [probeText, probeWhat] = get('probeTarget');
  const [levelText, levelWhat] = get('logLevel');
  const [dnsResolverText, dnsResolverWhat] = get('dnsResolver');
  const [dnsControlText, dnsControlWhat] = get('dnsControl');
  const [dnsNameText, dnsNameWhat] = get('dnsProbeName');
  const config: Config = {
    once,
    type: typeText,
    source,
    file,
    pod,
    namespace,
    container: get('container')[0] ?? 'vpn',
    kubeRefreshSeconds: num('kubeRefresh', 60, 1),
    historySeconds: num('history', 30, 0),
    listen: parseHostPort(listenText ?? '0.0.0.0:9108', listenWhat),
    tunInterface: get('tunInterface')[0],
    handshakeReader: readerText === undefined ? 'auto' : oneOf(readerText, HANDSHAKE_READERS, readerWhat),
    handshakeIntervalSeconds: num('handshakeInterval', 5, 0.1),
    probeTarget: probeTargetOf(probeText, probeWhat, typeText, get('tunInterface')[0]),
    probeIntervalSeconds: num('probeInterval', 2, 0.1),
    probeTimeoutSeconds: num('probeTimeout', 1.5, 0.1),
    probeFailures: num('probeFailures', 2, 1, true),
    maxLineBytes: num('maxLineBytes', 65536, 1024, true),
    logLevel:
      levelText === undefined ? 'info' : oneOf(levelText, ['debug', 'info', 'warn', 'error'] as const, levelWhat),
    dnsResolver: dnsResolverText === undefined ? undefined : parseHostPort(dnsResolverText, dnsResolverWhat),
    dnsControl: dnsControlText === undefined ? undefined : parseHostPort(dnsControlText, dnsControlWhat),
    dnsProbeName: dnsNameText ?? '.',
    dnsIntervalSeconds: num('dnsInterval', 5, 0.1),
    dnsTimeoutSeconds: num('dnsTimeout', 3, 0.1),
  };
  if (
    !/^(\.|([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?)$/.test(
      config.dnsProbeName,
    ) ||
    config.dnsProbeName.length > 253
  ) {
    throw new ConfigError(
      `${dnsNameWhat}: "${config.dnsProbeName}" is not a DNS name (or . for the root); fix the value`,
    );
  }
  for (const [hp, what] of [
    [config.dnsResolver, dnsResolverWhat],
    [config.dnsControl, dnsControlWhat],
  ] as const)
    if (hp?.port === 0) throw new ConfigError(`${what}: port 0 cannot be reached`);
  if (config.dnsTimeoutSeconds >= config.dnsIntervalSeconds) {
    throw new ConfigError('the DNS timeout must be shorter than the DNS interval; fix --dns-timeout-seconds');
  }
  if (typeof config.probeTarget === 'object' && config.probeTarget.port === 0) {
    throw new ConfigError(`${probeWhat}: port 0 cannot be probed`);
  }
  if (config.probeTimeoutSeconds >= config.probeIntervalSeconds) {
    throw new ConfigError('the probe timeout must be shorter than the probe interval; fix --probe-timeout-seconds');
  }
  return config;
}
