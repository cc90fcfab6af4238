// `npm run lab:vault`: lab/vault as a process. Prints one JSON line {"url","rootToken"} on stdout, logs JSON lines on
// stderr, runs until SIGTERM/SIGINT. Environment: LAB_VAULT_PORT (default 0 = ephemeral), LAB_VAULT_HOST
// (default 127.0.0.1), LAB_VAULT_KUBE_URL + LAB_VAULT_KUBE_TOKEN_FILE + LAB_VAULT_KUBE_CA_FILE (enable kubernetes
// auth at auth/kubernetes, reviewing tokens with lab/kube's TokenReview).
import { readFileSync } from 'node:fs';
import { startVault } from './server.js';

function log(level: string, msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level, component: 'lab-vault', msg, ...fields })}\n`,
  );
}

const port = Number(process.env.LAB_VAULT_PORT ?? '0');
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  log('error', `LAB_VAULT_PORT must be a port number 0-65535, got "${process.env.LAB_VAULT_PORT}"`);
  process.exit(2);
}
const kubeUrl = process.env.LAB_VAULT_KUBE_URL || undefined;
function readEnvFile(variable: string): string | undefined {
  const path = process.env[variable];
  if (!path) return undefined;
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    log('error', `cannot read ${variable}=${path}: ${(err as Error).message}`);
    process.exit(2);
  }
}
const kubeToken = readEnvFile('LAB_VAULT_KUBE_TOKEN_FILE');
const kubeCaCert = readEnvFile('LAB_VAULT_KUBE_CA_FILE');

const vault = await startVault({
  port,
  host: process.env.LAB_VAULT_HOST || '127.0.0.1',
  ...(kubeUrl ? { kubeUrl } : {}),
  ...(kubeToken ? { kubeToken } : {}),
  ...(kubeCaCert ? { kubeCaCert } : {}),
  log,
});
process.stdout.write(`${JSON.stringify({ url: vault.url, rootToken: vault.rootToken })}\n`);
log('info', 'listening', { url: vault.url, kubernetesAuth: Boolean(kubeUrl) });

const shutdown = (signal: string): void => {
  log('info', 'stopping', { signal });
  void vault.close().then(() => process.exit(0));
};
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
