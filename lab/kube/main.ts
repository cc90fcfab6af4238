// `npm run lab:kube`: lab/kube on an ephemeral loopback port until SIGTERM/SIGINT. Prints one JSON line,
// {"url": ..., "kubeconfig": ..., "auditLog": ...}; then `KUBECONFIG=<kubeconfig> kubectl ...` works.
// Flags: --port N, --host ADDR, --state FILE (persist across restarts), --dir DIR (where the kubeconfig goes),
// --audit-log FILE (audit.k8s.io/v1 events, one per line, as kube-apiserver's --audit-log-path).
import { parseArgs } from 'node:util';
import { startKube } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    state: { type: 'string' },
    dir: { type: 'string' },
    'audit-log': { type: 'string' },
  },
});

const kube = await startKube({
  port: values.port ? Number(values.port) : 0,
  host: values.host,
  stateFile: values.state,
  dir: values.dir,
  auditLogPath: values['audit-log'],
  log: (e) => {
    if (e.msg === 'request' && process.env.LAB_KUBE_LOG_REQUESTS !== '1') return;
    process.stderr.write(JSON.stringify({ time: new Date().toISOString(), component: 'lab-kube', ...e }) + '\n');
  },
});
process.stdout.write(
  JSON.stringify({
    url: kube.url,
    kubeconfig: kube.kubeconfigPath,
    ...(kube.auditLogPath ? { auditLog: kube.auditLogPath } : {}),
  }) + '\n',
);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(
    JSON.stringify({ time: new Date().toISOString(), component: 'lab-kube', msg: 'stopping', signal }) + '\n',
  );
  void kube.close().then(() => process.exit(0));
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
