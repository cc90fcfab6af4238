// Pure parts of lab/kube, table-tested without I/O: selectors, patches, printer-column JSONPath, ages, schema
// defaulting/pruning and the store's watch window. Expected values follow the Kubernetes sources cited per case.
import { describe, expect, it } from 'vitest';
import { jsonPatch, mergePatch, strategicMergePatch } from '../../lab/kube/patch.js';
import { compareKubeVersions } from '../../lab/kube/registry.js';
import { applyDefaults, prune } from '../../lab/kube/schema/ops.js';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from '../../lab/kube/selectors.js';
import { Store } from '../../lab/kube/store.js';
import { humanDuration, jsonPathResults } from '../../lab/kube/table.js';
import { parseRfc3339, rfc3339Nano } from '../../lab/kube/pod-logs.js';
import { decodeProtobuf } from '../../lab/kube/protobuf.js';
import type { KObject } from '../../lab/kube/types.js';

describe('label selectors (k8s.io/apimachinery/pkg/labels)', () => {
  const labels = { app: 'hop', 'torchain.dev/hop': '2', tier: 'edge' };
  it.each([
    ['', true],
    ['app=hop', true],
    ['app==hop', true],
    ['app!=hop', false],
    ['app=hop,tier=core', false],
    ['torchain.dev/hop in (1, 2)', true],
    ['torchain.dev/hop notin (2)', false],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['missing!=x', true],
    ['torchain.dev/hop>1', true],
    ['torchain.dev/hop<2', false],
  ])('%j matches: %s', (sel, want) => {
    expect(matchLabels(parseLabelSelector(sel), labels)).toBe(want);
  });
  it('refuses malformed selectors with a 400 naming the term', () => {
    expect(() => parseLabelSelector('app=(x')).toThrow(/unable to parse requirement/);
    expect(() => parseLabelSelector('a b c')).toThrow(/unable to parse requirement/);
  });
});

describe('field selectors (k8s.io/apimachinery/pkg/fields)', () => {
  it('parses =, ==, != with escapes and ANDs terms', () => {
    const reqs = parseFieldSelector('metadata.name=a\\,b,status.phase!=Running');
    expect(reqs).toEqual([
      { field: 'metadata.name', op: '=', value: 'a,b' },
      { field: 'status.phase', op: '!=', value: 'Running' },
    ]);
    expect(matchFields(reqs, { 'metadata.name': 'a,b', 'status.phase': 'Pending' })).toBe(true);
    expect(matchFields(reqs, { 'metadata.name': 'a,b', 'status.phase': 'Running' })).toBe(false);
  });
});

describe('patches', () => {
  it('JSON merge patch (RFC 7386): null deletes, arrays replace', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null, e: 4 }, l: [3] })).toEqual({
      a: 1,
      b: { d: 3, e: 4 },
      l: [3],
    });
  });
  it('JSON patch (RFC 6902): add/replace/remove/move/copy/test, atomic on failure', () => {
    const doc = { a: [1, 2], b: { c: 'x' } };
    expect(
      jsonPatch(doc, [
        { op: 'add', path: '/a/-', value: 3 },
        { op: 'replace', path: '/b/c', value: 'y' },
        { op: 'copy', from: '/b/c', path: '/d' },
        { op: 'move', from: '/d', path: '/e' },
        { op: 'remove', path: '/a/0' },
        { op: 'test', path: '/a', value: [2, 3] },
      ]),
    ).toEqual({ a: [2, 3], b: { c: 'y' }, e: 'y' });
    expect(() => jsonPatch(doc, [{ op: 'test', path: '/b/c', value: 'nope' }])).toThrow(/testing value/);
    expect(() => jsonPatch(doc, [{ op: 'replace', path: '/zzz', value: 1 }])).toThrow(/missing/);
    expect(doc).toEqual({ a: [1, 2], b: { c: 'x' } });
  });
  it('strategic merge patch: containers merge by name, env by name, $patch: delete, $setElementOrder, finalizers union', () => {
    const cur = {
      metadata: { finalizers: ['a'] },
      spec: {
        containers: [
          {
            name: 'vpn',
            image: 'v:1',
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
          },
          { name: 'log-exporter', image: 'e:1' },
        ],
      },
    };
    const patch = {
      metadata: { finalizers: ['b'] },
      spec: {
        containers: [
          {
            name: 'vpn',
            image: 'v:2',
            env: [
              { name: 'B', $patch: 'delete' },
              { name: 'C', value: '3' },
            ],
          },
          { name: 'log-exporter', $patch: 'delete' },
        ],
      },
    };
    expect(strategicMergePatch(cur, patch)).toEqual({
      metadata: { finalizers: ['a', 'b'] },
      spec: {
        containers: [
          {
            name: 'vpn',
            image: 'v:2',
            env: [
              { name: 'A', value: '1' },
              { name: 'C', value: '3' },
            ],
          },
        ],
      },
    });
    const ordered = strategicMergePatch(
      { spec: { volumes: [{ name: 'x' }, { name: 'y' }] } },
      { spec: { '$setElementOrder/volumes': [{ name: 'z' }, { name: 'y' }, { name: 'x' }], volumes: [{ name: 'z' }] } },
    );
    expect(ordered).toEqual({ spec: { volumes: [{ name: 'z' }, { name: 'y' }, { name: 'x' }] } });
    // lists without a merge key (args, command) are replaced
    expect(strategicMergePatch({ args: ['a', 'b'] }, { args: ['c'] })).toEqual({ args: ['c'] });
  });
});

