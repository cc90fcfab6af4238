// The internet side's DNS resolvers of a lab world, each a real dnsmasq in one namespace on the internet segment:
//
//   exit       what the exit's VPN servers push (hop N's servers): answers `*.<domain>` with its own address, and
//              only to hop N's servers (the only way to it is through the whole chain, out of the exit);
//   alternate  the same with another answer: what every second server of the exit hop pushes (so a switch of the
//              exit hop moves the gateway to another resolver), and a chain's own resolver in tests;
//   outside    a public resolver anyone may ask, with a third answer: a LAN client's hard-coded
//              resolver. An answer from it, or any packet reaching it, is a leak.
//
// The domain exists only here: a LAN client that resolves it got its answer from the internet side, and the answer
// says from which resolver. Every other name is NXDOMAIN. Queries are logged (lab only) so tests see who asked.
import { Daemon } from './daemon.js';
import { ipBatch, nsRun, StopWaiting, waitFor } from './exec.js';

export const LAB_DOMAIN = 'torchain-lab.example';
export const RESOLVER_ADDRESSES = { exit: '198.18.0.53', outside: '198.18.0.54', alternate: '198.18.0.55' } as const;
export const RESOLVER_ANSWERS = { exit: '198.18.53.1', outside: '198.18.54.1', alternate: '198.18.55.1' } as const;
export type ResolverRole = keyof typeof RESOLVER_ADDRESSES;

export interface LabResolvers {
  netns: string;
  /** The wire side of the resolvers' link, in the fabric namespace: capture here. */
  link: { netns: string; iface: string };
  domain: string;
  addresses: typeof RESOLVER_ADDRESSES;
  answers: typeof RESOLVER_ANSWERS;
  /** Which resolver an answer came from, or undefined for an address none of them gives. */
  roleOf(answer: string): ResolverRole | undefined;
  /** Query lines each dnsmasq logged (`query[A] name from address`). */
  queries(role: ResolverRole): string[];
  /**
   * A silent failure of the exit's resolvers (exit and alternate): every query to them dropped, no answer, no ICMP
   * (`true`), or answered again (`false`). Idempotent.
   */
  blackholeExit(on: boolean): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the three resolvers in `netns` (which must exist) on a veth to the fabric's `bridge`. `exitServers` are the
 * addresses of the exit hop's VPN servers: the only sources the exit and alternate resolvers answer.
 */
export async function startResolvers(o: {
  netns: string;
  fabricNetns: string;
  bridge: string;
  linkMtu: number;
  exitServers: string[];
}): Promise<LabResolvers> {
  const iface = 'rdns';
  await ipBatch(
    [
      `link add ${iface} mtu ${o.linkMtu} type veth peer name eth0 mtu ${o.linkMtu} netns ${o.netns}`,
      `link set ${iface} master ${o.bridge} up`,
    ],
    o.fabricNetns,
  );
  await ipBatch(
    [
      ...Object.values(RESOLVER_ADDRESSES).map((a) => `address add ${a}/16 dev eth0`),
      'link set eth0 gso_max_segs 1',
      'link set eth0 up',
    ],
    o.netns,
  );
  const only = o.exitServers.join(', ');
  const guarded = [RESOLVER_ADDRESSES.exit, RESOLVER_ADDRESSES.alternate].join(', ');
  await nsRun(o.netns, 'nft', ['-f', '-'], {
    input: [
      'table inet torchain_lab_resolvers {',
      '  chain input {',
      '    type filter hook input priority filter; policy accept;',
      `    ip daddr { ${guarded} } meta l4proto { udp, tcp } th dport 53 ip saddr != { ${only} } counter drop`,
      '  }',
      '}',
      '',
    ].join('\n'),
  });
  const daemons = new Map<ResolverRole, Daemon>();
  for (const role of Object.keys(RESOLVER_ADDRESSES) as ResolverRole[]) {
    const d = new Daemon({
      netns: o.netns,
      cmd: 'dnsmasq',
      args: [
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        '--no-resolv',
        '--no-hosts',
        '--no-poll',
        '--pid-file=',
        '--user=root',
        '--bind-interfaces',
        `--listen-address=${RESOLVER_ADDRESSES[role]}`,
        `--address=/${LAB_DOMAIN}/${RESOLVER_ANSWERS[role]}`,
        // Every other name: NXDOMAIN, never a forward.
        '--local=/#/',
        '--log-queries',
        '--log-facility=-',
      ],
    });
    d.start();
    daemons.set(role, d);
  }
  for (const [role, d] of daemons)
    await waitFor(
      `lab resolver ${role} (dnsmasq on ${RESOLVER_ADDRESSES[role]})`,
      async () => {
        if (!d.running) throw new StopWaiting(`dnsmasq exited: ${d.stderr.slice(-3).join(' | ')}`);
        return d.stderr.some((l) => /started, version/.test(l)) || undefined;
      },
      10_000,
      50,
    );
  const byAnswer = new Map<string, ResolverRole>(
    Object.entries(RESOLVER_ANSWERS).map(([r, a]) => [a, r as ResolverRole]),
  );
  return {
    netns: o.netns,
    link: { netns: o.fabricNetns, iface },
    domain: LAB_DOMAIN,
    addresses: RESOLVER_ADDRESSES,
    answers: RESOLVER_ANSWERS,
    roleOf: (answer) => byAnswer.get(answer),
    queries: (role) => {
      const d = daemons.get(role)!;
      return [...d.stdout, ...d.stderr].filter((l) => /query\[/.test(l));
    },
    blackholeExit: async (on) => {
      const table = 'inet torchain_lab_resolvers_blackhole';
      const script = on
        ? [
            `table ${table} {`,
            '  chain input {',
            '    type filter hook input priority filter - 1; policy accept;',
            `    ip daddr { ${guarded} } meta l4proto { udp, tcp } th dport 53 counter drop`,
            '  }',
            '}',
            '',
          ]
        : [`table ${table}`, `delete table ${table}`, ''];
      await nsRun(o.netns, 'nft', ['-f', '-'], { input: script.join('\n') });
    },
    stop: async () => {
      await Promise.allSettled([...daemons.values()].map((d) => d.close()));
    },
  };
}
