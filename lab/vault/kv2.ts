// One KV version 2 secrets engine mount, kept in memory, with the semantics of
// https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2 : versions, check-and-set, soft delete, undelete,
// destroy, max_versions, metadata, and listing by path segment.

export interface VersionMeta {
  created_time: string;
  custom_metadata: Record<string, string> | null;
  deletion_time: string;
  destroyed: boolean;
  version: number;
}

interface Version {
  data: Record<string, unknown> | null;
  created: Date;
  deleted?: Date;
  destroyed: boolean;
}

interface Secret {
  versions: Map<number, Version>;
  currentVersion: number;
  oldestVersion: number;
  maxVersions: number;
  casRequired: boolean;
  customMetadata: Record<string, string> | null;
  created: Date;
  updated: Date;
}

/** A failed KV operation with the HTTP status and message real Vault answers. */
export class KvError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

const MOUNT_MAX_VERSIONS = 10; // KV v2's default when neither the mount nor the secret sets max_versions

export class KvV2 {
  private readonly secrets = new Map<string, Secret>();

  constructor(private readonly now: () => number) {}

  private versionMeta(s: Secret, n: number): VersionMeta {
    const v = s.versions.get(n) as Version;
    return {
      created_time: v.created.toISOString(),
      custom_metadata: s.customMetadata,
      deletion_time: v.deleted ? v.deleted.toISOString() : '',
      destroyed: v.destroyed,
      version: n,
    };
  }

  exists(path: string): boolean {
    return this.secrets.has(path);
  }

  read(path: string, version?: number): { data: Record<string, unknown>; metadata: VersionMeta } {
    const s = this.secrets.get(path);
    if (!s) throw new KvError(404, '');
    const n = version && version > 0 ? version : s.currentVersion;
    const v = s.versions.get(n);
    if (!v) throw new KvError(404, '');
    const metadata = this.versionMeta(s, n);
    // A deleted or destroyed version answers 404 but still carries its metadata, as Vault does.
    if (v.destroyed || (v.deleted && v.deleted.getTime() <= this.now()) || v.data === null) {
      throw new KvError(404, '', { data: null, metadata });
    }
    return { data: structuredClone(v.data), metadata };
  }

  write(path: string, data: unknown, options: { cas?: unknown } | undefined): VersionMeta {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new KvError(400, 'no data provided');
    const cas = options?.cas;
    if (cas !== undefined && (typeof cas !== 'number' || !Number.isInteger(cas) || cas < 0)) {
      throw new KvError(400, 'invalid value for "cas": expected a non-negative integer');
    }
    const existing = this.secrets.get(path);
    if (existing?.casRequired && cas === undefined) {
      throw new KvError(400, 'check-and-set parameter required for this call');
    }
    if (cas !== undefined && cas !== (existing?.currentVersion ?? 0)) {
      throw new KvError(400, 'check-and-set parameter did not match the current version');
    }
    const now = new Date(this.now());
    const s: Secret = existing ?? emptySecret(now);
    const n = s.currentVersion + 1;
    s.versions.set(n, { data: structuredClone(data as Record<string, unknown>), created: now, destroyed: false });
    s.currentVersion = n;
    s.updated = now;
    if (s.oldestVersion === 0) s.oldestVersion = 1;
    const keep = s.maxVersions > 0 ? s.maxVersions : MOUNT_MAX_VERSIONS;
    while (n - s.oldestVersion + 1 > keep) {
      s.versions.delete(s.oldestVersion);
      s.oldestVersion++;
    }
    this.secrets.set(path, s);
    return this.versionMeta(s, n);
  }

  /** DELETE <mount>/data/<path>: soft-deletes the latest version. */
  deleteLatest(path: string): void {
    const s = this.secrets.get(path);
    if (!s) return;
    const v = s.versions.get(s.currentVersion);
    if (v && !v.deleted && !v.destroyed) v.deleted = new Date(this.now());
  }

