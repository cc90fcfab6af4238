// Renders the chart with the real helm binary and parses the manifests, for the chart tests.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { CHART_DIR, HELM } from '../../scripts/paths.js';

const run = promisify(execFile);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = Record<string, any>;

export const RELEASE = 'torchain';
export const RELEASE_NAMESPACE = 'torchain-system';

/** The value sets in helm/torchain/ci/, as absolute paths. */
export function ciValueFiles(): string[] {
  const dir = join(CHART_DIR, 'ci');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(dir, f));
}

export interface RenderOptions {
  valuesFiles?: string[];
  /** --set-string free --set pairs, e.g. { 'operator.replicaCount': '3' }. */
  set?: Record<string, string>;
  /** --set-json pairs. */
  setJson?: Record<string, unknown>;
  showOnly?: string;
  /** Release namespace (default RELEASE_NAMESPACE). */
  namespace?: string;
  /** Leave out the `helm test` hooks. */
  skipTests?: boolean;
  /** Render the CRDs of crds/ too (default true; `helm template` without `--include-crds` leaves them out). */
  includeCrds?: boolean;
  /** Extra helm arguments, e.g. ['--dry-run=server', '--kubeconfig', path] to let `lookup` ask a cluster. */
  extraArgs?: string[];
}

function templateArgs(opts: RenderOptions): string[] {
  const args = ['template', RELEASE, CHART_DIR, '--namespace', opts.namespace ?? RELEASE_NAMESPACE];
  if (opts.includeCrds ?? true) args.push('--include-crds');
  for (const f of opts.valuesFiles ?? []) args.push('--values', f);
  for (const [k, v] of Object.entries(opts.set ?? {})) args.push('--set', `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.setJson ?? {})) args.push('--set-json', `${k}=${JSON.stringify(v)}`);
  if (opts.showOnly) args.push('--show-only', opts.showOnly);
  if (opts.skipTests) args.push('--skip-tests');
  args.push(...(opts.extraArgs ?? []));
  return args;
}

/** `helm template` output as text; rejects with helm's stderr on failure. */
export async function renderText(opts: RenderOptions = {}): Promise<string> {
  try {
    const { stdout } = await run(HELM, templateArgs(opts), { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`helm template failed: ${err.stderr ?? err.message}`);
  }
}

/** Every rendered object (CRDs included), parsed; YAML errors fail loudly with the document's source template. */
export async function render(opts: RenderOptions = {}): Promise<Manifest[]> {
  const text = await renderText(opts);
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length)
      throw new Error(`rendered YAML does not parse: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as Manifest | null;
    if (value) out.push(value);
  }
  return out;
}

/** The error helm prints when rendering fails, or throws if rendering succeeds. */
export async function renderError(opts: RenderOptions): Promise<string> {
  try {
    await renderText(opts);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`expected helm template to fail with ${JSON.stringify(opts)}`);
}

export const ofKind = (objects: Manifest[], kind: string): Manifest[] => objects.filter((o) => o.kind === kind);

export function one(objects: Manifest[], kind: string, name: string, namespace?: string): Manifest {
  const found = objects.filter(
    (o) =>
      o.kind === kind && o.metadata?.name === name && (namespace === undefined || o.metadata?.namespace === namespace),
  );
  if (found.length !== 1) throw new Error(`expected one ${kind} ${namespace ?? '*'}/${name}, found ${found.length}`);
  return found[0]!;
}

/** Pod templates of workloads and bare Pods: [where, podSpec]. */
export function podSpecs(objects: Manifest[]): Array<[string, Manifest]> {
  const out: Array<[string, Manifest]> = [];
  for (const o of objects) {
    const where = `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    if (o.kind === 'Pod') out.push([where, o.spec]);
    else if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(o.kind))
      out.push([where, o.spec.template.spec]);
    else if (o.kind === 'CronJob') out.push([where, o.spec.jobTemplate.spec.template.spec]);
  }
  return out;
}
