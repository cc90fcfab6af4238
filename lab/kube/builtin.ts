// The built-in resources lab/kube serves, with the server-side defaults and checks of the real API server that
// torchain, kubectl, Helm and the lab kubelet can observe. Field selectors per kind follow the real server's
// `GetAttrs`/`AddFieldLabelConversionFunc` sets. https://kubernetes.io/docs/reference/kubernetes-api/
import { isIP } from 'node:net';
import {
  allocateClusterIp,
  clusterIpRefusal,
  RangeFullError,
  SERVICE_CIDR,
  serviceRange,
  type ServiceRange,
} from './cluster-ip.js';
import { ApiError, type FieldProblem } from './errors.js';
import type { KObject, Obj, ResourceType, VersionSpec } from './types.js';
import { AGE_COLUMN, type PrinterColumn } from './table.js';

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function version(name: string, columns: PrinterColumn[] = [AGE_COLUMN]): VersionSpec {
  return { name, served: true, storage: true, columns };
}

interface Def {
  group?: string;
  version?: string;
  kind: string;
  plural: string;
  shortNames?: string[];
  categories?: string[];
  namespaced?: boolean;
  subresources?: string[];
  generation?: boolean;
  columns?: PrinterColumn[];
  fields?: ResourceType['fields'];
  prepare?: ResourceType['prepare'];
  validate?: ResourceType['validate'];
  verbs?: string[];
  virtual?: boolean;
  cells?: ResourceType['cells'];
}

function def(d: Def): ResourceType {
  return {
    group: d.group ?? '',
    versions: [version(d.version ?? 'v1', d.columns)],
    kind: d.kind,
    listKind: `${d.kind}List`,
    plural: d.plural,
    singular: d.kind.toLowerCase(),
    shortNames: d.shortNames ?? [],
    categories: d.categories ?? [],
    namespaced: d.namespaced ?? true,
    verbs: d.verbs ?? CRUD,
    subresources: d.subresources ?? [],
    generation: d.generation ?? false,
    unconditionalUpdate: true,
    fields: d.fields,
    prepare: d.prepare,
    validate: d.validate,
    virtual: d.virtual,
    cells: d.cells,
  };
}

const get = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Obj)[k] : undefined), o);
const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const ensure = (o: Obj, key: string): Obj =>
  o[key] && typeof o[key] === 'object' ? (o[key] as Obj) : ((o[key] = {}) as Obj);

