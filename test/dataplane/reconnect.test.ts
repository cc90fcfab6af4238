// How an OpenVPN hop comes back after its server, or the hop above it, went silent: the hop below a failed hop sees
// exactly this (its packets die in the dead tunnel above, no ICMP). Within one attempt OpenVPN re-sends its first
// packet after 2, 4, 8… s and waits 120 s for an answer; the hop makes a fresh attempt every few seconds instead
// (images/hop/vpn/openvpn.sh: --connect-timeout), so it is through within seconds of the path healing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../support/env.js';
import { clientPing, DATAPLANE_BINARIES, startChain, type Chain } from './support.js';

const POLL_TIMEOUT = /Server poll timeout, restarting/;
const CONNECTED = /Initialization Sequence Completed/;

describe.skipIf(skipUnless({ root: true, binaries: DATAPLANE_BINARIES }))(
  'an OpenVPN hop whose server went silent',
  () => {
    let chain: Chain;
    beforeAll(async () => {
      chain = await startChain([{ type: 'openvpn' }], { id: 'rc' });
    });
    afterAll(async () => {
      await chain?.close();
    });

    it('starts a fresh attempt every few seconds while nothing answers, and is through again once the server answers', async () => {
      const { daemon } = chain.hops[0]!;
      const server = chain.topo.hops[0]!.servers[0]!;
      const connectedBefore = daemon.stdout.filter((l) => CONNECTED.test(l)).length;
      const from = daemon.stdout.length;
      await server.blackhole(true);
      try {
        // ping-restart (10 s, pushed by the lab's servers) ends the session; then two attempts that got no answer.
        await daemon.waitForLine(/Inactivity timeout \(--ping-restart\)/, 30_000, from);
        const first = daemon.stdout.length;
        await daemon.waitForLine(POLL_TIMEOUT, 30_000, first);
        const second = daemon.stdout.findIndex((l, i) => i >= first && POLL_TIMEOUT.test(l)) + 1;
        await daemon.waitForLine(POLL_TIMEOUT, 30_000, second);
      } finally {
        await server.blackhole(false);
      }
      await daemon.waitForLine(CONNECTED, 30_000, from);
      expect(daemon.stdout.filter((l) => CONNECTED.test(l)).length).toBe(connectedBefore + 1);
      const ping = await clientPing(chain.topo, ['-c', '3', '-i', '0.2', '-W', '2']);
      expect(ping.ok, ping.output).toBe(true);
    });
  },
);
