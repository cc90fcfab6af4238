// Validates rendered objects against the schemas of their kinds:
//  - built-in kinds: kubernetes-models (JSON schemas generated from Kubernetes' OpenAPI spec);
//  - monitoring.coreos.com: @kubernetes-models/prometheus-operator (generated from the Prometheus Operator's CRDs);
//  - TorChain: the openAPIV3Schema of the generated CRD in helm/torchain/crds/, with Kubernetes' formats, and the
//    operator's own validation (it also refuses unknown spec fields, which the API server would silently prune);
//  - NetworkAttachmentDefinition: the openAPIV3Schema of Multus' CRD (below, with its source);
//  - MultiNetworkPolicy: its CRD says it "is identical to Kubernetes NetworkPolicy", so its spec is checked with the
//    NetworkPolicy schema of kubernetes-models.
// An object of any other kind is an error: a new kind must get a schema here before the chart may render it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { compileValidator, createSchemaAjv, formatFieldErrors } from '../../operator/src/api/schema-validator.js';
import { CRD_PATH } from '../../operator/src/api/crd-file.js';
import { validateTorChain } from '../../operator/src/api/validate.js';
import { REPO_ROOT } from '../../scripts/paths.js';
import type { Manifest } from './render.js';

interface Model {
  validate(): void;
}
type ModelClass = new (data: Manifest) => Model;

const ajv = createSchemaAjv();

const torChainCrd = parse(readFileSync(join(REPO_ROOT, CRD_PATH), 'utf8')) as Manifest;
const checkTorChain = compileValidator(ajv, torChainCrd.spec.versions[0].schema.openAPIV3Schema);

// k8snetworkplumbingwg/multus-cni deployments/multus-daemonset.yml, CRD network-attachment-definitions.k8s.cni.cncf.io
// (version v1), descriptions left out.
const NAD_SCHEMA = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: { type: 'object', properties: { config: { type: 'string' } } },
  },
};
const checkNad = compileValidator(ajv, NAD_SCHEMA);

async function modelClass(apiVersion: string, kind: string): Promise<ModelClass> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const path =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${kind}`
      : group === ''
        ? `kubernetes-models/v1/${kind}`
        : `kubernetes-models/${group}/${version}/${kind}`;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(path)) as Record<string, unknown>;
  } catch {
    throw new Error(`no schema for ${apiVersion} ${kind} (looked for ${path}): add one to test/chart/kube-schemas.ts`);
  }
  const cls = (mod[kind] ?? (mod.default as Record<string, unknown> | undefined)?.[kind]) as ModelClass | undefined;
  if (!cls) throw new Error(`${path} has no class ${kind}`);
  return cls;
}

function describe(o: Manifest): string {
  return `${o.apiVersion} ${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** The schema errors of one object, as readable lines (empty when valid). */
export async function schemaErrors(o: Manifest): Promise<string[]> {
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') return [`object without apiVersion/kind`];
  if (o.apiVersion === 'torchain.dev/v1alpha1' && o.kind === 'TorChain') {
    const errors = checkTorChain(o);
    const operator = validateTorChain(o);
    if (!operator.ok) errors.push(...operator.errors);
    return errors.length ? [`${describe(o)}: ${formatFieldErrors(errors)}`] : [];
  }
  if (o.apiVersion === 'k8s.cni.cncf.io/v1' && o.kind === 'NetworkAttachmentDefinition') {
    const errors = checkNad(o);
    return errors.length ? [`${describe(o)}: ${formatFieldErrors(errors)}`] : [];
  }
  let model: Model;
  if (o.apiVersion === 'k8s.cni.cncf.io/v1beta1' && o.kind === 'MultiNetworkPolicy') {
    const NetworkPolicy = await modelClass('networking.k8s.io/v1', 'NetworkPolicy');
    model = new NetworkPolicy({ ...o, apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' });
  } else {
    const cls = await modelClass(o.apiVersion, o.kind);
    model = new cls(o);
  }
  try {
    model.validate();
    return [];
  } catch (e) {
    return [`${describe(o)}: ${(e as Error).message}`];
  }
}
