// The rendered manifests applied with the real kubectl to lab/kube (the project's Kubernetes API stand-in): every
// object is accepted (the TorChain CRD's schema is enforced there), a second apply changes nothing, `kubectl get tc`
// shows the chains, and the webhook token Secret is kept when Helm renders again against the cluster (`lookup`).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startKube } from '../../lab/kube/server.js';
import { CHART_DIR, HELM, KUBECTL } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { ciValueFiles, ofKind, render, renderText, type Manifest } from './render.js';

const run = promisify(execFile);

describe.skipIf(skipUnless({ binaries: [HELM, KUBECTL] }))('the chart applied to lab/kube with kubectl', () => {
  let kube: Awaited<ReturnType<typeof startKube>>;
  let dir = '';
  const kubectl = async (...args: string[]): Promise<string> => {
    try {
      const { stdout } = await run(KUBECTL, ['--kubeconfig', kube.kubeconfigPath, ...args], { maxBuffer: 32 << 20 });
      return stdout;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`kubectl ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
    }
  };

  beforeAll(async () => {
    kube = await startKube();
    dir = mkdtempSync(join(tmpdir(), 'torchain-chart-'));
    await kubectl(
      'apply',
      '-f',
      join(CHART_DIR, 'crds'),
      '-f',
      join(import.meta.dirname, '..', '..', 'lab', 'cluster', 'addon-crds.yaml'),
    );
    await kubectl('wait', '--for', 'condition=established', 'crd', '--all', '--timeout', '30s');
  });

  afterAll(async () => {
    await kube?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const file of ciValueFiles()) {
    const set = basename(file, '.yaml');
    it(`ci/${set}: every object is accepted, and applying again changes nothing`, async () => {
      const namespace = `rel-${set.replace(/-values$/, '')}`.slice(0, 63);
      const objects = (await render({ valuesFiles: [file], namespace, skipTests: true })).filter(
        (o) => o.kind !== 'CustomResourceDefinition',
      );
      // Namespaces the chart does not create itself exist beforehand, as the install guide says.
      const created = new Set(ofKind(objects, 'Namespace').map((n) => n.metadata.name as string));
      const needed = new Set(
        objects.map((o) => o.metadata.namespace as string | undefined).filter((n): n is string => !!n),
      );
      for (const ns of needed) if (!created.has(ns)) await kubectl('create', 'namespace', ns);

      const path = join(dir, `${set}.yaml`);
      writeFileSync(path, objects.map((o) => stringify(o)).join('---\n'));
      const first = (await kubectl('apply', '-f', path)).trim().split('\n');
      expect(first).toHaveLength(objects.length);
      for (const line of first) expect(line).toMatch(/ (created|configured|unchanged)$/);
      expect(first.filter((l) => l.endsWith(' created')).length).toBeGreaterThan(objects.length / 2);

      // Applying the same manifests again leaves every object as it was. (Compared on the objects rather than on
      // kubectl's "unchanged": kubectl computes strategic-merge patches from the server's OpenAPI document, which
      // lab/kube serves only in part, so it may send an empty-effect patch and print "configured".)
      const snapshot = async (): Promise<Manifest[]> =>
        (JSON.parse(await kubectl('get', '-f', path, '-o', 'json')) as Manifest).items.map((o: Manifest) => {
          const { resourceVersion: _rv, managedFields: _mf, generation: _g, ...metadata } = o.metadata as Manifest;
          return { ...o, metadata, status: undefined };
        });
      const before = await snapshot();
      expect(before).toHaveLength(objects.length);
      await kubectl('apply', '-f', path);
      expect(await snapshot()).toEqual(before);

      for (const tc of ofKind(objects, 'TorChain')) {
        const table = await kubectl('get', 'tc', '-n', tc.metadata.namespace, tc.metadata.name, '--no-headers');
        expect(table.trim().split(/\s+/).slice(0, 4)).toEqual([
          tc.metadata.name,
          tc.spec.nameTorChain,
          String(tc.spec.numberNode),
          tc.spec.typeNode,
        ]);
      }
    });
  }

  it('the webhook token Secret is looked up and kept when Helm renders against the cluster', async () => {
    const namespace = 'rel-token';
    await kubectl('create', 'namespace', namespace);
    const tokenOf = async (extraArgs: string[] = []): Promise<string> => {
      const text = await renderText({ namespace, showOnly: 'templates/operator/webhook-secret.yaml', extraArgs });
      return /^\s+token: (\S+)$/m.exec(text)![1]!;
    };
    const installed = await tokenOf();
    const path = join(dir, 'token.yaml');
    writeFileSync(
      path,
      await renderText({ namespace, showOnly: 'templates/operator/webhook-secret.yaml' }).then((t) =>
        t.replace(/^(\s+token: )\S+$/m, `$1${installed}`),
      ),
    );
    await kubectl('apply', '-f', path);
    // `--dry-run=server` lets `lookup` read the cluster, as `helm upgrade` does.
    const online = ['--dry-run=server', '--kubeconfig', kube.kubeconfigPath];
    expect(await tokenOf(online)).toBe(installed);
    expect(await tokenOf(online)).toBe(installed);
    // Offline (helm template) there is nothing to look up: a fresh token each time.
    expect(await tokenOf()).not.toBe(installed);
  });

  it('helm install --dry-run renders NOTES.txt that tells how to check each chain', async () => {
    const file = ciValueFiles().find((f) => f.includes('two-chains'))!;
    // A release and chain namespaces of its own: Helm refuses to adopt the objects the tests above applied.
    const { stdout } = await run(HELM, [
      'install',
      'notes',
      CHART_DIR,
      '--dry-run=client',
      '--namespace',
      'rel-notes',
      '--values',
      file,
      '--set',
      'chains[0].namespace=notes-alpha,chains[1].namespace=notes-beta,operator.rbac.extraNamespaces=null',
      '--kubeconfig',
      kube.kubeconfigPath,
    ]);
    const notes = stdout.slice(stdout.indexOf('NOTES:'));
    expect(notes).toContain('kubectl -n notes-alpha get tc -l torchain.dev/chain=alpha');
    expect(notes).toContain('kubectl -n notes-beta get tc -l torchain.dev/chain=beta');
    expect(notes).toContain('helm test notes -n rel-notes');
    expect(notes).toContain('{"release":"kube-prometheus-stack"}');
  });
});
