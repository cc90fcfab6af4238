// Golden files of the chart: `helm template torchain helm/torchain -n torchain-system -f <values>` (no CRDs: they have
// their own drift test) of every value set in helm/torchain/ci/ and of the lab's value set (lab/chart/values.yaml with
// a chains block of the lab's shape, made by the lab's own chainValues; once with the chart's timings, as
// `--timings production` installs it, once with the lab's short timings, as `npm run lab` does). A change of a golden
// is a change of what `helm install` creates: review it as such. Every rendered PrometheusRule's rules also pass the
// real `promtool check rules`.
//
// The webhook token Secret is the one random part (`randAlphaNum 48 | b64enc` when `helm template` cannot look up the
// existing Secret): each golden holds TOKEN_PLACEHOLDER in its place, once the test has checked that every copy of the
// Secret carries the same freshly generated token.
//
// Update after an intended change: `npx vitest run -u test/chart/golden.test.ts`, then read the diff of
// test/chart/__golden__/ before committing it.
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { LAB_VALUES, chainValues, labTimingValues, type ChainValuesNode } from '../../lab/start/install.js';
import { PROMTOOL_K8S } from '../../lab/monitoring/binaries.js';
import { HELM } from '../../scripts/paths.js';
import { run, tempDir } from '../prometheus-rules/support.js';
import { skipUnless } from '../support/env.js';
import { ciValueFiles, renderText, type Manifest } from './render.js';

const GOLDEN = join(import.meta.dirname, '__golden__');
const TOKEN_PLACEHOLDER = '<random: randAlphaNum 48 | b64enc, normalised by test/chart/golden.test.ts>';

/** Two chains on two nodes, as `npm run lab` plans them, with the lab's bridges and addresses (lab/netns/topology.ts). */
const LAB_CHAINS = chainValues(
  (
    [
      {
        name: 'lab-1',
        chain: { name: 'lab', namespace: 'torchain-lab', hops: ['openvpn', 'wireguard', 'openconnect'] },
      },
      { name: 'lab-2', chain: { name: 'edge', namespace: 'torchain-edge', hops: ['wireguard', 'openvpn'] } },
    ] satisfies Array<Omit<ChainValuesNode, 'world'>>
  ).map((n) => ({
    ...n,
    world: {
      lanBridge: 'br-lan',
      internetBridge: 'br-inet',
      lanGateway: '10.200.0.1/24',
      hop1Address: '198.18.0.2/16',
    },
  })),
);

/** Replaces the webhook token (one value in every copy of its Secret) by TOKEN_PLACEHOLDER. */
function normaliseToken(text: string, objects: Manifest[]): string {
  const tokens = new Set<string>();
  for (const o of objects)
    if (o.kind === 'Secret' && String(o.metadata?.name).endsWith('webhook-token'))
      for (const v of Object.values(o.data ?? {})) tokens.add(String(v));
  if (tokens.size === 0) return text;
  // One token for the operator and every AlertmanagerConfig namespace, or Alertmanager and the operator disagree.
  expect([...tokens]).toHaveLength(1);
  const [token] = [...tokens];
  expect(Buffer.from(token!, 'base64').toString()).toMatch(/^[A-Za-z0-9]{48}$/);
  return text.replaceAll(token!, TOKEN_PLACEHOLDER);
}

interface ValueSet {
  name: string;
  files: string[];
}

describe.skipIf(skipUnless({ binaries: [HELM, PROMTOOL_K8S] }))('chart golden files', () => {
  const dir = tempDir('chart-golden');
  afterAll(() => dir.remove());
  const labChains = join(dir.path, 'lab-chains.yaml');
  const labTimings = join(dir.path, 'lab-timings.yaml');
  writeFileSync(labChains, stringify(LAB_CHAINS));
  writeFileSync(labTimings, stringify(labTimingValues()));

  const sets: ValueSet[] = [
    ...ciValueFiles().map((f) => ({ name: basename(f, '.yaml'), files: [f] })),
    { name: 'lab-values', files: [LAB_VALUES, labChains] },
    { name: 'lab-values-lab-timings', files: [LAB_VALUES, labChains, labTimings] },
  ];

  for (const set of sets)
    it(`${set.name}: matches its golden file, and promtool accepts every PrometheusRule`, async () => {
      const text = await renderText({ valuesFiles: set.files, includeCrds: false });
      const objects = parseAllDocuments(text)
        .map((d) => d.toJS() as Manifest | null)
        .filter((o): o is Manifest => !!o);
      await expect(normaliseToken(text, objects)).toMatchFileSnapshot(join(GOLDEN, `${set.name}.yaml`));

      const rules = objects.filter((o) => o.kind === 'PrometheusRule');
      expect(rules.length, 'every value set renders the PrometheusRule').toBeGreaterThan(0);
      for (const rule of rules) {
        const file = join(dir.path, `${set.name}-${String(rule.metadata.name)}.rules.yaml`);
        writeFileSync(file, stringify(rule.spec));
        const count = (rule.spec.groups as Array<{ rules: unknown[] }>).reduce((n, g) => n + g.rules.length, 0);
        const check = run(PROMTOOL_K8S, ['check', 'rules', file]);
        expect(check.code, check.stdout + check.stderr).toBe(0);
        expect(check.stdout).toContain(`SUCCESS: ${String(count)} rules found`);
      }
    });
});
