// Custom-resource validation with the CRD's own openAPIV3Schema, as kube-apiserver does it: messages and field
// paths as k8s.io/apiextensions-apiserver/pkg/apiserver/validation words them, Go RE2 pattern semantics, and
// x-kubernetes-validations (CEL) rules. Pure, no HTTP.
// https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { validateCrd } from '../../lab/kube/crd.js';
import { compileSchema, type Schema } from '../../lab/kube/schema/validate.js';
import type { KObject } from '../../lab/kube/types.js';
import { CHART_DIR } from '../../scripts/paths.js';

const crd = parse(readFileSync(`${CHART_DIR}/crds/torchain.dev_torchains.yaml`, 'utf8')) as KObject;
const torchainSchema = (crd.spec as { versions: Array<{ schema: { openAPIV3Schema: Schema } }> }).versions[0]!.schema
  .openAPIV3Schema;
const hop = (spec: Record<string, unknown>) => ({
  apiVersion: 'torchain.dev/v1alpha1',
  kind: 'TorChain',
  metadata: { name: 'h' },
  spec: { numberNode: 1, typeNode: 'openvpn', nameTorChain: 'alpha', inInterface: 'net1', ...spec },
});
const messages = (errs: Array<{ field: string; message: string }>) => errs.map((e) => `${e.field}: ${e.message}`);

describe('openAPIV3Schema validation (the TorChain CRD)', () => {
  const v = compileSchema(torchainSchema);
  it('accepts a valid hop', () => {
    expect(v.validate(hop({ ipGateWay: '192.0.2.1/24', inInterface: 'net1' }))).toEqual([]);
  });
  it('words type, bound, enum, pattern and format errors as the API server', () => {
    expect(messages(v.validate(hop({ numberNode: 'one' })))).toEqual([
      'spec.numberNode: Invalid value: "string": spec.numberNode in body must be of type integer: "string"',
    ]);
    expect(messages(v.validate(hop({ numberNode: 0 })))).toEqual([
      'spec.numberNode: Invalid value: 0: spec.numberNode in body should be greater than or equal to 1',
    ]);
    expect(messages(v.validate(hop({ typeNode: 'ipsec' })))).toEqual([
      'spec.typeNode: Unsupported value: "ipsec": supported values: "openvpn", "wireguard", "openconnect"',
    ]);
    expect(messages(v.validate(hop({ nameTorChain: 'Alpha' })))[0]).toMatch(
      /^spec\.nameTorChain: Invalid value: "Alpha": spec\.nameTorChain in body should match '.+'$/,
    );
    expect(messages(v.validate(hop({ ipGateWay: 'gateway' })))).toEqual([
      expect.stringMatching(/^spec\.ipGateWay: Invalid value: "gateway": spec\.ipGateWay in body should match '\^\(25/),
    ]);
    const { nameTorChain: _n, ...spec } = hop({}).spec;
    expect(messages(v.validate({ ...hop({}), spec }))).toEqual(['spec.nameTorChain: Required value']);
  });
});

describe('Go RE2 patterns, not JavaScript regular expressions', () => {
  it('\\s is ASCII white space in RE2: a non-breaking space is not one', () => {
    // JavaScript's \s matches U+00A0; Go's regexp does not (https://github.com/google/re2/wiki/Syntax)
    const v = compileSchema({ type: 'object', properties: { s: { type: 'string', pattern: '^\\S+$' } } });
    expect(v.validate({ s: 'a\u00a0b' })).toEqual([]);
    expect(/^\S+$/.test('a\u00a0b')).toBe(false);
  });
  it('a CRD whose pattern RE2 cannot compile (lookahead) is refused with the field path', () => {
    const bad = structuredClone(crd);
    const spec = (bad.spec as { versions: Array<{ schema: { openAPIV3Schema: Schema } }> }).versions[0]!.schema
      .openAPIV3Schema as { properties: { spec: { properties: Record<string, Schema> } } };
    spec.properties.spec.properties.nameTorChain!.pattern = '^(?=a)[a-z]+$';
    const problems = validateCrd(bad, undefined);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.field).toBe(
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[nameTorChain].pattern',
    );
    expect(problems[0]!.message).toMatch(/^Invalid value: "\^\(\?=a\)\[a-z\]\+\$": error parsing regexp/);
  });
});

describe('structural keywords', () => {
  it('x-kubernetes-int-or-string, nullable, maxLength, maxItems, embedded resources', () => {
    const v = compileSchema({
      type: 'object',
      properties: {
        port: { 'x-kubernetes-int-or-string': true },
        note: { type: 'string', nullable: true, maxLength: 3 },
        list: { type: 'array', maxItems: 1, items: { type: 'string' } },
        obj: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
      },
    });
    expect(v.validate({ port: 'http', note: null, list: ['a'], obj: { apiVersion: 'v1', kind: 'Pod' } })).toEqual([]);
    expect(messages(v.validate({ port: 1.5, note: 'long', list: ['a', 'b'], obj: { kind: 'Pod' } }))).toEqual([
      'port: Invalid value: "float64": port in body must be of type integer,string: "number"',
      'note: Too long: may not be longer than 3',
      'list: Too many: 2: must have at most 1 items',
      'obj.apiVersion: Required value: must not be empty',
    ]);
  });
});

describe('x-kubernetes-validations (CEL)', () => {
  const schema: Schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        'x-kubernetes-validations': [
          { rule: 'self.min <= self.max', message: 'min must not exceed max' },
          { rule: 'self.name.startsWith("hop-")', reason: 'FieldValueForbidden', fieldPath: '.name' },
          { rule: 'self.max >= oldSelf.max', message: 'max may only grow' },
        ],
        properties: { min: { type: 'integer' }, max: { type: 'integer' }, name: { type: 'string' } },
      },
    },
  };
  const v = compileSchema(schema);
  it('evaluates rules with self, integers as CEL ints, message, reason and fieldPath', () => {
    expect(v.validate({ spec: { min: 1, max: 2, name: 'hop-1' } })).toEqual([]);
    expect(messages(v.validate({ spec: { min: 3, max: 2, name: 'x' } }))).toEqual([
      'spec: Invalid value: "object": min must not exceed max',
      'spec.name: Forbidden: failed rule: self.name.startsWith("hop-")',
    ]);
  });
  it('transition rules (oldSelf) run only on updates', () => {
    expect(v.validate({ spec: { min: 1, max: 1, name: 'hop-1' } })).toEqual([]);
    expect(
      messages(v.validate({ spec: { min: 1, max: 1, name: 'hop-1' } }, { spec: { min: 1, max: 5, name: 'hop-1' } })),
    ).toEqual(['spec: Invalid value: "object": max may only grow']);
  });
  it('a rule that does not compile makes the CRD invalid; one that cannot be evaluated refuses the object', () => {
    expect(() => compileSchema({ type: 'object', 'x-kubernetes-validations': [{ rule: 'self.a +' }] })).toThrow(
      /openAPIV3Schema\.x-kubernetes-validations\[0\]\.rule: Invalid value: "self\.a \+": compilation failed/,
    );
    const lacking = compileSchema({
      type: 'object',
      properties: { q: { type: 'string' } },
      'x-kubernetes-validations': [{ rule: 'quantity(self.q).isGreaterThan(quantity("1"))' }],
    });
    const errs = messages(lacking.validate({ q: '2' }));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^: Invalid value: "object": evaluation failed for rule/);
  });
});
