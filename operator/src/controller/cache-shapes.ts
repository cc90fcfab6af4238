// What the operator keeps of each watched object in memory: only the fields it reads. Deployments lose their pod
// template (rebuilt from the TorChain anyway) and Secrets their data (no VPN key sits in the cache): each keeps a
// digest of it instead, taken as it arrives, so a hand edit is seen (core/drift.ts). Everything loses managedFields.
import type { V1Deployment, V1ObjectMeta, V1Secret } from '@kubernetes/client-node';
import type { TorChain } from '../api/torchain.js';
import { deploymentSpecHash, secretDataHash } from '../core/drift.js';

/** A cached hop Deployment: its digest of the live spec (without replicas). */
export type CachedDeployment = V1Deployment & { liveSpecHash?: string };
/** A cached hop Secret: its digest of the live type and data. */
export type CachedSecret = V1Secret & { liveDataHash?: string };

function slimMeta(m: V1ObjectMeta | undefined): V1ObjectMeta {
  const out: V1ObjectMeta = {};
  if (!m) return out;
  for (const k of [
    'name',
    'namespace',
    'uid',
    'resourceVersion',
    'generation',
    'labels',
    'annotations',
    'ownerReferences',
    'deletionTimestamp',
  ] as const)
    if (m[k] !== undefined) (out as Record<string, unknown>)[k] = m[k];
  return out;
}

export function slimTorChain(tc: TorChain): TorChain {
  if (!tc.metadata || !('managedFields' in tc.metadata)) return tc;
  const { managedFields: _drop, ...metadata } = tc.metadata;
  return { ...tc, metadata };
}

export function slimDeployment(d: V1Deployment): CachedDeployment {
  const out: CachedDeployment = { apiVersion: d.apiVersion, kind: d.kind, metadata: slimMeta(d.metadata) };
  if (d.spec) {
    out.spec = { replicas: d.spec.replicas, selector: d.spec.selector, template: {} };
    out.liveSpecHash = deploymentSpecHash(d.spec);
  }
  if (d.status) out.status = d.status;
  return out;
}

export function slimSecret(s: V1Secret): CachedSecret {
  return {
    apiVersion: s.apiVersion,
    kind: s.kind,
    metadata: slimMeta(s.metadata),
    type: s.type,
    liveDataHash: secretDataHash(s),
  };
}
