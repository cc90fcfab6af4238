// The translation prometheus-operator performs, as one pure function: the cluster's monitoring objects in,
// prometheus.yml + rule files + alertmanager.yaml out. Nothing here does I/O.
import { stringify } from 'yaml';
import { generateAlertmanagerConfig } from './alertmanager-config.js';
import { NotTranslatedError, keyOf } from './fields.js';
import { generatePrometheusConfig, selectMonitors } from './prometheus-config.js';
import { ruleConfigMaps, selectRules } from './rule-files.js';
import { SecretStore } from './secrets.js';
import { withNameLabel } from './selectors.js';
import type { TranslateInput, Translation } from './types.js';

/** prometheus-operator's rule mount point (pkg/prometheus/common.go RulesDir). */
export const DEFAULT_RULES_DIR = '/etc/prometheus/rules';

/** Kinds a Prometheus selects that this translation does not implement: their presence must not pass silently. */
const UNTRANSLATED_KINDS = ['Probe', 'ScrapeConfig'];

/**
 * prometheus-config-reloader's `$(VAR)` expansion of the generated configuration (it runs with the pod's
 * environment); an unknown variable is an error there too.
 */
export function expandEnv(text: string, env: Record<string, string>): string {
  return text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_m, name: string) => {
    const v = env[name];
    if (v === undefined)
      throw new Error(`prometheus.yml uses $(${name}) and no value was given for it: pass env.${name}`);
    return v;
  });
}

export function translate(input: TranslateInput): Translation {
  for (const o of input.objects)
    if (UNTRANSLATED_KINDS.includes(o.kind) && o.apiVersion?.startsWith('monitoring.coreos.com/'))
      throw new NotTranslatedError(`${o.kind} ${keyOf(o.metadata)}`, 'kind', `${o.kind} objects are not translated`);
  const secrets = new SecretStore(input.objects);
  const namespaces = withNameLabel(input.namespaces);
  const prom = input.prometheus;
  const ctx = { prometheus: prom, namespaces, objects: input.objects, secrets };
  const monitors = selectMonitors(ctx);
  const rules = selectRules(prom, namespaces, input.objects);
  const cms = ruleConfigMaps(prom.metadata.name, rules.files);
  const rulesDir = input.rulesDir ?? DEFAULT_RULES_DIR;
  const config = generatePrometheusConfig(ctx, monitors, cms.names, rulesDir);
  const ruleFiles: Record<string, string> = {};
  for (const [cm, files] of cms.byConfigMap) for (const [name, text] of files) ruleFiles[`${cm}/${name}`] = text;
  const am = generateAlertmanagerConfig({
    alertmanager: input.alertmanager,
    namespaces,
    objects: input.objects,
    secrets,
  });
  const env = { POD_NAME: `prometheus-${prom.metadata.name}-0`, SHARD: '0', ...(input.env ?? {}) };
  return {
    prometheus: {
      config,
      yaml: expandEnv(stringify(config, { lineWidth: 0, aliasDuplicateObjects: false }), env),
      ruleFiles,
    },
    alertmanager: { config: am.config, yaml: stringify(am.config, { lineWidth: 0, aliasDuplicateObjects: false }) },
    selected: {
      PodMonitor: [...monitors.podMonitors.keys()].sort(),
      ServiceMonitor: [...monitors.serviceMonitors.keys()].sort(),
      PrometheusRule: rules.selected,
      AlertmanagerConfig: am.selected,
    },
    rejected: [...monitors.rejected, ...rules.rejected, ...am.rejected],
  };
}