function col(name: string, type: string, jsonPath: string, priority = 0): PrinterColumn {
  return { name, type, jsonPath, priority };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Secret: stringData is write-only and merged into data; data values must be base64; type defaults to Opaque. */
function prepareSecret(o: KObject): void {
  const stringData = o.stringData as Record<string, string> | undefined;
  if (stringData) {
    const data = { ...((o.data as Record<string, string>) ?? {}) };
    for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    o.data = data;
    delete o.stringData;
  }
  if (!o.type) o.type = 'Opaque';
}

function validateSecret(o: KObject, old: KObject | undefined): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const [k, v] of Object.entries((o.data as Record<string, unknown>) ?? {})) {
    if (typeof v !== 'string' || !BASE64.test(v) || v.length % 4 !== 0)
      out.push({ field: `data[${k}]`, message: `Invalid value: ${JSON.stringify(v)}: must be base64-encoded` });
    if (!/^[-._a-zA-Z0-9]+$/.test(k))
      out.push({
        field: `data[${k}]`,
        message: `Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
      });
  }
  if (old && old.type !== o.type)
    out.push({ field: 'type', message: `Invalid value: "${str(o.type)}": field is immutable` });
  if (old && old.immutable === true && JSON.stringify(old.data) !== JSON.stringify(o.data))
    out.push({ field: 'data', message: 'Forbidden: field is immutable when `immutable` is set' });
  return out;
}

/** Role/ClusterRole rules (k8s.io/kubernetes/pkg/apis/rbac/validation): verbs always; groups with resources. */
function validateRole(o: KObject): FieldProblem[] {
  const out: FieldProblem[] = [];
  ((o.rules as Obj[] | null | undefined) ?? []).forEach((r, i) => {
    const at = `rules[${i}]`;
    const len = (k: string) => ((r[k] as unknown[] | undefined) ?? []).length;
    if (!len('verbs'))
      out.push({ field: `${at}.verbs`, message: 'Required value: verbs must contain at least one value' });
    if (len('nonResourceURLs')) {
      if (o.kind === 'Role')
        out.push({
          field: `${at}.nonResourceURLs`,
          message:
            'Invalid value: ' +
            JSON.stringify(r.nonResourceURLs).replace(/,/g, ' ') +
            ': namespaced rules cannot apply to non-resource URLs',
        });
      if (len('apiGroups') || len('resources'))
        out.push({
          field: `${at}.nonResourceURLs`,
          message:
            'Invalid value: ' +
            JSON.stringify(r.nonResourceURLs).replace(/,/g, ' ') +
            ': rules cannot apply to both regular resources and non-resource URLs',
        });
    } else {
      if (!len('apiGroups'))
        out.push({
          field: `${at}.apiGroups`,
          message: 'Required value: resource rules must supply at least one api group',
        });
      if (!len('resources'))
        out.push({
          field: `${at}.resources`,
          message: 'Required value: resource rules must supply at least one resource',
        });
    }
  });
  return out;
}

/** rbac/v1 defaults: roleRef and User/Group subjects in the RBAC group, ServiceAccounts in the core group. */
function prepareBinding(o: KObject): void {
  const ref = o.roleRef as Obj | undefined;
  if (ref && !ref.apiGroup) ref.apiGroup = 'rbac.authorization.k8s.io';
  for (const s of (o.subjects as Obj[] | null | undefined) ?? [])
    if (!s.apiGroup && (s.kind === 'User' || s.kind === 'Group')) s.apiGroup = 'rbac.authorization.k8s.io';
}

/** RoleBinding/ClusterRoleBinding: a valid roleRef that never changes, and well-formed subjects. */
function validateBinding(o: KObject, old: KObject | undefined): FieldProblem[] {
  const out: FieldProblem[] = [];
  const ref = (o.roleRef ?? {}) as Obj;
  const kinds = o.kind === 'RoleBinding' ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (ref.apiGroup !== 'rbac.authorization.k8s.io')
    out.push({
      field: 'roleRef.apiGroup',
      message: `Unsupported value: ${JSON.stringify(str(ref.apiGroup))}: supported values: "rbac.authorization.k8s.io"`,
    });
  if (!kinds.includes(str(ref.kind)))
    out.push({
      field: 'roleRef.kind',
      message: `Unsupported value: ${JSON.stringify(str(ref.kind))}: supported values: ${kinds.map((k) => JSON.stringify(k)).join(', ')}`,
    });
  if (!ref.name) out.push({ field: 'roleRef.name', message: 'Required value' });
  if (old && JSON.stringify(old.roleRef) !== JSON.stringify(o.roleRef))
    out.push({ field: 'roleRef', message: `Invalid value: ${JSON.stringify(o.roleRef)}: cannot change roleRef` });
  ((o.subjects as Obj[] | null | undefined) ?? []).forEach((s, i) => {
    const at = `subjects[${i}]`;
    if (!s.name) out.push({ field: `${at}.name`, message: 'Required value' });
    if (!['User', 'Group', 'ServiceAccount'].includes(str(s.kind)))
      out.push({
        field: `${at}.kind`,
        message: `Unsupported value: ${JSON.stringify(str(s.kind))}: supported values: "ServiceAccount", "User", "Group"`,
      });
    else if (s.kind === 'ServiceAccount') {
      if (s.apiGroup)
        out.push({
          field: `${at}.apiGroup`,
          message: `Unsupported value: ${JSON.stringify(s.apiGroup)}: supported values: ""`,
        });
      if (o.kind === 'ClusterRoleBinding' && !s.namespace)
        out.push({ field: `${at}.namespace`, message: 'Required value' });
    } else if (s.apiGroup !== 'rbac.authorization.k8s.io')
      out.push({
        field: `${at}.apiGroup`,
        message: `Unsupported value: ${JSON.stringify(str(s.apiGroup))}: supported values: "rbac.authorization.k8s.io"`,
      });
  });
  return out;
}

/** Pod defaults the API server applies (k8s.io/kubernetes/pkg/apis/core/v1/defaults.go), trimmed to what shows. */
function preparePod(o: KObject, old: KObject | undefined): void {
  const spec = ensure(o, 'spec');
  if (!old) {
    spec.restartPolicy ??= 'Always';
    spec.dnsPolicy ??= 'ClusterFirst';
    spec.schedulerName ??= 'default-scheduler';
    spec.terminationGracePeriodSeconds ??= 30;
    spec.serviceAccountName ??= (spec.serviceAccount as string | undefined) ?? 'default';
    spec.serviceAccount = spec.serviceAccountName;
    spec.securityContext ??= {};
    spec.enableServiceLinks ??= true;
    spec.priority ??= 0;
    for (const key of ['initContainers', 'containers']) {
      for (const c of (spec[key] as Obj[] | undefined) ?? []) {
        c.terminationMessagePath ??= '/dev/termination-log';
        c.terminationMessagePolicy ??= 'File';
        const image = str(c.image);
        const tagged = /:[^/]+$/.test(image.split('@')[0]!) && !image.endsWith(':latest');
        c.imagePullPolicy ??= tagged || image.includes('@') ? 'IfNotPresent' : 'Always';
        c.resources ??= {};
      }
    }
    const status = ensure(o, 'status');
    status.phase ??= 'Pending';
    status.qosClass ??= 'BestEffort';
  }
}

function validatePod(o: KObject, old: KObject | undefined): FieldProblem[] {
  const out: FieldProblem[] = [];
  const containers = get(o, 'spec', 'containers');
  if (!Array.isArray(containers) || containers.length === 0)
    out.push({ field: 'spec.containers', message: 'Required value' });
  else {
    const seen = new Set<string>();
    containers.forEach((c: Obj, i) => {
      if (!c.name) out.push({ field: `spec.containers[${i}].name`, message: 'Required value' });
      else if (seen.has(str(c.name)))
        out.push({ field: `spec.containers[${i}].name`, message: `Duplicate value: ${JSON.stringify(c.name)}` });
      seen.add(str(c.name));
      if (!c.image) out.push({ field: `spec.containers[${i}].image`, message: 'Required value' });
    });
  }
  if (old) {
    // Pod spec is immutable apart from images, activeDeadlineSeconds and tolerations additions.
    const strip = (p: KObject) => {
      const s = structuredClone((p.spec as Obj) ?? {});
      for (const c of (s.containers as Obj[] | undefined) ?? []) delete c.image;
      for (const c of (s.initContainers as Obj[] | undefined) ?? []) delete c.image;
      delete s.activeDeadlineSeconds;
      delete s.tolerations;
      if (!old.spec || !(old.spec as Obj).nodeName) delete s.nodeName;
      return JSON.stringify(s);
    };
    if (strip(o) !== strip(old))
      out.push({
        field: 'spec',
        message:
          'Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      });
  }
  return out;
}

function prepareWorkload(o: KObject): void {
  const spec = ensure(o, 'spec');
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  if (o.kind === 'Deployment') {
    spec.progressDeadlineSeconds ??= 600;
    const strategy = ensure(spec, 'strategy');
    strategy.type ??= 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') {
      const ru = ensure(strategy, 'rollingUpdate');
      ru.maxSurge ??= '25%';
      ru.maxUnavailable ??= '25%';
    }
  }
  const tmpl = (spec.template as KObject | undefined) ?? undefined;
  if (tmpl) {
    const podSpec = ensure(tmpl as Obj, 'spec');
    podSpec.restartPolicy ??= 'Always';
    podSpec.dnsPolicy ??= 'ClusterFirst';
    podSpec.schedulerName ??= 'default-scheduler';
    podSpec.terminationGracePeriodSeconds ??= 30;
    podSpec.securityContext ??= {};
  }
}

function validateWorkload(o: KObject, old: KObject | undefined): FieldProblem[] {
  const out: FieldProblem[] = [];
  const sel = get(o, 'spec', 'selector') as { matchLabels?: Record<string, string> } | undefined;
  if (!sel || (!sel.matchLabels && !(sel as Obj).matchExpressions))
    out.push({ field: 'spec.selector', message: 'Required value' });
  const labels = (get(o, 'spec', 'template', 'metadata', 'labels') as Record<string, string> | undefined) ?? {};
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {}))
    if (labels[k] !== v)
      out.push({
        field: 'spec.template.metadata.labels',
        message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
      });
  const containers = get(o, 'spec', 'template', 'spec', 'containers');
  if (!Array.isArray(containers) || containers.length === 0)
    out.push({ field: 'spec.template.spec.containers', message: 'Required value' });
  const replicas = get(o, 'spec', 'replicas');
  if (typeof replicas !== 'number' || replicas < 0 || !Number.isInteger(replicas))
    out.push({
      field: 'spec.replicas',
      message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
    });
  if (old && JSON.stringify(get(old, 'spec', 'selector')) !== JSON.stringify(sel))
    out.push({ field: 'spec.selector', message: `Invalid value: ${JSON.stringify(sel)}: field is immutable` });
  return out;
}

/** The addresses Services hold now (lab/kube derives them from the store: a deleted Service frees its address). */
export type ClusterIpsInUse = () => ReadonlySet<string>;

const takesClusterIp = (spec: Obj): boolean => spec.type !== 'ExternalName' && spec.clusterIP !== 'None';

/**
 * Defaults a Service; a new one gets its ClusterIP here, as the REST storage allocates it: the address asked for
 * (spec.clusterIP, else spec.clusterIPs[0]) is checked by validateService, none asked for gets a free one.
 */
function prepareService(o: KObject, old: KObject | undefined, range: ServiceRange, inUse: ClusterIpsInUse): void {
  const spec = ensure(o, 'spec');
  spec.type ??= 'ClusterIP';
  if (!old && spec.type !== 'ExternalName') {
    const asked = (spec.clusterIP as string | undefined) || (spec.clusterIPs as string[] | undefined)?.[0];
    if (asked) spec.clusterIP = asked;
    else
      try {
        spec.clusterIP = allocateClusterIp(range, inUse());
      } catch (err) {
        if (err instanceof RangeFullError)
          throw new ApiError(500, 'InternalError', `Internal error occurred: ${err.message}`);
        throw err;
      }
    spec.clusterIPs ??= [spec.clusterIP];
  }
  spec.sessionAffinity ??= 'None';
  if (old && !spec.clusterIP) spec.clusterIP = get(old, 'spec', 'clusterIP');
  if (old && !spec.clusterIPs) spec.clusterIPs = get(old, 'spec', 'clusterIPs');
  for (const p of (spec.ports as Obj[] | undefined) ?? []) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
  }
}

/** A new Service's ClusterIP must be an address of the range no other Service holds (the allocator's 422). */
function validateService(o: KObject, old: KObject | undefined, range: ServiceRange, inUse: ClusterIpsInUse) {
  const spec = (o.spec ?? {}) as Obj;
  if (old || !takesClusterIp(spec)) return [];
  const ip = String(spec.clusterIP);
  if (!isIP(ip))
    return [
      {
        field: 'spec.clusterIPs[0]',
        message: `Invalid value: ${JSON.stringify(ip)}: must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
      },
    ];
  const why = clusterIpRefusal(range, ip, inUse());
  if (!why) return [];
  const asked = ((spec.clusterIPs as string[] | undefined) ?? [ip]).map((a) => JSON.stringify(a)).join(', ');
  return [
    { field: 'spec.clusterIPs', message: `Invalid value: []string{${asked}}: failed to allocate IP ${ip}: ${why}` },
  ];
}

