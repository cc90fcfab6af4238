// startVault(): lab/vault listening on loopback, for tests and the lab. It speaks Vault's HTTP API (api.ts) and adds
// test hooks real Vault reaches by other means: seal()/unseal() (503 "Vault is sealed", as `vault operator seal`),
// stop()/start() (connection refused, then back on the same URL with its state kept), pause()/resume() (requests are
// accepted but not answered: a hung Vault, for client timeouts), and an injectable clock.
import { VaultApi, type LogFn } from './api.js';
import { createHttp1Server } from './http1.js';

export interface StartVaultOptions {
  /** Kubernetes API (lab/kube) for TokenReview: enables the kubernetes auth method at `kubernetesAuthPath`. */
  kubeUrl?: string;
  /** Bearer token Vault presents to the TokenReview API (Vault's token_reviewer_jwt). */
  kubeToken?: string;
  /** PEM CA of an https kubeUrl (Vault's kubernetes_ca_cert). */
  kubeCaCert?: string;
  /** Mount path of the kubernetes auth method (default "kubernetes"). */
  kubernetesAuthPath?: string;
  /** Listen port (default 0: ephemeral). */
  port?: number;
  /** Listen host (default 127.0.0.1). */
  host?: string;
  /** Clock in unix ms, for TTL tests (default Date.now). */
  now?: () => number;
  log?: LogFn;
}

export interface LabVault {
  url: string;
  rootToken: string;
  /** The key that unseals it through PUT /v1/sys/unseal, as `vault operator unseal` would use. */
  unsealKey: string;
  /** The API object, for assertions on state in tests. */
  api: VaultApi;
  /** Every request but sys/health, sys/seal-status and sys/unseal answers 503 "Vault is sealed". */
  seal(): void;
  unseal(): void;
  /** Closes the listener and every connection: clients see connection refused. State is kept. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Holds every request unanswered until resume(), as a hung server would. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startVault(opts: StartVaultOptions = {}): Promise<LabVault> {
  const api = new VaultApi({ ...(opts.now ? { now: opts.now } : {}), ...(opts.log ? { log: opts.log } : {}) });
  if (opts.kubeUrl) {
    api.enableKubernetesAuth(opts.kubernetesAuthPath ?? 'kubernetes', {
      kubernetes_host: opts.kubeUrl,
      token_reviewer_jwt: opts.kubeToken ?? '',
      kubernetes_ca_cert: opts.kubeCaCert ?? '',
    });
  }
  const host = opts.host ?? '127.0.0.1';
  let paused: { promise: Promise<void>; release: () => void } | undefined;
  const server = createHttp1Server(async (req) => {
    while (paused) await paused.promise;
    return api.handle(req);
  });
  const port = await server.listen(opts.port ?? 0, host);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let running = true;

  return {
    url,
    rootToken: api.rootToken,
    unsealKey: api.unsealKey,
    api,
    seal: () => {
      api.sealed = true;
    },
    unseal: () => {
      api.sealed = false;
    },
    pause() {
      if (paused) return;
      let release = (): void => undefined;
      const promise = new Promise<void>((r) => (release = r));
      paused = { promise, release };
    },
    resume() {
      const p = paused;
      paused = undefined;
      p?.release();
    },
    async stop() {
      running = false;
      await server.close();
    },
    async start() {
      if (running) return;
      // The port was ours a moment ago; retry briefly in case the kernel has not released it yet.
      for (let attempt = 0; ; attempt++) {
        try {
          await server.listen(port, host);
          running = true;
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    async close() {
      running = false;
      const p = paused;
      paused = undefined;
      p?.release();
      await server.close();
    },
  };
}
