// A self-signed serving certificate for lab/kube, made with openssl at start. kubectl (client-go) never sends a bearer
// token over plain HTTP, so the stand-in serves HTTPS like the real API server; the certificate goes into the
// kubeconfig as certificate-authority-data, so clients verify it as they would a cluster's CA.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServingCert {
  certPem: string;
  keyPem: string;
}

/** Reuses `<dir>/tls.crt` and `<dir>/tls.key` when present (restarts keep kubeconfigs valid), else creates them. */
export function servingCert(dir: string, ips: string[]): ServingCert {
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  if (!existsSync(cert) || !existsSync(key)) {
    const san = [
      'DNS:localhost',
      'DNS:kubernetes',
      'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc',
      ...ips.map((ip) => `IP:${ip}`),
    ];
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '3650',
          '-subj',
          '/CN=lab-kube',
          '-keyout',
          key,
          '-out',
          cert,
          '-addext',
          `subjectAltName=${san.join(',')}`,
          '-addext',
          'basicConstraints=critical,CA:TRUE',
          '-addext',
          'keyUsage=critical,digitalSignature,keyCertSign',
          '-addext',
          'extendedKeyUsage=serverAuth',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      chmodSync(key, 0o600);
    } catch (err) {
      throw new Error(
        `lab/kube: could not create a TLS certificate with openssl in ${dir}: ${(err as Error).message}. Install openssl (scripts/prereqs.sh does).`,
      );
    }
  }
  return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
}