function prepareNamespace(o: KObject, old: KObject | undefined): void {
  const spec = ensure(o, 'spec');
  spec.finalizers ??= ['kubernetes'];
  const status = ensure(o, 'status');
  status.phase ??= (get(old, 'status', 'phase') as string | undefined) ?? 'Active';
  const labels = { ...(o.metadata.labels ?? {}) };
  labels['kubernetes.io/metadata.name'] = o.metadata.name!;
  o.metadata.labels = labels;
}

const podReady = (o: KObject): string => {
  const statuses = (get(o, 'status', 'containerStatuses') as Obj[] | undefined) ?? [];
  const total = ((get(o, 'spec', 'containers') as unknown[] | undefined) ?? []).length;
  return `${statuses.filter((s) => s.ready === true).length}/${total}`;
};

export const POD_COLUMNS: PrinterColumn[] = [
  col('Ready', 'string', '.status.containerStatuses'),
  col('Status', 'string', '.status.phase'),
  col('Restarts', 'integer', '.status.containerStatuses[0].restartCount'),
  AGE_COLUMN,
  col('IP', 'string', '.status.podIP', 1),
  col('Node', 'string', '.spec.nodeName', 1),
];

/** Computed pod cells kubectl shows (READY as n/m, STATUS as the phase or the deletion). */
export function podCells(o: KObject): Record<string, unknown> {
  const restarts = ((get(o, 'status', 'containerStatuses') as Obj[] | undefined) ?? []).reduce(
    (n, s) => n + (Number(s.restartCount) || 0),
    0,
  );
  return {
    Ready: podReady(o),
    Status: o.metadata.deletionTimestamp ? 'Terminating' : str(get(o, 'status', 'phase')) || 'Pending',
    Restarts: restarts,
  };
}

