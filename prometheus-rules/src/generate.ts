// Writes every generated monitoring file from prometheus-rules/src: the rule file, alertmanager.yml, the two chart
// templates, the alerting block of the chart's values.yaml and the Grafana dashboard.
// `--check` writes nothing and exits 1 when a committed file differs from what the sources generate.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, getFileInfo, resolveConfig } from 'prettier';
import { alertmanagerYaml, DEFAULT_WEBHOOK_TARGET, renderAlertmanagerConfig } from './alertmanager.js';
import { dashboardJson } from './dashboard.js';
import { alertmanagerConfigTemplate, prometheusRuleTemplate, spliceValues, VALUES_BEGIN, VALUES_END } from './helm.js';
import { spliceDocs } from './docs.js';
import { DEFAULT_ALERTING } from './params.js';
import { GENERATED_HEADER, renderRules, rulesYaml } from './rules.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const GENERATED_FILES = {
  rules: 'prometheus-rules/torchain.rules.yaml',
  alertmanager: 'prometheus-rules/alertmanager.yml',
  prometheusRule: 'helm/torchain/templates/prometheusrule.yaml',
  alertmanagerConfig: 'helm/torchain/templates/alertmanagerconfig.yaml',
  dashboard: 'helm/torchain/files/dashboards/torchain-chain-health.json',
  values: 'helm/torchain/values.yaml',
  docs: 'docs/alerting.md',
} as const;

/** Formats `text` as prettier would (the project's lint checks it), unless .prettierignore excludes the file. */
async function prettierFormat(root: string, rel: string, text: string): Promise<string> {
  const file = join(root, rel);
  const info = await getFileInfo(file, { ignorePath: join(root, '.prettierignore') });
  if (info.ignored || !info.inferredParser) return text;
  return format(text, { ...(await resolveConfig(file)), filepath: file });
}

/** Path → wanted content, values.yaml computed from its current content (only the marked block is ours). */
export async function generatedContents(root = ROOT): Promise<Map<string, string>> {
  const raw = rawContents(root);
  const out = new Map<string, string>();
  for (const [rel, text] of raw) out.set(rel, await prettierFormat(root, rel, text));
  return out;
}

function rawContents(root: string): Map<string, string> {
  const valuesPath = join(root, GENERATED_FILES.values);
  const values = existsSync(valuesPath) ? readFileSync(valuesPath, 'utf8') : undefined;
  const docs = readFileSync(join(root, GENERATED_FILES.docs), 'utf8');
  return new Map([
    [
      GENERATED_FILES.rules,
      GENERATED_HEADER('defaults; the chart renders the same rules with its values') +
        rulesYaml(renderRules(DEFAULT_ALERTING)),
    ],
    [
      GENERATED_FILES.alertmanager,
      GENERATED_HEADER('defaults; the lab renders its own with renderAlertmanagerConfig') +
        '# Switch alerts go to the torchain operator; merge the torchain-operator route and receiver into your own\n' +
        "# configuration, and mount the operator's webhook token Secret where credentials_file points.\n" +
        alertmanagerYaml(renderAlertmanagerConfig(DEFAULT_ALERTING, DEFAULT_WEBHOOK_TARGET)),
    ],
    [GENERATED_FILES.prometheusRule, prometheusRuleTemplate()],
    [GENERATED_FILES.alertmanagerConfig, alertmanagerConfigTemplate()],
    [GENERATED_FILES.dashboard, dashboardJson()],
    [GENERATED_FILES.values, spliceValues(values)],
    [GENERATED_FILES.docs, spliceDocs(docs)],
  ]);
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [rel, want] of await generatedContents()) {
    const path = join(ROOT, rel);
    const have = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (have === want) continue;
    if (check) {
      const what =
        rel === GENERATED_FILES.values
          ? `the block between "${VALUES_BEGIN}" and "${VALUES_END}" of ${rel}`
          : rel === GENERATED_FILES.docs
            ? `the generated tables of ${rel}`
            : rel;
      console.error(`${what} is out of date with prometheus-rules/src: run npm run gen:monitoring`);
      stale++;
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, want);
      console.log(`wrote ${rel}`);
    }
  }
  if (check && stale) process.exit(1);
  if (check) console.log('generated monitoring files are up to date');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
