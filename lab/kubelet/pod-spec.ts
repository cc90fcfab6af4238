// Pure pieces of running a container the way a kubelet and a container runtime do: its environment (values,
// fieldRefs, Secret and ConfigMap references, envFrom, `$(VAR)` expansion), its effective security context (user,
// groups, capabilities) and its command line from the image's entrypoint and the container's command/args.
// https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/
import type { V1Container, V1Pod, V1SecurityContext } from '@kubernetes/client-node';

export interface RefResolver {
  secret(name: string): Record<string, string> | undefined;
  configMap(name: string): Record<string, string> | undefined;
}

export interface PodFacts {
  podIP: string;
  nodeName: string;
  hostIP: string;
}

/** `$(VAR)` refers to an earlier variable; `$$(VAR)` escapes; an unknown reference stays as it is (kubelet rules). */
export function expandVars(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m: string, name?: string) => {
    if (m === '$$') return '$';
    return name !== undefined && name in env ? env[name]! : m;
  });
}

function fieldValue(pod: V1Pod, facts: PodFacts, path: string): string {
  const m = pod.metadata ?? {};
  const labelRef = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (labelRef) return (labelRef[1] === 'labels' ? m.labels : m.annotations)?.[labelRef[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return m.name ?? '';
    case 'metadata.namespace':
      return m.namespace ?? '';
    case 'metadata.uid':
      return m.uid ?? '';
    case 'spec.nodeName':
      return facts.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return facts.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return facts.hostIP;
    default:
      throw new Error(`fieldRef ${path} is not supported by the lab kubelet`);
  }
}

/**
 * The container's environment. A missing Secret/ConfigMap or key is an error unless `optional`, as the kubelet
 * refuses to start the container (CreateContainerConfigError).
 */
export function containerEnv(
  pod: V1Pod,
  c: V1Container,
  facts: PodFacts,
  refs: RefResolver,
  imageEnv: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = { ...imageEnv };
  const where = `container ${c.name} of pod ${pod.metadata?.namespace}/${pod.metadata?.name}`;
  for (const from of c.envFrom ?? []) {
    const data = from.secretRef
      ? refs.secret(from.secretRef.name ?? '')
      : from.configMapRef
        ? refs.configMap(from.configMapRef.name ?? '')
        : undefined;
    if (!data) {
      if (from.secretRef?.optional || from.configMapRef?.optional) continue;
      throw new Error(`${where}: envFrom ${from.secretRef ? 'secret' : 'configmap'} not found`);
    }
    for (const [k, v] of Object.entries(data)) env[(from.prefix ?? '') + k] = v;
  }
  // Own variables: expansion sees the image env, envFrom and the variables defined before (kubelet semantics).
  const own: Record<string, string> = {};
  for (const e of c.env ?? []) {
    let value: string | undefined;
    if (e.value !== undefined) value = expandVars(e.value, { ...env, ...own });
    else if (e.valueFrom?.fieldRef) value = fieldValue(pod, facts, e.valueFrom.fieldRef.fieldPath);
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      value = refs.secret(ref.name ?? '')?.[ref.key];
      if (value === undefined && !ref.optional)
        throw new Error(`${where}: env ${e.name}: secret "${ref.name}" or its key "${ref.key}" not found`);
    } else if (e.valueFrom?.configMapKeyRef) {
      const ref = e.valueFrom.configMapKeyRef;
      value = refs.configMap(ref.name ?? '')?.[ref.key];
      if (value === undefined && !ref.optional)
        throw new Error(`${where}: env ${e.name}: configmap "${ref.name}" or its key "${ref.key}" not found`);
    } else if (e.valueFrom?.resourceFieldRef) {
      value = '0';
    } else value = '';
    if (value !== undefined) own[e.name] = value;
  }
  return { ...env, ...own };
}

/** Docker's (and containerd's) default capability set of a non-privileged container. */
export const DEFAULT_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'NET_RAW',
  'SYS_CHROOT',
  'MKNOD',
  'AUDIT_WRITE',
  'SETFCAP',
] as const;

