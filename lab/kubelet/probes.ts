// Container probes as the kubelet runs them: startup gates the others; readiness sets the container's ready flag;
// liveness failing failureThreshold times in a row restarts the container. httpGet (port by number or name) and
// tcpSocket against the pod IP. https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
import { connect } from 'node:net';
import type { V1Container, V1Probe } from '@kubernetes/client-node';

export type ProbeKind = 'startup' | 'readiness' | 'liveness';

export interface ProbeOutcome {
  kind: ProbeKind;
  /** The probe's verdict after its thresholds (not a single attempt). */
  passing: boolean;
}

function portOf(c: V1Container, port: number | string): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = c.ports?.find((p) => p.name === port)?.containerPort;
  if (named === undefined) throw new Error(`container ${c.name} has no port named ${port}`);
  return named;
}

async function attempt(probe: V1Probe, c: V1Container, podIP: string): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const port = portOf(c, probe.httpGet.port as number | string);
    const scheme = (probe.httpGet.scheme ?? 'HTTP').toLowerCase();
    try {
      const res = await fetch(`${scheme}://${probe.httpGet.host ?? podIP}:${port}${probe.httpGet.path ?? '/'}`, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value])),
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.status >= 200 && res.status < 400;
    } catch {
      return false;
    }
  }
  if (probe.tcpSocket) {
    const port = portOf(c, probe.tcpSocket.port as number | string);
    return new Promise((resolve) => {
      const s = connect({ host: probe.tcpSocket!.host ?? podIP, port, timeout: timeoutMs });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.once('timeout', () => {
        s.destroy();
        resolve(false);
      });
    });
  }
  throw new Error(`container ${c.name}: only httpGet and tcpSocket probes are supported by the lab kubelet`);
}

/** Runs one probe of one container instance until stopped; reports every change of its verdict. */
export class ProbeRunner {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  passing: boolean;

  constructor(
    readonly kind: ProbeKind,
    private readonly probe: V1Probe,
    private readonly container: V1Container,
    private readonly podIP: string,
    private readonly onChange: (o: ProbeOutcome) => void,
  ) {
    // Readiness starts false; liveness and startup are presumed passing until proven otherwise... except startup,
    // which gates the others and so starts not passed.
    this.passing = kind === 'liveness';
  }

  start(): void {
    this.timer = setTimeout(() => void this.tick(), (this.probe.initialDelaySeconds ?? 0) * 1000);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let ok: boolean;
    try {
      ok = await attempt(this.probe, this.container, this.podIP);
    } catch {
      ok = false;
    }
    if (this.stopped) return;
    if (ok) {
      this.successes += 1;
      this.failures = 0;
    } else {
      this.failures += 1;
      this.successes = 0;
    }
    const before = this.passing;
    if (ok && this.successes >= (this.probe.successThreshold ?? 1)) this.passing = true;
    if (!ok && this.failures >= (this.probe.failureThreshold ?? 3)) this.passing = false;
    if (this.passing !== before) this.onChange({ kind: this.kind, passing: this.passing });
    // A passed startup probe is not run again.
    if (this.kind === 'startup' && this.passing) return;
    this.timer = setTimeout(() => void this.tick(), (this.probe.periodSeconds ?? 10) * 1000);
  }
}
