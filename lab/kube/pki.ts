// lab/kube's certificates, laid out as kubeadm lays out a cluster's: one cluster CA (`ca.crt`, CN=kubernetes) signs
// the API server's serving certificate and the admin's client certificate (kubeadm's admin.conf: CN=kubernetes-admin,
// O=kubeadm:cluster-admins, a group bound to cluster-admin). Made with openssl at the first start and reused from the
// directory afterwards, so kubeconfigs stay valid across restarts.
// https://kubernetes.io/docs/setup/best-practices/certificates/
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  /** The cluster CA: clients trust it for the serving certificate, the server trusts it for client certificates. */
  caPem: string;
  servingCertPem: string;
  servingKeyPem: string;
  adminCertPem: string;
  adminKeyPem: string;
}

export const ADMIN_USERNAME = 'kubernetes-admin';
export const ADMIN_GROUP = 'kubeadm:cluster-admins';

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650'];

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new Error(
      `lab/kube: could not create certificates with openssl in ${dir}: ${(err as Error).message}. Install openssl (scripts/prereqs.sh does).`,
    );
  }
}

/** Reuses the certificates in `dir` when all are there; otherwise makes a new CA and certificates. */
export function clusterPki(dir: string, ips: string[]): Pki {
  const files = ['ca.crt', 'ca.key', 'tls.crt', 'tls.key', 'admin.crt', 'admin.key'];
  if (!files.every((f) => existsSync(join(dir, f)))) {
    openssl(dir, [
      'req',
      '-x509',
      ...EC,
      '-subj',
      '/CN=kubernetes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign',
    ]);
    const san = [
      'DNS:localhost',
      'DNS:kubernetes',
      'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc',
      'DNS:kubernetes.default.svc.cluster.local',
      ...ips.map((ip) => `IP:${ip}`),
    ];
    openssl(dir, [
      'req',
      '-x509',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      ...EC,
      '-subj',
      '/CN=kube-apiserver',
      '-keyout',
      'tls.key',
      '-out',
      'tls.crt',
      '-addext',
      `subjectAltName=${san.join(',')}`,
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      '-addext',
      'extendedKeyUsage=serverAuth',
    ]);
    openssl(dir, [
      'req',
      '-x509',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      ...EC,
      '-subj',
      `/O=${ADMIN_GROUP}/CN=${ADMIN_USERNAME}`,
      '-keyout',
      'admin.key',
      '-out',
      'admin.crt',
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      '-addext',
      'extendedKeyUsage=clientAuth',
    ]);
    for (const k of ['ca.key', 'tls.key', 'admin.key']) chmodSync(join(dir, k), 0o600);
  }
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    caPem: read('ca.crt'),
    servingCertPem: read('tls.crt'),
    servingKeyPem: read('tls.key'),
    adminCertPem: read('admin.crt'),
    adminKeyPem: read('admin.key'),
  };
}