export interface EffectiveSecurity {
  uid: number;
  gid: number;
  groups: number[];
  /** Capabilities in the bounding set (upper case, no CAP_ prefix); all of them when privileged. */
  capabilities: string[] | 'all';
  noNewPrivileges: boolean;
  readOnlyRootFilesystem: boolean;
}

/** Pod and container security contexts merged (the container's wins), with the image's user as the fallback. */
export function effectiveSecurity(
  pod: V1Pod,
  c: V1Container,
  imageUser?: { uid: number; gid: number },
): EffectiveSecurity {
  const p = pod.spec?.securityContext ?? {};
  const s: V1SecurityContext = c.securityContext ?? {};
  const uid = s.runAsUser ?? p.runAsUser ?? imageUser?.uid ?? 0;
  const gid = s.runAsGroup ?? p.runAsGroup ?? imageUser?.gid ?? 0;
  const runAsNonRoot = s.runAsNonRoot ?? p.runAsNonRoot;
  if (runAsNonRoot && uid === 0)
    throw new Error(
      `container ${c.name} of pod ${pod.metadata?.namespace}/${pod.metadata?.name}: runAsNonRoot is set but the container would run as root (CreateContainerConfigError)`,
    );
  const groups = [...new Set([...(p.supplementalGroups ?? []), ...(p.fsGroup !== undefined ? [p.fsGroup] : [])])];
  let capabilities: string[] | 'all';
  if (s.privileged) capabilities = 'all';
  else {
    const drop = new Set((s.capabilities?.drop ?? []).map((x) => x.toUpperCase().replace(/^CAP_/, '')));
    const base = drop.has('ALL') ? [] : DEFAULT_CAPABILITIES.filter((x) => !drop.has(x));
    const add = (s.capabilities?.add ?? []).map((x) => x.toUpperCase().replace(/^CAP_/, ''));
    capabilities = [...new Set([...base, ...add])].sort();
  }
  return {
    uid,
    gid,
    groups,
    capabilities,
    noNewPrivileges: s.allowPrivilegeEscalation === false,
    readOnlyRootFilesystem: s.readOnlyRootFilesystem === true,
  };
}

/** Docker/OCI rules: `command` replaces the image's entrypoint (and drops its cmd); `args` replace the cmd. */
export function commandLine(
  c: V1Container,
  image: { entrypoint: string[]; cmd?: string[] },
  env: Record<string, string>,
) {
  const argv = c.command?.length
    ? [...c.command, ...(c.args ?? [])]
    : [...image.entrypoint, ...(c.args ?? image.cmd ?? [])];
  return argv.map((a) => expandVars(a, env));
}

export interface ServiceFacts {
  name: string;
  clusterIP?: string;
  ports: Array<{ name?: string; port: number; protocol?: string }>;
}

/**
 * Docker-links style variables the kubelet puts in every container: the `kubernetes` Service always, and every
 * Service of the pod's namespace when enableServiceLinks is on (the default). Headless Services get none.
 * https://kubernetes.io/docs/concepts/services-networking/service/#environment-variables
 */
export function serviceEnv(services: ServiceFacts[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of services) {
    if (!s.clusterIP || s.clusterIP === 'None' || !s.ports.length) continue;
    const n = s.name.toUpperCase().replace(/-/g, '_');
    const first = s.ports[0]!;
    env[`${n}_SERVICE_HOST`] = s.clusterIP;
    env[`${n}_SERVICE_PORT`] = String(first.port);
    const proto = (p: { protocol?: string }) => (p.protocol ?? 'TCP').toLowerCase();
    env[`${n}_PORT`] = `${proto(first)}://${s.clusterIP}:${first.port}`;
    for (const p of s.ports) {
      if (p.name) env[`${n}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`] = String(p.port);
      const base = `${n}_PORT_${p.port}_${proto(p).toUpperCase()}`;
      env[base] = `${proto(p)}://${s.clusterIP}:${p.port}`;
      env[`${base}_PROTO`] = proto(p);
      env[`${base}_PORT`] = String(p.port);
      env[`${base}_ADDR`] = s.clusterIP;
    }
  }
  return env;
}
