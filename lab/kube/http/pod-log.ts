// GET pods/{name}/log: the container choice, since/tail/limit options, follow streams and the error messages of
// the kubelet and API server. The lab kubelet appends the lines in-process (PodLogs).
// https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#get-read-log-of-the-specified-pod
import { badRequest } from '../errors.js';
import { parseRfc3339, type LogLine } from '../pod-logs.js';
import type { Obj } from '../types.js';
import type { Call, HttpDeps } from './context.js';

/** GET pods/{name}/log: container choice and errors as the kubelet/apiserver word them. */
export function servePodLog(d: HttpDeps, call: Call): void {
  const { req, res, route: r, q } = call;
  const { api, logs } = d;
  const pod = api.get(r.t, r.ns!, r.name!);
  const spec = (pod.spec ?? {}) as Obj;
  const containers = ((spec.containers as Obj[] | undefined) ?? []).map((c) => String(c.name));
  const inits = ((spec.initContainers as Obj[] | undefined) ?? []).map((c) => String(c.name));
  let container = q.get('container') ?? '';
  const podName = pod.metadata.name!;
  if (!container) {
    if (containers.length === 1 && inits.length === 0) container = containers[0]!;
    else
      throw badRequest(
        `a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]${inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : ''}`,
      );
  }
  if (!containers.includes(container) && !inits.includes(container))
    throw badRequest(`container ${container} is not valid for pod ${podName}`);
  const previous = q.get('previous') === 'true';
  const follow = q.get('follow') === 'true' && !previous;
  const stored = logs.read(r.ns!, podName, pod.metadata.uid!, container, previous);
  if (!stored) {
    if (previous) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    const statuses = [
      ...(((pod.status as Obj | undefined)?.containerStatuses as Obj[] | undefined) ?? []),
      ...(((pod.status as Obj | undefined)?.initContainerStatuses as Obj[] | undefined) ?? []),
    ];
    const st = statuses.find((s) => s.name === container)?.state as Obj | undefined;
    if (!st || (!st.running && !st.terminated)) {
      const reason = ((st?.waiting as Obj | undefined)?.reason as string | undefined) ?? 'ContainerCreating';
      throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
    }
  }
  const timestamps = q.get('timestamps') === 'true';
  let since = -Infinity;
  if (q.get('sinceTime')) {
    since = parseRfc3339(q.get('sinceTime')!);
    if (Number.isNaN(since))
      throw badRequest(`parsing time "${q.get('sinceTime')}" as "2006-01-02T15:04:05Z07:00": cannot parse`);
  } else if (q.get('sinceSeconds')) since = Date.now() - Number(q.get('sinceSeconds')) * 1000;
  let lines = (stored ?? []).filter((l) => l.ms >= since);
  const tail = q.get('tailLines');
  if (tail !== null && Number(tail) >= 0) lines = Number(tail) === 0 ? [] : lines.slice(-Number(tail));
  let budget = q.get('limitBytes') ? Number(q.get('limitBytes')) : Infinity;
  const fmt = (l: LogLine) => (timestamps ? `${l.time} ${l.text}\n` : `${l.text}\n`);
  res.writeHead(200, {
    'Content-Type': 'text/plain',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  const emit = (l: LogLine): boolean => {
    const text = fmt(l);
    if (Buffer.byteLength(text) > budget) {
      res.write(Buffer.from(text).subarray(0, budget));
      budget = 0;
      return false;
    }
    budget -= Buffer.byteLength(text);
    res.write(text);
    return true;
  };
  for (const l of lines) if (!emit(l)) return void res.end();
  if (!follow) return void res.end();
  res.flushHeaders();
  call.audit.responseStarted(200);
  let done = false;
  const stop = () => {
    if (done) return;
    done = true;
    off();
    d.watchClosers.delete(stop);
    res.end();
  };
  const off = logs.follow(r.ns!, podName, pod.metadata.uid!, container, {
    line: (l) => {
      if (done) return;
      if (!emit(l)) stop();
    },
    end: stop,
  });
  req.on('close', stop);
  d.watchClosers.add(stop);
}
