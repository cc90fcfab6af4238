// The metrics contract over prom-client. Values live in ExporterState (plain numbers, cheap to update per line);
// prom-client reads them at scrape time through collect(), so a million lines cost no label hashing.
import { Counter, Gauge, Registry } from './prom.js';
import { DNS_RESULTS, METRICS, REASONS } from '../../common/contracts/metrics.js';
import { protocolModule } from './protocols/index.js';
import { lastLineTimestamp, type ExporterState } from './state.js';

/** `dns`: the hop serves DNS to the LAN, so the gateway resolver's metrics are exported too. */
export function createRegistry(state: ExporterState, opts: { dns?: boolean } = {}): Registry {
  const registry = new Registry();
  new Gauge({
    name: METRICS.tunnelUp,
    help: '1 while the VPN tunnel carries traffic (latest log line, probe or handshake says so), else 0.',
    registers: [registry],
    collect() {
      this.set(state.tunnelUp ? 1 : 0);
    },
  });
  new Counter({
    name: METRICS.connectionErrors,
    help: 'VPN connection failures, one per failure line or failed probe, by reason.',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const reason of REASONS) this.inc({ reason }, state.errors[reason]);
    },
  });
  new Counter({
    name: METRICS.restarts,
    help: 'VPN client restarts (OpenVPN "process restarting"), by the reason of the restart.',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const reason of REASONS) this.inc({ reason }, state.restarts[reason]);
    },
  });
  if (protocolModule(state.type).handshakeGauge) {
    new Gauge({
      name: METRICS.lastHandshake,
      help: 'Unix time of the latest completed handshake with the server (WireGuard; 0: none seen yet).',
      registers: [registry],
      collect() {
        this.set(state.lastHandshakeSeconds ?? 0);
      },
    });
  }
  new Counter({
    name: METRICS.lines,
    help: 'Log lines read, by whether a pattern matched them.',
    labelNames: ['matched'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ matched: 'true' }, state.linesMatched);
      this.inc({ matched: 'false' }, state.linesUnmatched);
    },
  });
  new Gauge({
    name: METRICS.lastLine,
    help: 'Unix time of the last log line (its own timestamp when it has one, else when it was read; 0: none yet).',
    registers: [registry],
    collect() {
      this.set(lastLineTimestamp(state) ?? 0);
    },
  });
  if (opts.dns) {
    new Gauge({
      name: METRICS.dnsUp,
      help: "1 while the gateway's DNS resolver answers the exporter's probe through the chain, else 0.",
      registers: [registry],
      collect() {
        this.set(state.dns.up ? 1 : 0);
      },
    });
    new Counter({
      name: METRICS.dnsQueries,
      help: "Queries the gateway's DNS resolver answered (NOERROR, NXDOMAIN) or failed (an error reply or none), by result.",
      labelNames: ['result'],
      registers: [registry],
      collect() {
        this.reset();
        for (const result of DNS_RESULTS) this.inc({ result }, state.dns[result]);
      },
    });
  }
  return registry;
}
