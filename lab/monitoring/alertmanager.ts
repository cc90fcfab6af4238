// The lab's real Alertmanager (Debian's prometheus-alertmanager) with the project's routing, pointed at the operator.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../runtime/ports.js';
import { waitForHttp } from '../runtime/wait.js';
import type { Managed, Supervisor } from '../runtime/supervisor.js';
import { ALERTMANAGER_DEBIAN } from './binaries.js';

export interface LabAlertmanager {
  url: string;
  address: string;
  process: Managed;
}

/** Starts Alertmanager with a complete configuration (YAML text). Clustering is off: one lab instance. */
export async function startAlertmanager(
  supervisor: Supervisor,
  opts: {
    dir: string;
    configYaml: string;
    name?: string;
    /** Reuse a port (a restart keeps Prometheus' target valid). */ port?: number;
    /** Default Debian 12's Alertmanager 0.25; ALERTMANAGER_028 (binaries.ts) has receiver-name-in-metrics. */
    binary?: string;
    /** Extra flags, e.g. --enable-feature=receiver-name-in-metrics (kps: alertmanager.enableFeatures). */
    extraArgs?: string[];
  },
): Promise<LabAlertmanager> {
  mkdirSync(join(opts.dir, 'data'), { recursive: true });
  const configFile = join(opts.dir, 'alertmanager.yml');
  // The translated configuration carries the webhook token inline, as prometheus-operator's generated Secret does.
  writeFileSync(configFile, opts.configYaml, { mode: 0o600 });
  const port = opts.port ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const proc = supervisor.start(opts.name ?? 'alertmanager', opts.binary ?? ALERTMANAGER_DEBIAN, {
    args: [
      `--config.file=${configFile}`,
      `--storage.path=${join(opts.dir, 'data')}`,
      `--web.listen-address=${address}`,
      '--cluster.listen-address=',
      ...(opts.extraArgs ?? []),
    ],
  });
  const url = `http://${address}`;
  await waitForHttp(`${url}/-/ready`, 30_000);
  return { url, address, process: proc };
}