  private versionsArg(versions: unknown): number[] {
    if (!Array.isArray(versions) || versions.length === 0) throw new KvError(400, 'no version number provided');
    return versions.map((x) => {
      const n = typeof x === 'string' ? Number(x) : x;
      if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) throw new KvError(400, `invalid version "${x}"`);
      return n;
    });
  }

  deleteVersions(path: string, versions: unknown): void {
    const list = this.versionsArg(versions);
    const s = this.secrets.get(path);
    for (const n of list) {
      const v = s?.versions.get(n);
      if (v && !v.deleted && !v.destroyed) v.deleted = new Date(this.now());
    }
  }

  undeleteVersions(path: string, versions: unknown): void {
    const list = this.versionsArg(versions);
    const s = this.secrets.get(path);
    for (const n of list) {
      const v = s?.versions.get(n);
      if (v && !v.destroyed) delete v.deleted;
    }
  }

  destroyVersions(path: string, versions: unknown): void {
    const list = this.versionsArg(versions);
    const s = this.secrets.get(path);
    for (const n of list) {
      const v = s?.versions.get(n);
      if (v) {
        v.destroyed = true;
        v.data = null;
      }
    }
  }

  readMetadata(path: string): Record<string, unknown> {
    const s = this.secrets.get(path);
    if (!s) throw new KvError(404, '');
    const versions: Record<string, unknown> = {};
    for (const n of [...s.versions.keys()].sort((a, b) => a - b)) {
      const { created_time, deletion_time, destroyed } = this.versionMeta(s, n);
      versions[String(n)] = { created_time, deletion_time, destroyed };
    }
    return {
      cas_required: s.casRequired,
      created_time: s.created.toISOString(),
      current_version: s.currentVersion,
      custom_metadata: s.customMetadata,
      delete_version_after: '0s',
      max_versions: s.maxVersions,
      oldest_version: s.oldestVersion,
      updated_time: s.updated.toISOString(),
      versions,
    };
  }

  writeMetadata(path: string, body: Record<string, unknown>): void {
    const now = new Date(this.now());
    const s: Secret = this.secrets.get(path) ?? emptySecret(now);
    if (body.max_versions !== undefined) {
      if (!Number.isInteger(body.max_versions) || (body.max_versions as number) < 0) {
        throw new KvError(400, 'invalid value for "max_versions": expected a non-negative integer');
      }
      s.maxVersions = body.max_versions as number;
    }
    if (body.cas_required !== undefined) {
      if (typeof body.cas_required !== 'boolean') throw new KvError(400, 'invalid value for "cas_required"');
      s.casRequired = body.cas_required;
    }
    if (body.custom_metadata !== undefined) {
      const cm = body.custom_metadata;
      if (typeof cm !== 'object' || cm === null || Object.values(cm).some((v) => typeof v !== 'string')) {
        throw new KvError(400, 'invalid value for "custom_metadata": expected a map of strings');
      }
      s.customMetadata = { ...(cm as Record<string, string>) };
    }
    s.updated = now;
    this.secrets.set(path, s);
  }

  deleteMetadata(path: string): void {
    this.secrets.delete(path);
  }

  /** Keys directly under prefix ("" = the mount root); folders end in "/". Empty when nothing is there. */
  list(prefix: string): string[] {
    const base = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    const keys = new Set<string>();
    for (const path of this.secrets.keys()) {
      if (!path.startsWith(base)) continue;
      const rest = path.slice(base.length);
      const slash = rest.indexOf('/');
      keys.add(slash < 0 ? rest : rest.slice(0, slash + 1));
    }
    return [...keys].filter((k) => k !== '').sort();
  }
}

/** A path's metadata before its first version: what a data write and a metadata write both start from. */
function emptySecret(now: Date): Secret {
  return {
    versions: new Map(),
    currentVersion: 0,
    oldestVersion: 0,
    maxVersions: 0,
    casRequired: false,
    customMetadata: null,
    created: now,
    updated: now,
  };
}