export function builtinTypes(clusterIpsInUse: ClusterIpsInUse = () => new Set()): ResourceType[] {
  const serviceIps = serviceRange(SERVICE_CIDR);
  return [
    def({
      kind: 'Namespace',
      plural: 'namespaces',
      shortNames: ['ns'],
      namespaced: false,
      subresources: ['status', 'finalize'],
      columns: [col('Status', 'string', '.status.phase'), AGE_COLUMN],
      fields: (o) => ({ 'status.phase': str(get(o, 'status', 'phase')) }),
      prepare: prepareNamespace,
    }),
    def({
      kind: 'Secret',
      plural: 'secrets',
      columns: [col('Type', 'string', '.type'), col('Data', 'integer', '.data'), AGE_COLUMN],
      cells: (o) => ({ Data: Object.keys((o.data as Obj | undefined) ?? {}).length }),
      fields: (o) => ({ type: str(o.type) }),
      prepare: prepareSecret,
      validate: validateSecret,
    }),
    def({
      kind: 'ConfigMap',
      plural: 'configmaps',
      shortNames: ['cm'],
      columns: [col('Data', 'integer', '.data'), AGE_COLUMN],
      cells: (o) => ({
        Data:
          Object.keys((o.data as Obj | undefined) ?? {}).length +
          Object.keys((o.binaryData as Obj | undefined) ?? {}).length,
      }),
    }),
    def({
      kind: 'Service',
      plural: 'services',
      shortNames: ['svc'],
      categories: ['all'],
      subresources: ['status'],
      columns: [
        col('Type', 'string', '.spec.type'),
        col('Cluster-IP', 'string', '.spec.clusterIP'),
        col('Ports', 'string', '.spec.ports[*].port'),
        AGE_COLUMN,
      ],
      cells: (o) => ({
        Ports:
          ((get(o, 'spec', 'ports') as Obj[] | undefined) ?? [])
            .map((p) => `${str(p.port)}/${str(p.protocol)}`)
            .join(',') || '<none>',
      }),
      prepare: (o, old) => prepareService(o, old, serviceIps, clusterIpsInUse),
      validate: (o, old) => validateService(o, old, serviceIps, clusterIpsInUse),
    }),
    def({ kind: 'Endpoints', plural: 'endpoints', shortNames: ['ep'] }),
    def({
      kind: 'ServiceAccount',
      plural: 'serviceaccounts',
      shortNames: ['sa'],
      subresources: ['token'],
    }),
    def({
      kind: 'Pod',
      plural: 'pods',
      shortNames: ['po'],
      categories: ['all'],
      subresources: ['status', 'log', 'binding'],
      columns: POD_COLUMNS,
      cells: podCells,
      fields: (o) => ({
        'spec.nodeName': str(get(o, 'spec', 'nodeName')),
        'spec.restartPolicy': str(get(o, 'spec', 'restartPolicy')),
        'spec.schedulerName': str(get(o, 'spec', 'schedulerName')),
        'spec.serviceAccountName': str(get(o, 'spec', 'serviceAccountName')),
        'spec.hostNetwork': String(get(o, 'spec', 'hostNetwork') === true),
        'status.phase': str(get(o, 'status', 'phase')),
        'status.podIP': str(get(o, 'status', 'podIP')),
        'status.nominatedNodeName': str(get(o, 'status', 'nominatedNodeName')),
      }),
      prepare: preparePod,
      validate: validatePod,
    }),
    def({
      kind: 'Node',
      plural: 'nodes',
      shortNames: ['no'],
      namespaced: false,
      subresources: ['status'],
      fields: (o) => ({ 'spec.unschedulable': String(get(o, 'spec', 'unschedulable') === true) }),
    }),
    def({
      kind: 'Event',
      plural: 'events',
      shortNames: ['ev'],
      columns: [
        col('Type', 'string', '.type'),
        col('Reason', 'string', '.reason'),
        col('Object', 'string', '.involvedObject.name'),
        col('Message', 'string', '.message'),
        AGE_COLUMN,
      ],
      fields: (o) => ({
        'involvedObject.kind': str(get(o, 'involvedObject', 'kind')),
        'involvedObject.namespace': str(get(o, 'involvedObject', 'namespace')),
        'involvedObject.name': str(get(o, 'involvedObject', 'name')),
        'involvedObject.uid': str(get(o, 'involvedObject', 'uid')),
        'involvedObject.apiVersion': str(get(o, 'involvedObject', 'apiVersion')),
        'involvedObject.resourceVersion': str(get(o, 'involvedObject', 'resourceVersion')),
        'involvedObject.fieldPath': str(get(o, 'involvedObject', 'fieldPath')),
        reason: str(o.reason),
        reportingComponent: str(o.reportingComponent),
        source: str(get(o, 'source', 'component')),
        type: str(o.type),
      }),
    }),
    def({
      group: 'events.k8s.io',
      kind: 'Event',
      plural: 'events',
      shortNames: ['ev'],
      fields: (o) => ({
        'regarding.kind': str(get(o, 'regarding', 'kind')),
        'regarding.namespace': str(get(o, 'regarding', 'namespace')),
        'regarding.name': str(get(o, 'regarding', 'name')),
        'regarding.uid': str(get(o, 'regarding', 'uid')),
        reason: str(o.reason),
        reportingController: str(o.reportingController),
        type: str(o.type),
      }),
    }),
    def({
      group: 'coordination.k8s.io',
      kind: 'Lease',
      plural: 'leases',
      columns: [col('Holder', 'string', '.spec.holderIdentity'), AGE_COLUMN],
    }),
    def({
      group: 'apps',
      kind: 'Deployment',
      plural: 'deployments',
      shortNames: ['deploy'],
      categories: ['all'],
      subresources: ['status', 'scale'],
      generation: true,
      columns: [
        col('Ready', 'string', '.status.readyReplicas'),
        col('Up-to-date', 'integer', '.status.updatedReplicas'),
        col('Available', 'integer', '.status.availableReplicas'),
        AGE_COLUMN,
      ],
      cells: (o) => ({
        Ready: `${Number(get(o, 'status', 'readyReplicas') ?? 0)}/${Number(get(o, 'spec', 'replicas') ?? 0)}`,
        'Up-to-date': Number(get(o, 'status', 'updatedReplicas') ?? 0),
        Available: Number(get(o, 'status', 'availableReplicas') ?? 0),
      }),
      prepare: prepareWorkload,
      validate: validateWorkload,
    }),
    def({
      group: 'apps',
      kind: 'ReplicaSet',
      plural: 'replicasets',
      shortNames: ['rs'],
      categories: ['all'],
      subresources: ['status', 'scale'],
      generation: true,
      columns: [
        col('Desired', 'integer', '.spec.replicas'),
        col('Current', 'integer', '.status.replicas'),
        col('Ready', 'integer', '.status.readyReplicas'),
        AGE_COLUMN,
      ],
      prepare: prepareWorkload,
      validate: validateWorkload,
    }),
    def({
      group: 'apiextensions.k8s.io',
      kind: 'CustomResourceDefinition',
      plural: 'customresourcedefinitions',
      shortNames: ['crd', 'crds'],
      namespaced: false,
      subresources: ['status'],
      generation: true,
      columns: [col('Created At', 'string', '.metadata.creationTimestamp')],
    }),
    def({
      group: 'authentication.k8s.io',
      kind: 'TokenReview',
      plural: 'tokenreviews',
      namespaced: false,
      verbs: ['create'],
      virtual: true,
    }),
    def({
      group: 'authentication.k8s.io',
      kind: 'SelfSubjectReview',
      plural: 'selfsubjectreviews',
      namespaced: false,
      verbs: ['create'],
      virtual: true,
    }),
    ...['SelfSubjectAccessReview', 'SubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectRulesReview'].map(
      (kind) =>
        def({
          group: 'authorization.k8s.io',
          kind,
          plural: `${kind.toLowerCase()}s`,
          namespaced: kind === 'LocalSubjectAccessReview',
          verbs: ['create'],
          virtual: true,
        }),
    ),
    def({ group: 'rbac.authorization.k8s.io', kind: 'Role', plural: 'roles', validate: validateRole }),
    def({
      group: 'rbac.authorization.k8s.io',
      kind: 'RoleBinding',
      plural: 'rolebindings',
      prepare: prepareBinding,
      validate: validateBinding,
    }),
    def({
      group: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      plural: 'clusterroles',
      namespaced: false,
      validate: validateRole,
    }),
    def({
      group: 'rbac.authorization.k8s.io',
      kind: 'ClusterRoleBinding',
      plural: 'clusterrolebindings',
      namespaced: false,
      prepare: prepareBinding,
      validate: validateBinding,
    }),
    def({ group: 'networking.k8s.io', kind: 'NetworkPolicy', plural: 'networkpolicies', shortNames: ['netpol'] }),
    def({ group: 'policy', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', shortNames: ['pdb'] }),
  ];
}
