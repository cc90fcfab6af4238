// Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) for the kinds typed
// client-go clients send that way in torchain's world: Helm stores its releases in Secrets (or ConfigMaps) through
// a protobuf clientset. The envelope is the magic "k8s\0" and a runtime.Unknown; field numbers come from
// k8s.io/api/core/v1/generated.proto and k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto.
// https://kubernetes.io/docs/reference/using-api/api-concepts/#protobuf-encoding
import { ApiError } from './errors.js';
import type { Obj } from './types.js';

type Field = { no: number; wire: number; value: bigint | Buffer };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, value: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new Error('truncated field');
      out.push({ no, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) {
      out.push({ no, wire, value: buf.subarray(i, i + 8) });
      i += 8;
    } else if (wire === 5) {
      out.push({ no, wire, value: buf.subarray(i, i + 4) });
      i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const str = (f: Field) => (f.value as Buffer).toString('utf8');

function map(entries: Field[], bytes: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const kv = fields(e.value as Buffer);
    const k = kv.find((f) => f.no === 1);
    const v = kv.find((f) => f.no === 2);
    out[k ? str(k) : ''] = v ? (bytes ? (v.value as Buffer).toString('base64') : str(v)) : '';
  }
  return out;
}

function time(buf: Buffer): string {
  const f = fields(buf);
  const seconds = Number((f.find((x) => x.no === 1)?.value as bigint | undefined) ?? 0n);
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function ownerReference(buf: Buffer): Obj {
  const o: Obj = {};
  for (const f of fields(buf)) {
    if (f.no === 5) o.apiVersion = str(f);
    else if (f.no === 1) o.kind = str(f);
    else if (f.no === 3) o.name = str(f);
    else if (f.no === 4) o.uid = str(f);
    else if (f.no === 6) o.controller = f.value === 1n;
    else if (f.no === 7) o.blockOwnerDeletion = f.value === 1n;
  }
  return o;
}

function objectMeta(buf: Buffer): Obj {
  const all = fields(buf);
  const m: Obj = {};
  const byNo = (n: number) => all.filter((f) => f.no === n);
  const one = (n: number) => all.find((f) => f.no === n);
  const s = (n: number, key: string) => {
    const f = one(n);
    if (f) m[key] = str(f);
  };
  s(1, 'name');
  s(2, 'generateName');
  s(3, 'namespace');
  s(5, 'uid');
  s(6, 'resourceVersion');
  if (one(7)) m.generation = Number(one(7)!.value as bigint);
  if (one(8)) m.creationTimestamp = time(one(8)!.value as Buffer);
  if (byNo(11).length) m.labels = map(byNo(11), false);
  if (byNo(12).length) m.annotations = map(byNo(12), false);
  if (byNo(13).length) m.ownerReferences = byNo(13).map((f) => ownerReference(f.value as Buffer));
  if (byNo(14).length) m.finalizers = byNo(14).map(str);
  return m;
}

/** Decodes a protobuf Secret, ConfigMap or DeleteOptions body into its JSON form; other kinds are a 415. */
export function decodeProtobuf(body: Buffer): Obj {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0')
    throw new ApiError(400, 'BadRequest', 'the protobuf body does not start with the Kubernetes magic "k8s\\0"');
  let unknown: Field[];
  try {
    unknown = fields(body.subarray(4));
  } catch (e) {
    throw new ApiError(400, 'BadRequest', `the protobuf body is malformed: ${(e as Error).message}`);
  }
  const typeMeta = fields((unknown.find((f) => f.no === 1)?.value as Buffer | undefined) ?? Buffer.alloc(0));
  const apiVersion = str(typeMeta.find((f) => f.no === 1) ?? { no: 1, wire: 2, value: Buffer.alloc(0) });
  const kind = str(typeMeta.find((f) => f.no === 2) ?? { no: 2, wire: 2, value: Buffer.alloc(0) });
  const raw = (unknown.find((f) => f.no === 2)?.value as Buffer | undefined) ?? Buffer.alloc(0);
  const all = fields(raw);
  const byNo = (n: number) => all.filter((f) => f.no === n);
  const one = (n: number) => all.find((f) => f.no === n);
  const obj: Obj = { apiVersion, kind, metadata: one(1) ? objectMeta(one(1)!.value as Buffer) : {} };
  if (apiVersion === 'v1' && kind === 'Secret') {
    if (byNo(2).length) obj.data = map(byNo(2), true);
    if (one(3)) obj.type = str(one(3)!);
    if (byNo(4).length) obj.stringData = map(byNo(4), false);
    if (one(5)) obj.immutable = one(5)!.value === 1n;
    return obj;
  }
  if (apiVersion === 'v1' && kind === 'ConfigMap') {
    if (byNo(2).length) obj.data = map(byNo(2), false);
    if (byNo(3).length) obj.binaryData = map(byNo(3), true);
    if (one(4)) obj.immutable = one(4)!.value === 1n;
    return obj;
  }
  if (kind === 'DeleteOptions') {
    if (one(1)) obj.gracePeriodSeconds = Number(one(1)!.value as bigint);
    if (one(2)) {
      const pre = fields(one(2)!.value as Buffer);
      const uid = pre.find((f) => f.no === 1);
      const rv = pre.find((f) => f.no === 2);
      obj.preconditions = { ...(uid ? { uid: str(uid) } : {}), ...(rv ? { resourceVersion: str(rv) } : {}) };
    }
    if (one(3)) obj.orphanDependents = one(3)!.value === 1n;
    if (one(4)) obj.propagationPolicy = str(one(4)!);
    if (byNo(5).length) obj.dryRun = byNo(5).map(str);
    delete obj.metadata;
    return obj;
  }
  throw new ApiError(
    415,
    'UnsupportedMediaType',
    `lab/kube decodes protobuf bodies of v1 Secret, ConfigMap and DeleteOptions only, got ${apiVersion} ${kind}; send JSON`,
  );
}
