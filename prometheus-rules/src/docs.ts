// The generated parts of docs/alerting.md (parameter table, timing budget, cooldown), so the page cannot drift from
// the numbers the rules, the chart and the operator use.
import { cooldownTerms, defaultCooldownSeconds, timingBudget } from './budget.js';
import { DEFAULT_ALERTING, getPath, LAB_ALERTING, PARAM_DOCS } from './params.js';

const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

function parametersTable(): string {
  const lines = [row(['value (`alerting.`…)', 'default', 'lab', 'meaning']), row(['---', '---', '---', '---'])];
  for (const [path, { doc }] of Object.entries(PARAM_DOCS))
    lines.push(
      row([
        `\`${path}\``,
        `\`${String(getPath(DEFAULT_ALERTING, path))}\``,
        `\`${String(getPath(LAB_ALERTING, path))}\``,
        doc,
      ]),
    );
  for (const k of ['scrapeInterval', 'downDetectionSeconds', 'upDetectionSeconds', 'reconnectSeconds'] as const)
    lines.push(
      row([
        `\`budget.${k}\` (TS only)`,
        `\`${DEFAULT_ALERTING.budget[k]}\``,
        `\`${LAB_ALERTING.budget[k]}\``,
        {
          scrapeInterval: 'Scrape interval of the exporters: the chart sets it with `monitoring.podMonitor.interval`',
          downDetectionSeconds:
            'Worst time for the exporter to report a dead server (the metrics contract: 15 s for WireGuard)',
          upDetectionSeconds: 'Time for the exporter to report a working tunnel once it is up (one probe)',
          reconnectSeconds: 'Pod replaced and VPN handshake done after a switch',
        }[k],
      ]),
    );
  return lines.join('\n');
}

function budgetTable(): string {
  const d = timingBudget(DEFAULT_ALERTING);
  const l = timingBudget(LAB_ALERTING);
  const lines = [row(['step', 'set by', 'default (s)', 'lab (s)']), row(['---', '---', '---:', '---:'])];
  d.steps.forEach((s, i) => lines.push(row([s.step, `\`${s.setBy}\``, s.seconds, l.steps[i]?.seconds ?? ''])));
  lines.push(row(['**server death → webhook, worst case**', '', `**${d.worstSeconds}**`, `**${l.worstSeconds}**`]));
  lines.push(
    row([
      '… when the chain’s Alertmanager group already exists: another hop fires, or the chain failed over within 15 min (Prometheus re-sends resolved alerts that long) — group_interval instead of group_wait',
      '`alerting.route.groupInterval`',
      d.worstSecondsExistingGroup,
      l.worstSecondsExistingGroup,
    ]),
  );
  lines.push(
    row([
      "best case (failure seen at once, scrape and evaluation right after it, the chain's group already in Alertmanager)",
      '',
      d.bestSeconds,
      l.bestSeconds,
    ]),
  );
  return lines.join('\n');
}

function cooldownTable(): string {
  const lines = [row(['term', 'default (s)', 'lab (s)']), row(['---', '---:', '---:'])];
  const l = cooldownTerms(LAB_ALERTING);
  cooldownTerms(DEFAULT_ALERTING).forEach((t, i) => lines.push(row([t.term, t.seconds, l[i]?.seconds ?? ''])));
  lines.push(
    row([
      '**default cooldown** (`defaultCooldownSeconds`)',
      `**${defaultCooldownSeconds(DEFAULT_ALERTING)}**`,
      `**${defaultCooldownSeconds(LAB_ALERTING)}**`,
    ]),
  );
  return lines.join('\n');
}

export const DOC_BLOCKS: Record<string, () => string> = {
  parameters: parametersTable,
  budget: budgetTable,
  cooldown: cooldownTable,
};

const begin = (name: string) => `<!-- BEGIN generated: ${name} (npm run gen:monitoring) -->`;
const end = (name: string) => `<!-- END generated: ${name} -->`;

/** docs/alerting.md with every generated block refreshed; throws when a block's markers are missing. */
export function spliceDocs(text: string): string {
  let out = text;
  for (const [name, render] of Object.entries(DOC_BLOCKS)) {
    const b = out.indexOf(begin(name));
    const e = out.indexOf(end(name));
    if (b < 0 || e < b)
      throw new Error(
        `docs/alerting.md lacks the markers of the generated block "${name}": ${begin(name)} … ${end(name)}`,
      );
    out = `${out.slice(0, b)}${begin(name)}\n${render()}\n${out.slice(e)}`;
  }
  return out;
}
