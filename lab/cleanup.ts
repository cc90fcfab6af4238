// Removes everything a lab left behind, also after a crash: its processes (recorded pids, and whatever still runs in
// its namespaces), its containers (podman), its namespaces and interfaces (worlds, pod sandboxes, monitoring), the
// cluster network (pod veths, node interface, nftables tables, DNS), mount points the process runtime made, and its
// state directory.
import { existsSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { cleanupCluster } from './cluster/index.js';
import { MOUNT_POINTS_FILE } from './kubelet/runtime/process.js';
import { cleanupPrefix } from './netns/index.js';
import { removeContainers } from './runtime/containers.js';
import { killRecorded } from './runtime/supervisor.js';

export interface LabCleanupReport {
  processes: string[];
  containers: string[];
  namespaces: string[];
  links: string[];
  mountPoints: string[];
}

/** Empty mount-point directories the process runtime created on the host (never anything with content). */
function removeMountPoints(stateDir: string): string[] {
  const file = `${stateDir}/${MOUNT_POINTS_FILE}`;
  if (!existsSync(file)) return [];
  const removed: string[] = [];
  const made = (JSON.parse(readFileSync(file, 'utf8')) as string[]).sort((a, b) => b.length - a.length);
  for (const dir of made) {
    try {
      rmdirSync(dir); // fails unless empty and not mounted on: exactly what we want
      removed.push(dir);
    } catch {
      /* not empty, gone, or in use */
    }
  }
  return removed;
}

export async function cleanupLab(prefix: string, stateDir: string): Promise<LabCleanupReport> {
  const processes = killRecorded(stateDir);
  const containers = await removeContainers(`${prefix}-`).catch(() => [] as string[]);
  const netns = await cleanupPrefix(prefix, { quiet: true });
  const cluster = await cleanupCluster(prefix);
  const mountPoints = removeMountPoints(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
  return {
    processes,
    containers,
    namespaces: netns.namespaces,
    links: Object.values(cluster).flat().map(String),
    mountPoints,
  };
}
