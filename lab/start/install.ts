// Start-up step: the product, installed as a user installs it — `helm install` of helm/torchain into lab/kube, as the
// cluster admin, with the lab's value set (lab/chart/values.yaml), the chains of the lab's plan and, for lab timings,
// the short timing values. Nothing of the product is wired by hand: the operator's Deployment, RBAC, webhook Secret,
// PodMonitor, PrometheusRule, AlertmanagerConfigs, NetworkPolicies, NetworkAttachmentDefinitions and TorChains all
// come from the chart, and the lab's kubelets, scheduler and kps stand-in take it from there.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { LAB_ALERTING, defaultCooldownSeconds } from '../../prometheus-rules/src/render.js';
import { alertingValues } from '../../prometheus-rules/src/helm.js';
import { CHART_DIR, HELM, REPO_ROOT } from '../../scripts/paths.js';
import type { LabCluster } from './cluster.js';
import type { LabContext } from './context.js';
import type { World } from '../netns/topology.js';
import type { ChainPlan, LabNode } from './nodes.js';

const execFileAsync = promisify(execFile);

export const RELEASE = 'torchain';
export const RELEASE_NAMESPACE = 'torchain-system';
export const LAB_VALUES = join(REPO_ROOT, 'lab', 'chart', 'values.yaml');

export type Timings = 'lab' | 'production';

/** What chainValues reads of a lab node: plain data, so the chart's golden test renders the lab's exact shape. */
export interface ChainValuesNode {
  name: string;
  chain: Pick<ChainPlan, 'name' | 'namespace' | 'hops'>;
  world: Pick<World, 'lanBridge' | 'lanGateway' | 'internetBridge' | 'hop1Address'>;
}

/** The `chains:` values of the lab's plan: each chain on its own node, joined to that node's LAN and internet bridges. */
export function chainValues(nodes: ChainValuesNode[]): Record<string, unknown> {
  return {
    chains: nodes.map((n) => ({
      name: n.chain.name,
      namespace: n.chain.namespace,
      node: n.name,
      lan: { parentInterface: n.world.lanBridge, gatewayIP: n.world.lanGateway },
      external: { bridge: n.world.internetBridge, address: n.world.hop1Address },
      hops: n.chain.hops.map((type) => ({ type })),
    })),
  };
}

/**
 * The lab's short timings as chart values: the alert rules and route from LAB_ALERTING (prometheus-rules), 1 s
 * scrapes of the hops, and the operator's cooldown derived from them; quick Lease and safety-net turns.
 */
export function labTimingValues(): Record<string, unknown> {
  return {
    alerting: alertingValues(LAB_ALERTING),
    monitoring: { podMonitor: { interval: '1s', scrapeTimeout: '1s' } },
    operator: {
      cooldownSeconds: defaultCooldownSeconds(LAB_ALERTING),
      quarantineSeconds: 30,
      pollIntervalSeconds: 5,
      serviceMonitor: { interval: '5s', scrapeTimeout: '4s' },
      extraEnv: [
        { name: 'TORCHAIN_SETTLE_SECONDS', value: '5' },
        { name: 'TORCHAIN_LEASE_DURATION_SECONDS', value: '4' },
      ],
    },
  };
}

export async function installChart(
  ctx: LabContext,
  cluster: LabCluster,
  nodes: LabNode[],
  timings: Timings,
): Promise<void> {
  ctx.progress(`helm install ${RELEASE} helm/torchain -n ${RELEASE_NAMESPACE} (${timings} timings) into lab/kube`);
  const dir = join(ctx.stateDir, 'helm');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = [LAB_VALUES];
  const write = (name: string, values: Record<string, unknown>) => {
    const file = join(dir, name);
    writeFileSync(file, stringify(values));
    files.push(file);
  };
  write('chains.yaml', chainValues(nodes));
  if (timings === 'lab') write('lab-timings.yaml', labTimingValues());
  const args = ['install', RELEASE, CHART_DIR, '--namespace', RELEASE_NAMESPACE, '--create-namespace'];
  for (const f of files) args.push('--values', f);
  args.push('--wait', '--timeout', '5m');
  try {
    await execFileAsync(HELM, args, {
      env: {
        ...process.env,
        KUBECONFIG: cluster.adminKubeconfig,
        HOME: dir,
        HELM_CACHE_HOME: join(dir, 'cache'),
        HELM_CONFIG_HOME: join(dir, 'config'),
        HELM_DATA_HOME: join(dir, 'data'),
      },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`helm install of the product into lab/kube failed: ${err.stderr ?? err.message}`);
  }
}
