// Drift detection of owned objects, without I/O: digests of what runs against what the operator wrote.
import { describe, expect, it } from 'vitest';
import { slimDeployment, slimSecret } from '../../operator/src/controller/cache-shapes.js';
import { deploymentDrifted, deploymentSpecHash, secretDataHash, secretDrifted } from '../../operator/src/core/drift.js';
import { ANNOTATION_SPEC_HASH } from '../../operator/src/core/naming.js';

const spec = () => ({
  replicas: 1,
  selector: { matchLabels: { a: 'b' } },
  template: {
    metadata: { annotations: { 'torchain.dev/config-hash': 'h1' } },
    spec: { containers: [{ name: 'vpn', image: 'reg/hop:1', securityContext: { privileged: false } }] },
  },
});

describe('drift of owned objects', () => {
  it('a Secret drifts when its data or type differ from the desired ones, in whatever key order', () => {
    const desired = { type: 'Opaque', data: { 'client.ovpn': 'Y2xpZW50', b: 'eA==' } };
    const live = slimSecret({ metadata: {}, type: 'Opaque', data: { b: 'eA==', 'client.ovpn': 'Y2xpZW50' } });
    expect(live.liveDataHash).toBe(secretDataHash(desired));
    expect(live).not.toHaveProperty('data');
    expect(secretDrifted(live.liveDataHash, desired)).toBe(false);
    expect(secretDrifted(live.liveDataHash, { ...desired, data: { ...desired.data, b: 'eQ==' } })).toBe(true);
    expect(secretDrifted(live.liveDataHash, { ...desired, type: 'kubernetes.io/tls' })).toBe(true);
  });

  it('a Deployment drifts when its spec is not the one recorded after the last write; replicas and restarts aside', () => {
    const recorded = deploymentSpecHash(spec());
    const annotations = { [ANNOTATION_SPEC_HASH]: recorded };
    const live = (s: ReturnType<typeof spec>) => slimDeployment({ metadata: { annotations }, spec: s });
    expect(deploymentDrifted(live(spec()).liveSpecHash, annotations)).toBe(false);
    const scaled = { ...spec(), replicas: 0 };
    expect(deploymentDrifted(live(scaled).liveSpecHash, annotations)).toBe(false);
    const restarted = spec();
    (restarted.template.metadata.annotations as Record<string, string>)['kubectl.kubernetes.io/restartedAt'] = 'now';
    expect(deploymentDrifted(live(restarted).liveSpecHash, annotations)).toBe(false);
    const edited = spec();
    edited.template.spec.containers[0]!.image = 'evil/hop:latest';
    expect(deploymentDrifted(live(edited).liveSpecHash, annotations)).toBe(true);
    const privileged = spec();
    privileged.template.spec.containers[0]!.securityContext.privileged = true;
    expect(deploymentDrifted(live(privileged).liveSpecHash, annotations)).toBe(true);
    // No digest recorded (written by an older operator, or a crash right after the write): written again.
    expect(deploymentDrifted(live(spec()).liveSpecHash, {})).toBe(true);
    expect(live(spec())).toMatchObject({ spec: { template: {} } });
  });
});
