// Leader election over a coordination.k8s.io/v1 Lease, the client-go way: a holder's claim counts as long as its
// record keeps changing; expiry is judged by when THIS replica last saw the record change (its own clock), never by
// comparing clocks across machines.

export interface LeaseView {
  holder?: string;
  durationSeconds?: number;
  resourceVersion?: string;
}

export interface Observation {
  /** resourceVersion of the record last seen, and when (local ms) it was first seen. */
  resourceVersion: string;
  at: number;
}

export type LeaseAction = 'create' | 'renew' | 'acquire' | 'follow';

export function decideLease(
  lease: LeaseView | undefined,
  identity: string,
  observed: Observation | undefined,
  now: number,
  defaultDurationSeconds: number,
): LeaseAction {
  if (!lease) return 'create';
  if (lease.holder === identity) return 'renew';
  if (!lease.holder) return 'acquire';
  const durationMs = (lease.durationSeconds ?? defaultDurationSeconds) * 1000;
  // A record we have not watched for a whole duration yet gets the benefit of the doubt from first sight.
  const since = observed && observed.resourceVersion === lease.resourceVersion ? observed.at : now;
  return since + durationMs <= now ? 'acquire' : 'follow';
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
