// The per-layer overheads operator/src/core/mtu.ts relies on, measured with the real daemons: WireGuard and
// OpenVPN (AES-256-GCM) over UDP and TCP, IPv4 and IPv6 endpoints.
import { describe, expect, it } from 'vitest';
import { skipUnless } from '../support/env.js';
import { ALL_OVERHEAD_CASES, measureOverhead } from '../../lab/netns/overhead.js';
import { protocolModule } from '../../operator/src/protocols/index.js';
import { DATAPLANE_BINARIES, PREFIX } from './support.js';

describe.skipIf(skipUnless({ root: true, binaries: DATAPLANE_BINARIES }))('measured per-layer overhead', () => {
  it.each(ALL_OVERHEAD_CASES.map((c) => [`${c.type}/${c.transport}/${c.family}`, c] as const))(
    '%s matches its protocol module',
    async (_name, c) => {
      const r = await measureOverhead(c, { id: 'ov', prefix: PREFIX });
      expect(r.outerLength).toBeGreaterThan(r.innerLength);
      expect(r.overhead).toBe(protocolModule(c.type).overhead(c.transport, c.family));
    },
  );
});
