// Removes everything a lab left behind, also after a crash: its processes (recorded pids, and whatever still runs in
// its namespaces), its namespaces and interfaces, the pod-network bridge, wireguard-go sockets and its state dir.
import { rmSync } from 'node:fs';
import { removeClusterNet } from './cluster-net.js';
import { cleanupPrefix } from './netns/index.js';
import { killRecorded } from './runtime/supervisor.js';

export interface LabCleanupReport {
  processes: string[];
  namespaces: string[];
  links: string[];
}

export async function cleanupLab(prefix: string, stateDir: string): Promise<LabCleanupReport> {
  const processes = killRecorded(stateDir);
  const netns = await cleanupPrefix(prefix, { quiet: true });
  const links = await removeClusterNet(`${prefix}lab`);
  rmSync(stateDir, { recursive: true, force: true });
  return { processes, namespaces: netns.namespaces, links };
}
