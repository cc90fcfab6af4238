// What the cluster DNS answers, as plain text from plain data (pure): a hosts file in dnsmasq's `addn-hosts`
// format with the records of https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/ that torchain
// uses: `<service>.<namespace>.svc.<domain>` → the ClusterIP, or for a headless Service the ready endpoints' IPs
// (and `<hostname>.<service>.<namespace>.svc.<domain>` for endpoints with a hostname); the dnsmasq configuration;
// and the resolv.conf a pod gets (dnsPolicy ClusterFirst).
import type { ServiceInfo, SliceInfo } from '../service/model.js';

export interface HeadlessService {
  namespace: string;
  name: string;
}

export function hostsFile(
  services: ServiceInfo[],
  headless: HeadlessService[],
  slices: SliceInfo[],
  domain: string,
): string {
  const lines: string[] = [];
  for (const s of services) lines.push(`${s.clusterIP} ${s.name}.${s.namespace}.svc.${domain}`);
  for (const h of headless) {
    const fqdn = `${h.name}.${h.namespace}.svc.${domain}`;
    const eps = slices
      .filter((sl) => sl.namespace === h.namespace && sl.service === h.name)
      .flatMap((sl) => sl.endpoints)
      .filter((e) => e.ready);
    for (const ip of [...new Set(eps.map((e) => e.ip))].sort()) lines.push(`${ip} ${fqdn}`);
    for (const e of eps) if (e.hostname) lines.push(`${e.ip} ${e.hostname}.${fqdn}`);
  }
  return [...new Set(lines)].join('\n') + '\n';
}

/** dnsmasq answers names under `domain` from the hosts file only, and nothing else: no upstream, no forwarding. */
export function dnsmasqConf(o: { listen: string; port: number; hostsPath: string; domain: string }): string {
  return [
    '# torchain lab cluster DNS (CoreDNS stand-in): answers only from the hosts file, never forwards',
    'no-resolv',
    'no-hosts',
    'no-poll',
    'no-negcache',
    'bind-interfaces',
    `listen-address=${o.listen}`,
    `port=${o.port}`,
    `addn-hosts=${o.hostsPath}`,
    `local=/${o.domain}/`,
    'bogus-priv',
    'log-facility=-',
    'pid-file=',
    '',
  ].join('\n');
}

export const RESOLV_MARKER = '# written by torchain lab/cluster/dns';

/** The resolv.conf of a pod in `namespace` (kubelet's ClusterFirst: search path and ndots:5). */
export function podResolvConf(stem: string, namespace: string, nameserver: string, domain: string): string {
  return [
    `${RESOLV_MARKER} (${stem})`,
    `search ${namespace}.svc.${domain} svc.${domain} ${domain}`,
    `nameserver ${nameserver}`,
    'options ndots:5',
    '',
  ].join('\n');
}
