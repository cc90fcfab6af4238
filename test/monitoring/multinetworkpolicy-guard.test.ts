// multiNetworkPolicy.enabled against a cluster that does not serve MultiNetworkPolicy fails at render time with what
// to install (instead of "no matches for kind MultiNetworkPolicy" mid-install); with the CRD it renders; offline
// (helm template without a cluster) it renders as before.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKube, type Kube } from '../../lab/kube/server.js';
import { CHART_DIR, HELM, KUBECTL } from '../../scripts/paths.js';
import { ciValueFiles, ofKind, render } from '../chart/render.js';
import { skipUnless } from '../support/env.js';

const run = promisify(execFile);
const FOREIGN_CRDS = join(import.meta.dirname, '..', '..', 'lab', 'cluster', 'addon-crds.yaml');

describe.skipIf(skipUnless({ binaries: [HELM, KUBECTL] }))('the MultiNetworkPolicy capability guard', () => {
  let kube: Kube;
  let dir = '';
  const values = ciValueFiles().find((f) => f.endsWith('three-hop-mixed-values.yaml'))!; // multiNetworkPolicy.enabled
  /** `helm install --dry-run=server`: capabilities from the cluster's discovery and `lookup`, as a real install. */
  const install = async (): Promise<string> => {
    try {
      const { stdout } = await run(
        HELM,
        [
          'install',
          'mnp',
          CHART_DIR,
          '-n',
          'torchain-system',
          '-f',
          values,
          '--dry-run=server',
          '--disable-openapi-validation',
          '--kubeconfig',
          kube.kubeconfigPath,
        ],
        { maxBuffer: 32 << 20 },
      );
      return stdout;
    } catch (e) {
      throw new Error((e as { stderr?: string }).stderr ?? String(e));
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'torchain-mnp-'));
    mkdirSync(join(dir, 'kube'));
    kube = await startKube({ dir: join(dir, 'kube') });
  });
  afterAll(async () => {
    await kube?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('offline (helm template) the chart renders its MultiNetworkPolicies as before', async () => {
    expect(ofKind(await render({ valuesFiles: [values] }), 'MultiNetworkPolicy')).toHaveLength(2);
  });

  it('against a cluster without the CRD: fails naming the CRD, where it comes from and the enforcer flag', async () => {
    const err = await install().then(
      () => 'installed',
      (e: Error) => e.message,
    );
    expect(err).toMatch(/does not serve k8s\.cni\.cncf\.io\/v1beta1 MultiNetworkPolicy/);
    expect(err).toMatch(/scheme\.yml/);
    expect(err).toMatch(/--network-plugins=macvlan,bridge/);
  });

  it('against a cluster that serves it: renders', async () => {
    // The chart's own CRD too: a dry run does not install crds/.
    await run(KUBECTL, [
      '--kubeconfig',
      kube.kubeconfigPath,
      'apply',
      '-f',
      FOREIGN_CRDS,
      '-f',
      join(CHART_DIR, 'crds'),
    ]);
    await run(KUBECTL, [
      '--kubeconfig',
      kube.kubeconfigPath,
      'wait',
      '--for',
      'condition=established',
      'crd',
      '--all',
      '--timeout',
      '30s',
    ]);
    const manifest = await install();
    expect(manifest.match(/^kind: MultiNetworkPolicy$/gm)).toHaveLength(2);
  });
});
