import { describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { withKeepAlive } from '../../operator/src/adapters/kube/keep-alive.js';

describe('client-node keep-alive', () => {
  it('hands out one keep-alive agent per TLS identity instead of one per request', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: false }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const stock = [await kc.applyToFetchOptions({}), await kc.applyToFetchOptions({})].map((o) => o.agent);
    expect(stock[0]).not.toBe(stock[1]); // what client-node 1.4 does on its own
    withKeepAlive(kc);
    const a = (await kc.applyToFetchOptions({})).agent as { keepAlive?: boolean };
    const b = (await kc.applyToFetchOptions({})).agent;
    expect(a).toBe(b);
    expect(a.keepAlive).toBe(true);
  });
});
