// Long-running mode: a line source, the WireGuard handshake reader and the active probe feed the state; HTTP serves it.
// Built-ins only this mode uses are loaded on first use (builtins.ts).
import { builtins } from './builtins.js';
import { buildHttp } from './http.js';
import type { Config, HostPort } from './config.js';
import { createLogger, errorText } from './log.js';
import { createRegistry } from './metrics.js';
import { autoProbeTarget } from './probe/target.js';
import { tcpProbe } from './probe/tcp-probe.js';
import { LineProcessor } from './processor.js';
import { startFileSource } from './sources/file.js';
import type { LineSource } from './sources/source.js';
import { startStdinSource } from './sources/stdin.js';
import { registerProcessMetrics } from './process-metrics.js';
import { protocolModule } from './protocols/index.js';
import {
  applyDnsProbe,
  applyDnsTotals,
  applyHandshakeReading,
  applyProbe,
  applyTunnelMissing,
  type ExporterState,
} from './state.js';
import { dnsProbe, unboundStats } from './dns/client.js';
import { answeredRcode, QTYPE } from './dns/query.js';
import { dnsOutcomes, parseUnboundStats } from './dns/unbound-stats.js';

/**
 * Runs fn now and then every intervalMs, start to start (a slow run delays the next, never overlaps it). When fn
 * resolves to `'again'` the next run starts at once: a failed probe is confirmed (or not) straight away, so a dead
 * tunnel reads down within interval + failures x timeout instead of failures x interval.
 */
function every(
  intervalMs: number,
  fn: () => Promise<void | 'again'>,
  onError: (err: unknown) => void = () => undefined,
): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (stopped) return;
    const started = Date.now();
    fn()
      .catch((err: unknown) => onError(err))
      .then((next) => {
        if (stopped) return;
        timer = setTimeout(tick, next === 'again' ? 0 : Math.max(0, started + intervalMs - Date.now()));
      });
  };
  tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

/**
 * The gateway's resolver on a hop that serves DNS: its statistics (answered and failed queries) and a probe query
 * through it, every dnsIntervalSeconds. Loopback TCP only; the resolver's own upstream traffic goes through the chain.
 */
function watchDns(config: Config, state: ExporterState, log: ReturnType<typeof createLogger>): () => void {
  const timeoutMs = config.dnsTimeoutSeconds * 1000;
  let lastProbe: string | undefined;
  let statsFailing = false;
  return every(config.dnsIntervalSeconds * 1000, async () => {
    if (config.dnsControl) {
      try {
        applyDnsTotals(state, dnsOutcomes(parseUnboundStats(await unboundStats(config.dnsControl, timeoutMs))));
        if (statsFailing) log.info('reading the DNS resolver statistics again');
        statsFailing = false;
      } catch (err) {
        // Expected while the resolver waits for an exit resolver or restarts for a new one: say it once.
        if (!statsFailing) log.warn('cannot read the DNS resolver statistics', { error: errorText(err) });
        statsFailing = true;
      }
    }
    if (config.dnsResolver) {
      const r = await dnsProbe(config.dnsResolver, config.dnsProbeName, QTYPE.NS, timeoutMs);
      const ok = r.rcode !== undefined && answeredRcode(r.rcode);
      const wasUp = state.dns.up;
      applyDnsProbe(state, ok);
      const outcome = r.rcode ?? r.error ?? 'unknown';
      if (outcome !== lastProbe || state.dns.up !== wasUp)
        log.info(ok ? 'DNS probe answered' : 'DNS probe failed', {
          resolver: `${config.dnsResolver.host}:${config.dnsResolver.port}`,
          outcome,
          millis: r.millis,
          dnsUp: state.dns.up,
        });
      lastProbe = outcome;
      if (!ok && state.dns.consecutiveProbeFailures < state.probeFailuresForDown) return 'again';
    }
    return undefined;
  });
}

