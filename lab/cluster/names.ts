// Names of everything the cluster network creates in the root namespace. All derive from one stem, so a crash
// cleanup finds them again: host-side pod veths `<stem>-<hash>` (matched in nftables as `<stem>-*`), the node
// interface `<stem>node`, the nftables tables `<stem>_pod`, `<stem>_policy`, `<stem>_svc`, and the DNS pod's network
// namespace `<stem>-dns`. A `-` never appears in a stem, so no stem's wildcard matches another stem's interfaces.
import { createHash } from 'node:crypto';

const STEM_RE = /^[a-z][a-z0-9]{1,7}$/;

export interface ClusterNames {
  stem: string;
  /** nftables interface wildcard of the host-side pod veths. */
  podIfWildcard: string;
  /** The node interface (holds the node IP). */
  nodeIf: string;
  podTable: string;
  policyTable: string;
  serviceTable: string;
  dnsNetns: string;
  /** Host-side veth of a pod network namespace: stable for one namespace name, at most 15 bytes. */
  hostVeth(netns: string): string;
}

export function checkStem(stem: string): string {
  if (!STEM_RE.test(stem))
    throw new Error(
      `cluster network stem ${JSON.stringify(stem)} must match ${STEM_RE} (it starts interface names of at most 15 bytes)`,
    );
  return stem;
}

export function clusterNames(stem: string): ClusterNames {
  checkStem(stem);
  const hashLen = 15 - stem.length - 1;
  return {
    stem,
    podIfWildcard: `${stem}-*`,
    nodeIf: `${stem}node`,
    podTable: `${stem}_pod`,
    policyTable: `${stem}_policy`,
    serviceTable: `${stem}_svc`,
    dnsNetns: `${stem}-dns`,
    hostVeth: (netns) => `${stem}-${createHash('sha256').update(netns).digest('hex').slice(0, hashLen)}`,
  };
}
