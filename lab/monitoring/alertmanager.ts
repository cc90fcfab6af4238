// The lab's real Alertmanager (Debian's prometheus-alertmanager) with the project's routing, pointed at the operator.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../runtime/ports.js';
import { waitForHttp } from '../runtime/wait.js';
import type { Managed, Supervisor } from '../runtime/supervisor.js';

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
  },
): Promise<LabAlertmanager> {
  mkdirSync(join(opts.dir, 'data'), { recursive: true });
  const configFile = join(opts.dir, 'alertmanager.yml');
  writeFileSync(configFile, opts.configYaml);
  const port = opts.port ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const proc = supervisor.start(opts.name ?? 'alertmanager', '/usr/bin/prometheus-alertmanager', {
    args: [
      `--config.file=${configFile}`,
      `--storage.path=${join(opts.dir, 'data')}`,
      `--web.listen-address=${address}`,
      '--cluster.listen-address=',
    ],
  });
  const url = `http://${address}`;
  await waitForHttp(`${url}/-/ready`, 30_000);
  return { url, address, process: proc };
}