export async function serve(config: Config): Promise<number> {
  const log = createLogger(config.logLevel);
  const processor = new LineProcessor(config.type, { probeFailuresForDown: config.probeFailures });
  const state = processor.state;
  const registry = createRegistry(state, { dns: !!(config.dnsResolver || config.dnsControl) });
  const stopProcessMetrics = await registerProcessMetrics(registry);
  let source: LineSource | undefined;
  const app = await buildHttp({ registry, state, source: () => source });
  const stoppers: (() => void)[] = [stopProcessMetrics];

  if (config.source === 'kube') {
    // Loaded only here: the Kubernetes client is the largest dependency, and the file and stdin modes never use it.
    const { startKubeSource } = await import('./sources/kube.js');
    source = startKubeSource(processor, {
      namespace: config.namespace as string,
      pod: config.pod as string,
      container: config.container,
      maxLineBytes: config.maxLineBytes,
      refreshSeconds: config.kubeRefreshSeconds,
      historySeconds: config.historySeconds,
      log,
    });
  } else if (config.source === 'file') {
    source = startFileSource(processor, { path: config.file as string, maxLineBytes: config.maxLineBytes, log });
  } else {
    source = startStdinSource(processor, { maxLineBytes: config.maxLineBytes, log });
  }

  const liveness = protocolModule(config.type).liveness;
  if (liveness.handshakeReader && config.tunInterface) {
    const read = await liveness.handshakeReader(config.handshakeReader, config.tunInterface);
    if (read) {
      let failing = false;
      stoppers.push(
        every(config.handshakeIntervalSeconds * 1000, async () => {
          try {
            applyHandshakeReading(state, await read(), Date.now() / 1000);
            if (failing) log.info('reading the WireGuard handshake again', { interface: config.tunInterface });
            failing = false;
          } catch (err) {
            // Expected in a sidecar without privileges: say it once; the probe still decides.
            if (!failing) log.warn('cannot read the WireGuard handshake', { error: errorText(err) });
            failing = true;
          }
        }),
      );
    }
  }

  if (config.probeTarget) {
    const configured = config.probeTarget;
    const ifname = config.tunInterface as string;
    let lastOk: boolean | undefined;
    let lastSkip: string | undefined;
    let lastProbeError: string | undefined;
    stoppers.push(
      every(
        config.probeIntervalSeconds * 1000,
        async () => {
          let target: HostPort;
          if (configured === 'auto') {
            const addresses = builtins.os().networkInterfaces()[ifname];
            if (addresses === undefined) {
              // No tunnel interface at all: the client is not (yet) running, so nothing can flow.
              applyTunnelMissing(state, Date.now() / 1000);
              if (lastSkip !== 'missing') log.warn('tunnel interface missing; tunnel down', { interface: ifname });
              lastSkip = 'missing';
              return;
            }
            const derived = autoProbeTarget(addresses);
            if ('reason' in derived) {
              if (lastSkip !== derived.reason) {
                log.warn('no probe target: set TORCHAIN_PROBE_TARGET', { interface: ifname, why: derived.reason });
              }
              lastSkip = derived.reason;
              return;
            }
            target = derived;
          } else target = configured;
          lastSkip = undefined;
          const result = await tcpProbe(target, config.probeTimeoutSeconds * 1000);
          const wasUp = state.tunnelUp;
          applyProbe(state, result.ok, Date.now() / 1000);
          if (result.ok !== lastOk || state.tunnelUp !== wasUp) {
            log.info(result.ok ? 'probe succeeded' : 'probe failed', {
              target: `${target.host}:${target.port}`,
              outcome: result.outcome,
              millis: result.millis,
              tunnelUp: state.tunnelUp,
            });
          }
          lastOk = result.ok;
          lastProbeError = undefined;
          // Not yet down after a failure: confirm at once rather than an interval later.
          if (!result.ok && state.consecutiveProbeFailures < state.probeFailuresForDown) return 'again';
          return undefined;
        },
        (err) => {
          // A probe that could not run leaves the state as it was: say so rather than go quiet.
          const error = errorText(err);
          if (error !== lastProbeError) log.warn('probe could not run; tunnel state unchanged', { error });
          lastProbeError = error;
        },
      ),
    );
  }

  if (config.dnsResolver || config.dnsControl) stoppers.push(watchDns(config, state, log));

  try {
    const bound = await app.listen(config.listen.host, config.listen.port);
    log.info('listening', {
      address: `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
      port: bound.port,
      type: config.type,
      source: config.source,
    });
  } catch (err) {
    log.error('cannot listen', {
      listen: `${config.listen.host}:${config.listen.port}`,
      error: errorText(err),
      hint: 'choose another --listen address or free the port',
    });
    await source.stop();
    for (const stop of stoppers) stop();
    return 1;
  }

  await new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      log.info('stopping', { signal });
      resolve();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  for (const stop of stoppers) stop();
  await source.stop();
  await app.close();
  return 0;
}