describe('printer columns', () => {
  const obj = {
    spec: { n: 3 },
    status: {
      conditions: [
        { type: 'TunnelUp', status: 'False' },
        { type: 'Ready', status: 'True' },
      ],
    },
  };
  it('evaluates the JSONPath subset CRD printer columns use', () => {
    expect(jsonPathResults(obj, '.spec.n')).toEqual([3]);
    expect(jsonPathResults(obj, '.status.conditions[?(@.type=="Ready")].status')).toEqual(['True']);
    expect(jsonPathResults(obj, '.status.conditions[*].type')).toEqual(['TunnelUp', 'Ready']);
    expect(jsonPathResults(obj, '.status.conditions[1].type')).toEqual(['Ready']);
    expect(jsonPathResults(obj, '.status.missing')).toEqual([]);
  });
  it.each([
    [0, '0s'],
    [119_000, '119s'],
    [125_000, '2m5s'],
    [600_000, '10m'],
    [3 * 3600_000 + 5 * 60_000, '3h5m'],
    [9 * 3600_000, '9h'],
    [50 * 3600_000, '2d2h'],
    [400 * 86400_000, '400d'],
    [(3 * 365 + 4) * 86400_000, '3y4d'],
  ])('AGE of %d ms is %s (apimachinery duration.HumanDuration)', (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });
});

describe('structural schema defaulting and pruning', () => {
  const schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          a: { type: 'integer', default: 0 },
          nested: { type: 'object', default: {}, properties: { x: { type: 'string', default: 'd' } } },
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          items: { type: 'array', items: { type: 'object', properties: { k: { type: 'string' } } } },
        },
      },
    },
  };
  it('applies defaults top-down, including inside a defaulted object', () => {
    const o: Record<string, unknown> = { spec: {} };
    applyDefaults(o, schema);
    expect(o).toEqual({ spec: { a: 0, nested: { x: 'd' } } });
  });
  it('prunes undeclared fields (reporting their paths) except under x-kubernetes-preserve-unknown-fields', () => {
    const o = {
      apiVersion: 'v',
      kind: 'K',
      metadata: { name: 'n' },
      spec: { a: 1, extra: 1, free: { any: 1 }, items: [{ k: 'v', j: 1 }] },
      top: 1,
    };
    const dropped = prune(o, schema);
    expect(o).toEqual({
      apiVersion: 'v',
      kind: 'K',
      metadata: { name: 'n' },
      spec: { a: 1, free: { any: 1 }, items: [{ k: 'v' }] },
    });
    expect(dropped.sort()).toEqual(['spec.extra', 'spec.items[0].j', 'top']);
  });
});

