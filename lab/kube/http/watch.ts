// Watch streams: replay from a resourceVersion (bounded per-resource history, 410 Expired beyond it), the current
// state as ADDED events, bookmarks, sendInitialEvents, timeouts, selector transitions as ADDED/DELETED, and a cut-off
// for clients that stop reading. Each event is serialised once and shared by every watcher.
import { badRequest, statusObject } from '../errors.js';
import type { StoreEvent } from '../store.js';
import { toTable } from '../table.js';
import { groupVersion, resourceKey, type KObject } from '../types.js';
import type { Call, HttpDeps } from './context.js';
import { negotiate, selectorsOf, tableOptions } from './negotiation.js';

const WATCH_BUFFER_LIMIT = 32 * 1024 * 1024;

/**
 * Watch: replays history after `resourceVersion` (410 Expired as an ERROR event when it is older than the history),
 * or sends the current state as ADDED events when no resourceVersion (or "0") is given; then live events.
 * Objects leaving or entering a selector arrive as DELETED/ADDED, as the watch cache sends them.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
 */
export function serveWatch(d: HttpDeps, c: Call, name?: string): void {
  const { req, res, route: r, q } = c;
  const { api } = d;
  const { t } = r;
  const { labels, fields } = selectorsOf(api, t, q);
  if (name !== undefined) fields.push({ field: 'metadata.name', op: '=', value: name });
  const fieldSel = q.get('fieldSelector') ?? '';
  const nameFromSel = /^metadata\.name=([^,]+)$/.exec(fieldSel)?.[1];
  const n = negotiate(req.headers.accept);
  const rk = resourceKey(t);
  const rvParam = q.get('resourceVersion') ?? '';
  const bookmarks = q.get('allowWatchBookmarks') === 'true';
  const initialEvents = q.get('sendInitialEvents') === 'true';
  const timeoutSeconds = q.get('timeoutSeconds')
    ? Number(q.get('timeoutSeconds'))
    : 1800 + Math.floor(Math.random() * 1800);
  const ns = t.namespaced ? r.ns : undefined;
  const gv = groupVersion(t.group, r.version);
  let replay: StoreEvent[] | 'expired' = [];
  if (rvParam !== '' && rvParam !== '0' && !initialEvents) {
    if (!/^\d+$/.test(rvParam)) throw badRequest(`invalid resource version: ${rvParam}`);
    replay = api.store.eventsSince(rk, Number(rvParam));
  }
  res.writeHead(200, {
    'Content-Type':
      n.kind === 'table' ? `application/json;as=Table;v=${n.tableVersion};g=meta.k8s.io` : 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();
  c.audit.responseStarted(200);
  if (replay === 'expired') {
    const oldest = api.store.oldestRv(rk);
    res.end(
      JSON.stringify({
        type: 'ERROR',
        object: statusObject('Failure', 410, 'Expired', `too old resource version: ${rvParam} (${oldest})`),
      }) + '\n',
    );
    return;
  }
  let first = true;
  let closed = false;
  const encode = (type: string, obj: KObject, ev?: StoreEvent): string => {
    if (n.kind === 'table') {
      const table = toTable([obj.apiVersion === gv ? obj : { ...obj, apiVersion: gv }], {
        ...tableOptions(t, r.version, n, q, obj.metadata.resourceVersion),
        withHeaders: first,
      });
      first = false;
      return JSON.stringify({ type, object: table }) + '\n';
    }
    if (n.kind === 'metadata')
      return (
        JSON.stringify({
          type,
          object: {
            kind: 'PartialObjectMetadata',
            apiVersion: `meta.k8s.io/${n.tableVersion ?? 'v1'}`,
            metadata: obj.metadata,
          },
        }) + '\n'
      );
    const key = `${type}|${gv}`;
    const cached = ev?.encoded?.get(key);
    if (cached) return cached;
    const text = JSON.stringify({ type, object: obj.apiVersion === gv ? obj : { ...obj, apiVersion: gv } }) + '\n';
    if (ev) (ev.encoded ??= new Map()).set(key, text);
    return text;
  };
  const write = (text: string) => {
    if (closed) return;
    res.write(text);
    if (res.writableLength > WATCH_BUFFER_LIMIT) {
      d.log({ msg: 'watch closed: client too slow', resource: rk, buffered: res.writableLength });
      stop();
      res.destroy();
    }
  };
  const matches = (o: KObject | undefined) =>
    o !== undefined &&
    (nameFromSel === undefined || o.metadata.name === nameFromSel) &&
    api.matches(t, o, labels, fields);
  const deliver = (ev: StoreEvent) => {
    const now = matches(ev.object);
    const before = ev.type !== 'ADDED' && matches(ev.prev);
    if (ev.type === 'ADDED') {
      if (now) write(encode('ADDED', ev.object, ev));
    } else if (ev.type === 'MODIFIED') {
      if (now && before) write(encode('MODIFIED', ev.object, ev));
      else if (now) write(encode('ADDED', ev.object, ev));
      else if (before) write(encode('DELETED', ev.object, ev));
    } else if (before || now) write(encode('DELETED', ev.object, ev));
  };
  if (rvParam === '' || rvParam === '0' || initialEvents) {
    const objs = ns !== undefined ? api.store.list(rk, ns) : api.store.list(rk);
    for (const o of objs) if (matches(o)) write(encode('ADDED', o));
    if (initialEvents)
      write(
        JSON.stringify({
          type: 'BOOKMARK',
          object: {
            kind: t.kind,
            apiVersion: gv,
            metadata: {
              resourceVersion: String(api.store.resourceVersion),
              creationTimestamp: null,
              annotations: { 'k8s.io/initial-events-end': 'true' },
            },
          },
        }) + '\n',
      );
  } else for (const ev of replay) deliver(ev);
  const unwatch = api.store.watch(rk, { namespace: ns, deliver });
  const bookmarkTimer = bookmarks
    ? setInterval(
        () =>
          write(
            JSON.stringify({
              type: 'BOOKMARK',
              object: {
                kind: t.kind,
                apiVersion: gv,
                metadata: { resourceVersion: String(api.store.resourceVersion), creationTimestamp: null },
              },
            }) + '\n',
          ),
        d.bookmarkIntervalMs,
      )
    : undefined;
  const timeout = setTimeout(() => {
    stop();
    res.end();
  }, timeoutSeconds * 1000);
  const closer = () => {
    stop();
    res.end();
  };
  const stop = () => {
    if (closed) return;
    closed = true;
    unwatch();
    if (bookmarkTimer) clearInterval(bookmarkTimer);
    clearTimeout(timeout);
    d.watchClosers.delete(closer);
  };
  req.on('close', stop);
  res.on('close', stop);
  d.watchClosers.add(closer);
}
