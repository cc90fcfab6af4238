import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildCrd } from '../../operator/src/api/crd.js';
import { CRD_PATH, renderCrdYaml } from '../../operator/src/api/crd-file.js';
import { structuralErrors } from '../../lab/kube/schema/structural.js';
import { CHART_DIR, HELM, REPO_ROOT } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('the TorChain CRD', () => {
  it('committed file equals what operator/src/api/torchain.ts generates (run `npm run gen:crd` to fix)', () => {
    expect(readFileSync(join(REPO_ROOT, CRD_PATH), 'utf8')).toBe(renderCrdYaml());
  });

  const crd = parse(readFileSync(join(REPO_ROOT, CRD_PATH), 'utf8')) as Obj;
  const version = crd.spec.versions[0];

  it('is a structural apiextensions.k8s.io/v1 schema', () => {
    expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
    expect(structuralErrors(version.schema.openAPIV3Schema)).toEqual([]);
  });

  it('the structural check catches what Kubernetes rejects', () => {
    const bad = structuredClone(buildCrd()) as Obj;
    const spec = bad.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    delete spec.properties.numberNode.type;
    spec.additionalProperties = false;
    spec.properties.typeNode.anyOf = [{ type: 'string' }];
    spec.properties.drop.const = 0;
    const errors = structuralErrors(bad.spec.versions[0].schema.openAPIV3Schema).join('\n');
    expect(errors).toMatch(/properties\[numberNode\]\.type: Required value/);
    expect(errors).toMatch(/additionalProperties and properties are mutual exclusive/);
    expect(errors).toMatch(/anyOf\[0\]\.type: Forbidden/);
    expect(errors).toMatch(/properties\[drop\]\.const: Forbidden: unknown field/);
  });

  it('has the status subresource, short name tc and the printer columns of the design', () => {
    expect(crd.spec.names).toMatchObject({ kind: 'TorChain', plural: 'torchains', shortNames: ['tc'] });
    expect(crd.spec.scope).toBe('Namespaced');
    expect(version.subresources).toEqual({ status: {} });
    expect(version.additionalPrinterColumns.map((c: Obj) => c.name)).toEqual([
      'Chain',
      'Hop',
      'Type',
      'Server',
      'Ready',
      'Switches',
      'Age',
    ]);
  });

  it('keeps every seed spec field under its seed JSON name', () => {
    const fields = Object.keys(version.schema.openAPIV3Schema.properties.spec.properties);
    for (const f of [
      'drop',
      'numberNode',
      'typeNode',
      'nameTorChain',
      'switchServer',
      'vpnFileConfig',
      'tmpDir',
      'inInterface',
      'ipGateWay',
      'outInterface',
      'image',
      'nameK8sNode',
    ])
      expect(fields).toContain(f);
    expect(Object.keys(version.schema.openAPIV3Schema.properties.status.properties)).toEqual(
      expect.arrayContaining([
        'observedGeneration',
        'phase',
        'currentServer',
        'switches',
        'lastSwitchTime',
        'mtu',
        'conditions',
      ]),
    );
  });
});

describe.skipIf(skipUnless({ binaries: [HELM] }))('the chart skeleton', () => {
  it('loads in `helm lint` with the CRD', () => {
    const out = execFileSync(HELM, ['lint', CHART_DIR], { encoding: 'utf8' });
    expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });
});