describe('store watch window', () => {
  const obj = (name: string, rv: number): KObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'd', uid: name, resourceVersion: String(rv) },
  });
  it('replays events after a resourceVersion and answers expired once the history no longer reaches it', () => {
    const store = new Store(3);
    const rvs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const rv = store.nextRv();
      rvs.push(rv);
      store.put('/configmaps', obj(`c${i}`, rv), 'ADDED');
    }
    expect(store.eventsSince('/configmaps', rvs[2]!)).not.toBe('expired');
    expect((store.eventsSince('/configmaps', rvs[2]!) as Array<{ rv: number }>).map((e) => e.rv)).toEqual([
      rvs[3],
      rvs[4],
    ]);
    expect(store.eventsSince('/configmaps', rvs[0]!)).toBe('expired');
    expect(store.list('/configmaps', 'd').map((o) => o.metadata.name)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
  });
});

describe('time formats', () => {
  it('RFC 3339 with nanoseconds as Go prints it, and parsing back keeps order', () => {
    expect(rfc3339Nano(Date.parse('2026-01-01T00:00:00.120Z'), 5)).toBe('2026-01-01T00:00:00.120000005Z');
    expect(rfc3339Nano(Date.parse('2026-01-01T00:00:00Z'))).toBe('2026-01-01T00:00:00Z');
    expect(parseRfc3339('2026-01-01T00:00:00.5Z')).toBe(Date.parse('2026-01-01T00:00:00.500Z'));
    expect(parseRfc3339('2026-01-01T01:00:00+01:00')).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(parseRfc3339('yesterday')).toBeNaN();
  });
  it('orders API versions by Kubernetes priority (GA > beta > alpha)', () => {
    expect(['v1alpha1', 'v1', 'v2beta1', 'v1beta2', 'v2'].sort(compareKubeVersions)).toEqual([
      'v2',
      'v1',
      'v2beta1',
      'v1beta2',
      'v1alpha1',
    ]);
  });
});

describe('protobuf request bodies (k8s.io/api generated.proto)', () => {
  // minimal protobuf writer for the test: length-delimited and varint fields
  const varint = (n: number): Buffer => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return Buffer.from(out);
  };
  const bytes = (no: number, v: Buffer | string): Buffer => {
    const b = Buffer.isBuffer(v) ? v : Buffer.from(v);
    return Buffer.concat([varint((no << 3) | 2), varint(b.length), b]);
  };
  const entry = (no: number, k: string, v: Buffer | string) => bytes(no, Buffer.concat([bytes(1, k), bytes(2, v)]));

  it('decodes a Secret as Helm sends it (envelope, ObjectMeta labels, data bytes, type)', () => {
    const meta = Buffer.concat([bytes(1, 'sh.helm.release.v1.x.v1'), bytes(3, 'default'), entry(11, 'owner', 'helm')]);
    const secret = Buffer.concat([
      bytes(1, meta),
      entry(2, 'release', Buffer.from([0, 1, 2])),
      bytes(3, 'helm.sh/release.v1'),
    ]);
    const unknown = Buffer.concat([bytes(1, Buffer.concat([bytes(1, 'v1'), bytes(2, 'Secret')])), bytes(2, secret)]);
    const decoded = decodeProtobuf(Buffer.concat([Buffer.from('k8s\0', 'latin1'), unknown]));
    expect(decoded).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'sh.helm.release.v1.x.v1', namespace: 'default', labels: { owner: 'helm' } },
      data: { release: Buffer.from([0, 1, 2]).toString('base64') },
      type: 'helm.sh/release.v1',
    });
  });

  it('refuses bodies without the k8s magic and kinds it does not know', () => {
    expect(() => decodeProtobuf(Buffer.from('{}'))).toThrow(/magic/);
    const unknown = Buffer.concat([
      bytes(1, Buffer.concat([bytes(1, 'apps/v1'), bytes(2, 'Deployment')])),
      bytes(2, Buffer.alloc(0)),
    ]);
    expect(() => decodeProtobuf(Buffer.concat([Buffer.from('k8s\0', 'latin1'), unknown]))).toThrow(
      /Secret, ConfigMap and DeleteOptions only/,
    );
  });
});
