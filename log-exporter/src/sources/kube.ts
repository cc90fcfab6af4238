// Kubernetes source: follows the `vpn` container's log of the exporter's own pod through the API server
// (the pods/log API, follow=true, timestamps=true; kube-api.ts). A dropped stream is resumed with sinceTime and
// de-duplicated by timestamp (kube-cursor.ts), so no line is counted twice or lost. The stream is also renewed every
// refreshSeconds: a half-open connection would otherwise stay silent forever, and a healthy VPN client is quiet too.
import { errorText, type Logger } from '../log.js';
import { LineSplitter } from '../line-splitter.js';
import type { LineProcessor } from '../processor.js';
import { splitKubeTimestamp } from '../timestamps.js';
import { followLog, loadKubeAccess, type KubeAccess, type LogStream } from './kube-api.js';
import { ResumeCursor } from './kube-cursor.js';
import type { LineSource, SourceStatus } from './source.js';

export interface KubeSourceOptions {
  namespace: string;
  pod: string;
  container: string;
  maxLineBytes: number;
  refreshSeconds: number;
  /** Lines older than this many seconds before the exporter started are history: state only, not counted. */
  historySeconds: number;
  log: Logger;
  /** Defaults to the pod's ServiceAccount, else $KUBECONFIG / ~/.kube/config (kube-api.ts). */
  access?: KubeAccess;
  backoff?: { initialMs: number; maxMs: number };
}

export function startKubeSource(processor: LineProcessor, opts: KubeSourceOptions): LineSource {
  let access = opts.access;
  const cursor = new ResumeCursor();
  const status: SourceStatus = { kind: 'kube', state: 'starting' };
  const backoff = opts.backoff ?? { initialMs: 500, maxMs: 15_000 };
  const where = `pod ${opts.namespace}/${opts.pod} container ${opts.container}`;
  let stopped = false;
  let controller: LogStream | undefined;
  let wake: (() => void) | undefined;

  // The container's whole log is read on start (the tunnel state needs it); what is older than this is history.
  const countFrom = BigInt(Date.now() - opts.historySeconds * 1000) * 1_000_000n;

  const onRawLine = (raw: string) => {
    const t = splitKubeTimestamp(raw);
    if (!t) {
      processor.line(raw);
      return;
    }
    if (cursor.accept(t.nanos)) processor.line(t.line, Number(t.nanos / 1_000_000n) / 1000, t.nanos < countFrom);
  };

  /** One follow request; resolves when the stream ends, fails, or is renewed. */
  async function follow(): Promise<'ended' | 'renewed'> {
    cursor.reconnect();
    const splitter = new LineSplitter(opts.maxLineBytes + 40, {
      line: onRawLine,
      oversized: () => processor.oversized(),
    });
    let finish!: (how: 'ended' | 'renewed') => void;
    const done = new Promise<'ended' | 'renewed'>((resolve) => (finish = resolve));
    const sinceTime = cursor.sinceTime();
    // Credentials are looked up again after a failure (a kubeconfig may appear or change); the token file is read at
    // every request anyway.
    access ??= loadKubeAccess();
    controller = await followLog(
      access,
      { namespace: opts.namespace, pod: opts.pod, container: opts.container, sinceTime },
      (chunk) => splitter.push(chunk),
    );
    void controller.done.then(() => finish('ended'));
    status.state = 'running';
    delete status.detail;
    opts.log.info('following the VPN log', { source: 'kube', pod: opts.pod, container: opts.container, sinceTime });
    const refresh = setTimeout(() => {
      finish('renewed');
    }, opts.refreshSeconds * 1000);
    wake = () => finish('renewed');
    const how = await done;
    clearTimeout(refresh);
    controller.abort();
    // A partial last line is dropped: it has no recorded timestamp, so the next stream sends it again whole.
    return how;
  }

  const run = async () => {
    let delay = backoff.initialMs;
    while (!stopped) {
      try {
        const how = await follow();
        if (stopped) break;
        if (how === 'ended') {
          // The container restarted or the API server closed the stream: resume right away, then back off if it
          // keeps ending immediately.
          opts.log.info('log stream ended; resuming', { source: 'kube', sinceTime: cursor.sinceTime() });
        } else {
          delay = backoff.initialMs;
          continue;
        }
      } catch (err) {
        if (stopped) break;
        if (!opts.access) access = undefined;
        status.state = 'retrying';
        status.detail = `cannot follow the log of ${where}: ${describe(err)}`;
        opts.log.warn('cannot follow the VPN log; retrying', { source: 'kube', error: status.detail });
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      delay = Math.min(delay * 2, backoff.maxMs);
    }
  };
  const running = run();

  return {
    status: () => ({ ...status }),
    async stop() {
      stopped = true;
      controller?.abort();
      wake?.();
      await running;
    },
  };
}

function describe(err: unknown): string {
  const e = err as { code?: number; body?: unknown };
  if (typeof e?.code === 'number') {
    const hint =
      e.code === 403
        ? ' (RBAC: the pod service account needs get on pods/log in its namespace)'
        : e.code === 404
          ? ' (check POD_NAME/POD_NAMESPACE)'
          : e.code === 400
            ? ' (the container may not have started yet)'
            : '';
    return `HTTP ${e.code}${hint}: ${typeof e.body === 'string' ? e.body.slice(0, 200) : errorText(err)}`;
  }
  return errorText(err);
}
