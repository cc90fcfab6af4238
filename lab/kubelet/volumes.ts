// Materialises a pod's volumes on the host the way the kubelet does: Secret, ConfigMap, downwardAPI and projected
// volumes (ServiceAccount tokens bound to the pod, minted through TokenRequest and rotated before they expire,
// kube-root-ca.crt, the namespace) become files with the volume's modes, group-owned by the pod's fsGroup;
// emptyDir is an empty directory; hostPath is the host path, checked against its declared type.
// https://kubernetes.io/docs/concepts/storage/projected-volumes/#serviceaccounttoken
import { chmodSync, chownSync, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { V1KeyToPath, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { Kube } from '../kube/server.js';

export interface VolumeSources {
  secret(namespace: string, name: string): Record<string, Buffer> | undefined;
  configMap(namespace: string, name: string): Record<string, Buffer> | undefined;
}

export interface MaterialisedVolume {
  name: string;
  path: string;
}

const DEFAULT_MODE = 0o644;

function writeAtomic(path: string, data: Buffer | string, mode: number, gid: number | undefined): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  if (gid !== undefined) chownSync(tmp, 0, gid);
  renameSync(tmp, path);
}

/** Keys of `data` as files: all of them, or only `items` (each with its own path and mode). */
function projectKeys(
  data: Record<string, Buffer>,
  items: V1KeyToPath[] | undefined,
  what: string,
  optional: boolean,
): Array<{ path: string; value: Buffer; mode?: number }> {
  if (!items?.length) return Object.entries(data).map(([k, v]) => ({ path: k, value: v }));
  const out: Array<{ path: string; value: Buffer; mode?: number }> = [];
  for (const it of items) {
    const value = data[it.key];
    if (value === undefined) {
      if (optional) continue;
      throw new Error(`${what} has no key ${it.key}`);
    }
    out.push({ path: it.path, value, mode: it.mode });
  }
  return out;
}

export class PodVolumes {
  private readonly timers: NodeJS.Timeout[] = [];
  readonly volumes = new Map<string, string>();

  constructor(
    private readonly pod: V1Pod,
    private readonly dir: string,
    private readonly kube: Kube,
    private readonly sources: VolumeSources,
  ) {}

  private get ns(): string {
    return this.pod.metadata!.namespace!;
  }

  private get fsGroup(): number | undefined {
    return this.pod.spec?.securityContext?.fsGroup;
  }

  /** Writes every volume; throws (CreateContainerConfigError) when a required Secret/ConfigMap or key is missing. */
  materialise(): Map<string, string> {
    for (const v of this.pod.spec?.volumes ?? []) this.volumes.set(v.name, this.one(v));
    return this.volumes;
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
  }

  private one(v: V1Volume): string {
    const dir = join(this.dir, 'volumes', v.name);
    if (v.hostPath) return this.hostPath(v);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    if (v.emptyDir) {
      chmodSync(dir, 0o1777);
      return dir;
    }
    const files: Array<{ path: string; value: Buffer | string; mode?: number }> = [];
    let defaultMode = DEFAULT_MODE;
    if (v.secret) {
      defaultMode = v.secret.defaultMode ?? DEFAULT_MODE;
      const data = this.sources.secret(this.ns, v.secret.secretName ?? '');
      if (!data) {
        if (!v.secret.optional) throw new Error(`secret "${v.secret.secretName}" not found (volume ${v.name})`);
      } else files.push(...projectKeys(data, v.secret.items, `secret ${v.secret.secretName}`, !!v.secret.optional));
    } else if (v.configMap) {
      defaultMode = v.configMap.defaultMode ?? DEFAULT_MODE;
      const data = this.sources.configMap(this.ns, v.configMap.name ?? '');
      if (!data) {
        if (!v.configMap.optional) throw new Error(`configmap "${v.configMap.name}" not found (volume ${v.name})`);
      } else
        files.push(...projectKeys(data, v.configMap.items, `configmap ${v.configMap.name}`, !!v.configMap.optional));
    } else if (v.downwardAPI) {
      defaultMode = v.downwardAPI.defaultMode ?? DEFAULT_MODE;
      for (const it of v.downwardAPI.items ?? [])
        files.push({ path: it.path, value: this.field(it.fieldRef?.fieldPath) });
    } else if (v.projected) {
      defaultMode = v.projected.defaultMode ?? DEFAULT_MODE;
      for (const src of v.projected.sources ?? []) {
        if (src.serviceAccountToken) this.projectToken(dir, src.serviceAccountToken, defaultMode);
        else if (src.configMap) {
          const data = this.sources.configMap(this.ns, src.configMap.name ?? '');
          if (!data && !src.configMap.optional) throw new Error(`configmap "${src.configMap.name}" not found`);
          if (data) files.push(...projectKeys(data, src.configMap.items, `configmap ${src.configMap.name}`, false));
        } else if (src.secret) {
          const data = this.sources.secret(this.ns, src.secret.name ?? '');
          if (!data && !src.secret.optional) throw new Error(`secret "${src.secret.name}" not found`);
          if (data) files.push(...projectKeys(data, src.secret.items, `secret ${src.secret.name}`, false));
        } else if (src.downwardAPI)
          for (const it of src.downwardAPI.items ?? [])
            files.push({ path: it.path, value: this.field(it.fieldRef?.fieldPath), mode: it.mode });
      }
    } else throw new Error(`volume ${v.name}: this kind of volume is not supported by the lab kubelet`);
    for (const f of files) writeAtomic(join(dir, f.path), f.value, f.mode ?? defaultMode, this.fsGroup);
    return dir;
  }

  private hostPath(v: V1Volume): string {
    const { path, type } = v.hostPath!;
    const exists = existsSync(path);
    const st = exists ? statSync(path) : undefined;
    const bad = (want: string) => new Error(`hostPath ${path} (volume ${v.name}) is not a ${want}`);
    switch (type) {
      case 'CharDevice':
        if (!st?.isCharacterDevice()) throw bad('character device');
        break;
      case 'Directory':
        if (!st?.isDirectory()) throw bad('directory');
        break;
      case 'File':
        if (!st?.isFile()) throw bad('file');
        break;
      case 'DirectoryOrCreate':
        if (!exists) mkdirSync(path, { recursive: true, mode: 0o755 });
        break;
      default:
        break;
    }
    return path;
  }

  private field(path: string | undefined): string {
    const m = this.pod.metadata ?? {};
    if (path === 'metadata.namespace') return m.namespace ?? '';
    if (path === 'metadata.name') return m.name ?? '';
    if (path === 'metadata.uid') return m.uid ?? '';
    if (path === 'metadata.labels')
      return Object.entries(m.labels ?? {})
        .map(([k, v]) => `${k}="${v}"`)
        .join('\n');
    if (path === 'metadata.annotations')
      return Object.entries(m.annotations ?? {})
        .map(([k, v]) => `${k}="${v}"`)
        .join('\n');
    throw new Error(`downwardAPI fieldRef ${String(path)} is not supported by the lab kubelet`);
  }

  /** A token bound to this pod; rewritten at 80% of its lifetime, as the kubelet's token manager does. */
  private projectToken(
    dir: string,
    src: { audience?: string; expirationSeconds?: number; path: string },
    mode: number,
  ): void {
    const m = this.pod.metadata!;
    const sa = this.pod.spec?.serviceAccountName || 'default';
    const expirationSeconds = src.expirationSeconds ?? 3600;
    const mint = () =>
      this.kube.mintServiceAccountToken(this.ns, sa, {
        expirationSeconds,
        ...(src.audience ? { audiences: [src.audience] } : {}),
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: m.name!, uid: m.uid! },
      });
    const rotate = () => {
      try {
        writeAtomic(join(dir, src.path), mint(), mode, this.fsGroup);
        this.timers.push(setTimeout(rotate, expirationSeconds * 800).unref());
      } catch {
        /* the pod or its ServiceAccount is gone: the pod is being stopped */
      }
    };
    // The first token must exist before any container starts: let that error through.
    writeAtomic(join(dir, src.path), mint(), mode, this.fsGroup);
    this.timers.push(setTimeout(rotate, expirationSeconds * 800).unref());
  }
}
