// The audit log kube-apiserver writes with --audit-log-path and a policy of `level: Metadata` with
// `omitStages: [RequestReceived]`: one audit.k8s.io/v1 Event per line — ResponseComplete for every request, plus
// ResponseStarted for long-running ones (watches, followed logs) and for failed authentication. Metadata level never
// carries request or response bodies, so no Secret data and no token reaches it (headers are not logged at all).
// Lines are appended through a buffered stream: a request never waits for the disk.
// https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/
import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { RequestInfo } from './request-info.js';
import type { UserInfo } from './rbac/types.js';

export interface ObjectRef {
  resource?: string;
  namespace?: string;
  name?: string;
  apiGroup?: string;
  apiVersion?: string;
  subresource?: string;
}

export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: 'Metadata';
  auditID: string;
  stage: 'ResponseStarted' | 'ResponseComplete';
  requestURI: string;
  verb: string;
  user: Partial<UserInfo>;
  impersonatedUser?: UserInfo;
  sourceIPs: string[];
  userAgent?: string;
  objectRef?: ObjectRef;
  responseStatus: { metadata: Record<string, never>; code: number; status?: string; reason?: string; message?: string };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** What one request contributes to its audit events, filled in as the request is handled. */
export class AuditContext {
  readonly auditID: string;
  readonly received = Date.now();
  user: Partial<UserInfo> = {};
  impersonatedUser?: UserInfo;
  info?: RequestInfo;
  annotations: Record<string, string> = {};
  failure?: { status: string; reason?: string; message?: string };
  private started = false;

  constructor(
    private readonly log: AuditLog | undefined,
    private readonly req: IncomingMessage,
  ) {
    const given = req.headers['audit-id'];
    this.auditID = typeof given === 'string' && given ? given : randomUUID();
  }

  /** A long-running response has started (watch, log follow): the ResponseStarted event. */
  responseStarted(code: number): void {
    if (this.started) return;
    this.started = true;
    this.emit('ResponseStarted', code);
  }

  complete(code: number): void {
    this.emit('ResponseComplete', code);
  }

  emit(stage: AuditEvent['stage'], code: number): void {
    if (!this.log) return;
    const info = this.info;
    const ev: AuditEvent = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: this.auditID,
      stage,
      requestURI: this.req.url ?? '/',
      verb: info?.verb ?? (this.req.method ?? '').toLowerCase(),
      user: this.user,
      sourceIPs: sourceIPs(this.req),
      userAgent: this.req.headers['user-agent'],
      responseStatus: { metadata: {}, code, ...(code >= 400 ? this.failure : {}) },
      requestReceivedTimestamp: microTime(this.received),
      stageTimestamp: microTime(Date.now()),
    };
    if (this.impersonatedUser) ev.impersonatedUser = this.impersonatedUser;
    if (info?.resourceRequest) {
      const ref: ObjectRef = {};
      if (info.resource) ref.resource = info.resource;
      if (info.namespace) ref.namespace = info.namespace;
      if (info.name) ref.name = info.name;
      if (info.apiGroup) ref.apiGroup = info.apiGroup;
      if (info.apiVersion) ref.apiVersion = info.apiVersion;
      if (info.subresource) ref.subresource = info.subresource;
      ev.objectRef = ref;
    }
    if (Object.keys(this.annotations).length) ev.annotations = this.annotations;
    this.log.write(ev);
  }
}

function sourceIPs(req: IncomingMessage): string[] {
  const out: string[] = [];
  const fwd = req.headers['x-forwarded-for'];
  if (typeof fwd === 'string')
    out.push(
      ...fwd
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
  const remote = req.socket.remoteAddress?.replace(/^::ffff:/, '');
  if (remote && !out.includes(remote)) out.push(remote);
  return out;
}

export class AuditLog {
  private readonly stream: WriteStream;
  private failed = false;

  constructor(
    readonly path: string,
    private readonly onError: (err: Error) => void,
  ) {
    this.stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
    this.stream.on('error', (err) => {
      if (!this.failed) this.onError(err);
      this.failed = true;
    });
  }

  private closed = false;

  write(ev: AuditEvent): void {
    // Requests still finishing while the server shuts down are not written after the file is closed.
    if (!this.failed && !this.closed) this.stream.write(JSON.stringify(ev) + '\n');
  }

  /** Flushes what is buffered and closes the file. */
  close(): Promise<void> {
    this.closed = true;
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }
}
