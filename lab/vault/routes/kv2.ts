// KV version 2 endpoints of every mount: data/ (read, write, patch, delete latest), metadata/ (list, read, write,
// delete all), delete/, undelete/, destroy/ (https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2).
// Versions, CAS and soft deletes are kv2.ts; an empty LIST is Vault's 404 with no error text.
import type { KvV2 } from '../kv2.js';
import { effect, fail, isWrite, ok, unsupported, type Area, type Route } from './route.js';

export const kv2Routes: Area = (vault, { method, path, query }) => {
  // The longest mount prefix wins.
  const mount = [...vault.kv.keys()]
    .filter((k) => path === `${k}/` || path.startsWith(`${k}/`))
    .sort((a, b) => b.length - a.length)[0];
  if (mount === undefined) return undefined;
  return kvRoute(method, path, mount, vault.kv.get(mount) as KvV2, query);
};

function kvRoute(method: string, path: string, mount: string, kv: KvV2, query: URLSearchParams): Route | undefined {
  const rest = path.slice(mount.length + 1);
  const slash = rest.indexOf('/');
  const kind = slash < 0 ? rest : rest.slice(0, slash);
  const sub = slash < 0 ? '' : rest.slice(slash + 1);
  const key = sub.replace(/\/+$/, '');
  if (kind === 'data') return key === '' ? undefined : dataRoute(method, path, kv, key, query);
  if (kind === 'metadata') return metadataRoute(method, path, kv, sub, key);
  const versionOps: Record<string, (k: string, v: unknown) => void> = {
    delete: (k, v) => kv.deleteVersions(k, v),
    undelete: (k, v) => kv.undeleteVersions(k, v),
    destroy: (k, v) => kv.destroyVersions(k, v),
  };
  const op = versionOps[kind];
  if (op && key !== '') {
    if (!isWrite(method)) unsupported();
    return effect(path, 'update', (b) => op(key, b.versions));
  }
  return undefined;
}

function dataRoute(method: string, path: string, kv: KvV2, key: string, query: URLSearchParams): Route {
  switch (method) {
    case 'GET':
      return {
        aclPath: path,
        cap: 'read',
        run: () => {
          const raw = query.get('version');
          const version = raw === null ? undefined : Number(raw);
          if (version !== undefined && (!Number.isInteger(version) || version < 0)) {
            fail(400, `invalid version "${raw}"`);
          }
          return ok(kv.read(key, version), { mount_type: 'kv' });
        },
      };
    case 'POST':
    case 'PUT':
      return {
        aclPath: path,
        cap: kv.exists(key) ? 'update' : 'create',
        run: (_t, b) => ok(kv.write(key, b.data, b.options as { cas?: unknown } | undefined), { mount_type: 'kv' }),
      };
    case 'PATCH':
      return {
        aclPath: path,
        cap: 'patch',
        run: (_t, b) => {
          const current = kv.read(key).data;
          const patch = (b.data ?? {}) as Record<string, unknown>;
          for (const [k, v] of Object.entries(patch)) {
            if (v === null) delete current[k];
            else current[k] = v;
          }
          return ok(kv.write(key, current, b.options as { cas?: unknown } | undefined), { mount_type: 'kv' });
        },
      };
    case 'DELETE':
      return effect(path, 'delete', () => kv.deleteLatest(key));
    default:
      return unsupported();
  }
}

function metadataRoute(method: string, path: string, kv: KvV2, sub: string, key: string): Route | undefined {
  switch (method) {
    case 'LIST':
      return {
        aclPath: path,
        cap: 'list',
        run: () => {
          const keys = kv.list(sub);
          // An empty listing is a 404 with no error text, as in Vault.
          if (keys.length === 0) fail(404, '');
          return ok({ keys }, { mount_type: 'kv' });
        },
      };
    case 'GET':
      if (key === '') return undefined;
      return { aclPath: path, cap: 'read', run: () => ok(kv.readMetadata(key), { mount_type: 'kv' }) };
    case 'POST':
    case 'PUT':
      if (key === '') return undefined;
      return effect(path, kv.exists(key) ? 'update' : 'create', (b) => kv.writeMetadata(key, b));
    case 'DELETE':
      if (key === '') return undefined;
      return effect(path, 'delete', () => kv.deleteMetadata(key));
    default:
      return unsupported();
  }
}
