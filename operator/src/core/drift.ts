// Drift of the objects the operator owns: a hop Secret or Deployment edited by hand must be put back. The cache keeps
// no Secret data and no pod template (memory, and no VPN key in memory), only a digest of each, taken as the object
// arrives; these functions say whether what runs differs from what the operator wrote.
//   - Secret: the digest of its type and data equals the desired one (the API server keeps data as written).
//   - Deployment: the API server defaults and admission may add fields, so the desired spec is never compared with
//     the live one. Right after each write the operator records the digest of the spec as stored
//     (torchain.dev/spec-hash); any later difference is an edit. `replicas` is left out (drop scales it alone), and so
//     is `kubectl rollout restart`'s annotation (a restart, not a change of what the hop runs).
import { createHash } from 'node:crypto';
import { ANNOTATION_SPEC_HASH } from './naming.js';

const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v as object)
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  return v;
}

const digest = (v: unknown): string =>
  createHash('sha256')
    .update(JSON.stringify(canonical(v)))
    .digest('hex')
    .slice(0, 32);

export function secretDataHash(s: { type?: string; data?: Record<string, string> }): string {
  return digest({ type: s.type ?? 'Opaque', data: s.data ?? {} });
}

export function deploymentSpecHash(spec: object): string {
  const { replicas: _replicas, ...rest } = spec as { replicas?: number; template?: { metadata?: object } };
  const template = rest.template as { metadata?: { annotations?: Record<string, string> } } | undefined;
  const annotations = template?.metadata?.annotations;
  if (annotations && RESTARTED_AT in annotations) {
    const { [RESTARTED_AT]: _restart, ...kept } = annotations;
    return digest({ ...rest, template: { ...template, metadata: { ...template.metadata, annotations: kept } } });
  }
  return digest(rest);
}

/** The live Secret's data differs from the desired data (both digests as secretDataHash computes them). */
export function secretDrifted(
  liveDataHash: string | undefined,
  desired: { type?: string; data?: Record<string, string> },
) {
  return liveDataHash !== undefined && liveDataHash !== secretDataHash(desired);
}

/** The live Deployment spec is not the one recorded right after the operator's last write (or none was recorded). */
export function deploymentDrifted(
  liveSpecHash: string | undefined,
  annotations: Record<string, string> | undefined,
): boolean {
  return liveSpecHash !== undefined && annotations?.[ANNOTATION_SPEC_HASH] !== liveSpecHash;
}
