// The pure parts of the cluster DNS: hosts records of ClusterIP and headless Services, the pod resolv.conf, and a
// dnsmasq configuration that never forwards.
import { describe, expect, it } from 'vitest';
import { dnsmasqConf, hostsFile, podResolvConf } from '../../lab/cluster/dns/render.js';

describe('cluster DNS records (pure)', () => {
  it('maps ClusterIP Services to their IP and headless ones to their ready endpoints (and hostnames)', () => {
    const text = hostsFile(
      [{ namespace: 'torchain-system', name: 'torchain-operator', clusterIP: '10.96.0.20', ports: [] }],
      [{ namespace: 'shop', name: 'db' }],
      [
        {
          namespace: 'shop',
          service: 'db',
          ports: [],
          endpoints: [
            { ip: '10.250.0.9', hostname: 'db-0', ready: true, serving: true, terminating: false },
            { ip: '10.250.0.8', ready: false, serving: false, terminating: false },
            { ip: '10.250.0.7', ready: true, serving: true, terminating: false },
          ],
        },
      ],
      'cluster.local',
    );
    expect(text).toBe(
      [
        '10.96.0.20 torchain-operator.torchain-system.svc.cluster.local',
        '10.250.0.7 db.shop.svc.cluster.local',
        '10.250.0.9 db.shop.svc.cluster.local',
        '10.250.0.9 db-0.db.shop.svc.cluster.local',
        '',
      ].join('\n'),
    );
  });

  it('writes the ClusterFirst resolv.conf of a pod', () => {
    expect(podResolvConf('tcl', 'chain-a', '10.96.0.10', 'cluster.local')).toBe(
      '# written by torchain lab/cluster/dns (tcl)\nsearch chain-a.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n',
    );
  });

  it('configures dnsmasq without upstream servers, answering the cluster domain locally', () => {
    const conf = dnsmasqConf({ listen: '10.250.0.2', port: 53, hostsPath: '/x/hosts', domain: 'cluster.local' });
    expect(conf).toContain('no-resolv\n');
    expect(conf).toContain('local=/cluster.local/\n');
    expect(conf).not.toMatch(/^server=/m);
  });
});
