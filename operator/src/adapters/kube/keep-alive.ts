// @kubernetes/client-node 1.4 builds a new https.Agent for every request (KubeConfig.createAgent, called from
// applySecurityAuthentication and applyToFetchOptions), so no connection is ever reused and every API call pays a
// TCP and TLS handshake. This wraps that method to hand out one keep-alive agent per TLS identity instead.
// It reaches into a private method of the pinned 1.4.0; keep-alive.test.ts fails if an upgrade changes it.
import type { Agent } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';

type CreateAgent = (cluster: unknown, options: Record<string, unknown>) => Agent;

const PATCHED = Symbol('torchain.keepAlive');

function identity(cluster: unknown, o: Record<string, unknown>): string {
  const text = (v: unknown) => (v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('base64') : String(v));
  const c = cluster as { server?: string; proxyUrl?: string } | undefined;
  return [c?.server, c?.proxyUrl, o.ca, o.cert, o.key, o.pfx, o.servername, o.rejectUnauthorized]
    .map(text)
    .join('\u0000');
}

export function withKeepAlive(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createAgent?: CreateAgent; [PATCHED]?: boolean };
  if (target[PATCHED]) return kc;
  if (typeof target.createAgent !== 'function')
    throw new Error(
      '@kubernetes/client-node changed: KubeConfig.createAgent is gone; revisit adapters/kube/keep-alive.ts',
    );
  const original = target.createAgent.bind(kc);
  const agents = new Map<string, Agent>();
  target.createAgent = (cluster, options) => {
    const key = identity(cluster, options);
    let agent = agents.get(key);
    if (!agent) {
      // Credentials rotate rarely; a handful of identities at most. Old agents close their idle sockets.
      if (agents.size >= 8) {
        for (const a of agents.values()) a.destroy();
        agents.clear();
      }
      agent = original(cluster, { ...options, keepAlive: true, maxFreeSockets: 32 });
      agents.set(key, agent);
    }
    return agent;
  };
  target[PATCHED] = true;
  return kc;
}
