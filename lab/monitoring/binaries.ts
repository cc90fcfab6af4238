// Where the monitoring binaries live. Debian 12's prometheus is built without Kubernetes service discovery, so
// everything that discovers targets in lab/kube runs Debian 13's build, which scripts/prereqs.sh unpacks into
// .tools/debian13/bin (with its promtool, and Alertmanager 0.28 for --enable-feature=receiver-name-in-metrics).
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/paths.js';

const DEBIAN13 = join(REPO_ROOT, '.tools', 'debian13', 'bin');

/** Prometheus 2.53 with kubernetes_sd_configs. */
export const PROMETHEUS_K8S = join(DEBIAN13, 'prometheus');
/** promtool 2.53: `check config` accepts kubernetes_sd_configs. */
export const PROMTOOL_K8S = join(DEBIAN13, 'promtool');
/** Alertmanager 0.28 and its amtool. */
export const ALERTMANAGER_028 = join(DEBIAN13, 'prometheus-alertmanager');
export const AMTOOL_028 = join(DEBIAN13, 'amtool');

/** Debian 12's builds (no Kubernetes SD), as the lab has used them so far. */
export const PROMETHEUS_DEBIAN = '/usr/bin/prometheus';
export const ALERTMANAGER_DEBIAN = '/usr/bin/prometheus-alertmanager';
