// The one Kubernetes call the exporter makes: follow a container's log (GET /api/v1/namespaces/NS/pods/POD/log,
// follow=true, timestamps=true, sinceTime). A thin adapter over node:https instead of @kubernetes/client-node: the
// image runs the exporter as one bundle that is parsed whole, and the client (with its dependencies, about half of
// that bundle) cost about 10 MB of RSS for this single request (docs/performance.md).
//
// Credentials, as client-node's loadFromDefault finds them: in a pod, the ServiceAccount token (read again at every
// request: bound tokens are rotated by the kubelet) and CA; outside, $KUBECONFIG (first file) or ~/.kube/config with a
// bearer token, a token file or a client certificate. Exec plugins and auth providers are not supported (a sidecar
// never needs them); such a kubeconfig is refused with a message saying so.
import type { RequestOptions } from 'node:https';
import { parseKubeconfig } from './kubeconfig-yaml.js';
import { builtins } from '../builtins.js';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeAccess {
  /** https://host:port, without a trailing slash. */
  server: string;
  ca?: Buffer;
  insecureSkipTlsVerify?: boolean;
  /** The bearer token, read when needed (a file may be rotated). */
  token?: () => string;
  cert?: Buffer;
  key?: Buffer;
  /** Where the access came from, for error messages. */
  origin: string;
}

/** An answer of the API server other than 200: `code` and `body` as client-node's ApiException has them. */
export class KubeHttpError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
  ) {
    super(`HTTP ${code}: ${body.slice(0, 200)}`);
  }
}

export class KubeConfigError extends Error {}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
  clusters?: {
    name: string;
    cluster?: {
      server?: string;
      'certificate-authority'?: string;
      'certificate-authority-data'?: string;
      'insecure-skip-tls-verify'?: boolean;
    };
  }[];
  users?: {
    name: string;
    user?: {
      token?: string;
      tokenFile?: string;
      'client-certificate'?: string;
      'client-certificate-data'?: string;
      'client-key'?: string;
      'client-key-data'?: string;
      exec?: unknown;
      'auth-provider'?: unknown;
    };
  }[];
}

/** A kubeconfig's current context as KubeAccess. Pure apart from reading the files it names. */
export function accessFromKubeconfig(text: string, path: string): KubeAccess {
  let kc: KubeconfigFile;
  try {
    kc = parseKubeconfig(text) as KubeconfigFile;
  } catch (err) {
    throw new KubeConfigError(`kubeconfig ${path} cannot be read: ${(err as Error).message}`);
  }
  const name = kc?.['current-context'];
  const context = kc?.contexts?.find((c) => c.name === name)?.context;
  if (!name || !context) throw new KubeConfigError(`kubeconfig ${path}: no current-context (set one with kubectl)`);
  const cluster = kc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster?.server) throw new KubeConfigError(`kubeconfig ${path}: context ${name} has no cluster with a server`);
  const user = kc.users?.find((u) => u.name === context.user)?.user ?? {};
  if (user.exec || user['auth-provider']) {
    throw new KubeConfigError(
      `kubeconfig ${path}: user ${context.user} uses an exec plugin or auth provider, which the exporter does not run; ` +
        'give it a token or a client certificate (in a pod the ServiceAccount token is used)',
    );
  }
  const { isAbsolute, join, resolve, dirname } = builtins.path();
  const { readFileSync } = builtins.fs();
  const base = dirname(resolve(path));
  const file = (p: string) => readFileSync(isAbsolute(p) ? p : join(base, p));
  const data = (d: string | undefined, p: string | undefined) =>
    d ? Buffer.from(d, 'base64') : p ? file(p) : undefined;
  const tokenFile = user.tokenFile;
  const token = user.token;
  return {
    server: cluster.server.replace(/\/+$/, ''),
    ca: data(cluster['certificate-authority-data'], cluster['certificate-authority']),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    token: token ? () => token : tokenFile ? () => file(tokenFile).toString('utf8').trim() : undefined,
    cert: data(user['client-certificate-data'], user['client-certificate']),
    key: data(user['client-key-data'], user['client-key']),
    origin: `kubeconfig ${path}`,
  };
}

/** In a pod: the ServiceAccount; else $KUBECONFIG (its first file) or ~/.kube/config. */
export function loadKubeAccess(env: NodeJS.ProcessEnv = process.env): KubeAccess {
  const { readFileSync } = builtins.fs();
  const host = env.KUBERNETES_SERVICE_HOST;
  if (host && env.KUBERNETES_SERVICE_PORT) {
    try {
      readFileSync(`${SA_DIR}/token`);
      return {
        server: `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT}`,
        ca: readFileSync(`${SA_DIR}/ca.crt`),
        token: () => readFileSync(`${SA_DIR}/token`, 'utf8').trim(),
        origin: `the pod's ServiceAccount (${SA_DIR})`,
      };
    } catch {
      // No token mounted (automountServiceAccountToken: false): fall back to a kubeconfig.
    }
  }
  const path =
    env.KUBECONFIG?.split(':').find(Boolean) ?? builtins.path().join(builtins.os().homedir(), '.kube', 'config');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KubeConfigError(
      `no Kubernetes credentials: not in a pod with a ServiceAccount token, and cannot read ${path} ` +
        `(${(err as Error).message}); set KUBECONFIG`,
    );
  }
  return accessFromKubeconfig(text, path);
}

export interface LogStream {
  /** Resolves when the server ends the stream or it breaks; never rejects. */
  done: Promise<void>;
  abort(): void;
}

/**
 * Opens the follow stream; resolves once the API server answered 200, and hands every chunk to onData. Rejects with a
 * KubeHttpError for any other status (its body read, at most 64 KiB), or with the connection error.
 */
export async function followLog(
  access: KubeAccess,
  where: { namespace: string; pod: string; container: string; sinceTime?: string },
  onData: (chunk: Buffer) => void,
): Promise<LogStream> {
  const query = new URLSearchParams({ container: where.container, follow: 'true', timestamps: 'true' });
  if (where.sinceTime) query.set('sinceTime', where.sinceTime);
  const url = new URL(
    `${access.server}/api/v1/namespaces/${encodeURIComponent(where.namespace)}/pods/` +
      `${encodeURIComponent(where.pod)}/log?${query.toString()}`,
  );
  const { request } = builtins.https(); // serve mode only (builtins.ts)
  const options: RequestOptions = {
    method: 'GET',
    headers: { accept: '*/*', ...(access.token ? { authorization: `Bearer ${access.token()}` } : {}) },
    ca: access.ca,
    cert: access.cert,
    key: access.key,
    rejectUnauthorized: !access.insecureSkipTlsVerify,
  };
  return new Promise((resolveOpen, rejectOpen) => {
    const req = request(url, options, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < 65536) body += d;
        });
        res.on('end', () => rejectOpen(new KubeHttpError(res.statusCode ?? 0, body)));
        res.on('error', (err) => rejectOpen(err));
        return;
      }
      let finish!: () => void;
      const done = new Promise<void>((r) => (finish = r));
      res.on('data', onData);
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      resolveOpen({ done, abort: () => req.destroy() });
    });
    req.on('error', (err) => rejectOpen(err));
    req.end();
  });
}
