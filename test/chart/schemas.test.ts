// Every object the chart renders, for every ci/ value set, is valid against the schema of its kind.
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELM } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { schemaErrors } from './kube-schemas.js';
import { ciValueFiles, ofKind, render, type Manifest } from './render.js';

describe.skipIf(skipUnless({ binaries: [HELM] }))('rendered manifests against their schemas', () => {
  for (const file of ciValueFiles()) {
    it(`ci/${basename(file)}: every object is valid for its kind`, async () => {
      const objects = await render({ valuesFiles: [file] });
      expect(objects.length).toBeGreaterThan(5);
      const errors = (await Promise.all(objects.map(schemaErrors))).flat();
      expect(errors).toEqual([]);
    });
  }

  it('the validation catches a wrong field in each family of schemas', async () => {
    const objects = await render({ valuesFiles: ciValueFiles().filter((f) => f.includes('three-hop')) });
    const broken = (kind: string, change: (o: Manifest) => void): Manifest => {
      const o = structuredClone(ofKind(objects, kind)[0]!);
      change(o);
      return o;
    };
    const cases: Array<[Manifest, RegExp]> = [
      [broken('Deployment', (d) => (d.spec.replicas = 'two')), /replicas must be integer/],
      [broken('NetworkPolicy', (p) => (p.spec.policyTypes = 'Ingress')), /policyTypes must be array/],
      [broken('ServiceMonitor', (s) => (s.spec.endpoints[0].honorLabels = 'yes')), /honorLabels must be boolean/],
      [broken('TorChain', (t) => (t.spec.typeNode = 'ipsec')), /spec\.typeNode: Unsupported value: "ipsec"/],
      [broken('TorChain', (t) => (t.spec.switchover = 1)), /spec\.switchover: field not declared in schema/],
      [broken('NetworkAttachmentDefinition', (n) => (n.spec.config = { type: 'bridge' })), /spec\.config/],
      [broken('MultiNetworkPolicy', (p) => (p.spec.ingress = {})), /ingress must be array/],
      [
        { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } },
        /no schema for example\.com\/v1 Widget/,
      ],
    ];
    for (const [object, message] of cases) {
      const errors = await schemaErrors(object).catch((e: Error) => [e.message]);
      expect(errors.join('\n'), `${object.kind}`).toMatch(message);
    }
  });
});
