// The values table of helm/torchain/README.md, generated from the `## @param` annotations of values.yaml (the
// Bitnami readme-generator convention: `## @section Title`, then `## @param <dotted.key> <description>` above each
// value). Pure functions here; scripts/gen-chart-readme.ts writes the file and test/chart/readme.test.ts checks drift.
import { parse } from 'yaml';

export const TABLE_BEGIN = '<!-- BEGIN generated: values (npm run gen:chart-readme) -->';
export const TABLE_END = '<!-- END generated: values -->';

export interface Param {
  key: string;
  description: string;
  section: string;
}

export interface Section {
  title: string;
  description: string[];
  params: Param[];
}

/** Sections and params in file order. */
export function parseAnnotations(valuesYaml: string): Section[] {
  const sections: Section[] = [];
  let current: Section | undefined;
  let inSectionText = false;
  for (const raw of valuesYaml.split('\n')) {
    const line = raw.trim();
    const section = /^## @section (.+)$/.exec(line);
    const param = /^## @param (\S+)\s+(.+)$/.exec(line);
    if (section) {
      current = { title: section[1]!.trim(), description: [], params: [] };
      sections.push(current);
      inSectionText = true;
    } else if (param) {
      if (!current)
        throw new Error(`@param ${param[1]} comes before any "## @section": start values.yaml with a section`);
      current.params.push({ key: param[1]!, description: param[2]!.trim(), section: current.title });
      inSectionText = false;
    } else if (inSectionText && current && line.startsWith('## ') && !line.startsWith('## @')) {
      current.description.push(line.slice(3));
    } else {
      inSectionText = false;
    }
  }
  return sections;
}

type Tree = Record<string, unknown>;

const isMap = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

function lookup(values: Tree, key: string): { found: boolean; value: unknown } {
  let node: unknown = values;
  for (const part of key.split('.')) {
    if (!isMap(node) || !(part in node)) return { found: false, value: undefined };
    node = node[part];
  }
  return { found: true, value: node };
}

/** Keys that hold a value (scalars, lists, empty maps), as dotted paths. */
function leaves(node: unknown, prefix = ''): string[] {
  if (!isMap(node) || Object.keys(node).length === 0) return prefix ? [prefix] : [];
  return Object.entries(node).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

/** Problems that make the table lie: params naming no value, values no param documents. */
export function annotationProblems(valuesYaml: string): string[] {
  const values = (parse(valuesYaml) ?? {}) as Tree;
  const params = parseAnnotations(valuesYaml).flatMap((s) => s.params);
  const keys = new Set(params.map((p) => p.key));
  const problems: string[] = [];
  for (const p of params)
    if (!lookup(values, p.key).found) problems.push(`@param ${p.key} names no value in values.yaml`);
  const seen = new Set<string>();
  for (const p of params) {
    if (seen.has(p.key)) problems.push(`@param ${p.key} is documented twice`);
    seen.add(p.key);
  }
  const covered = (leaf: string) => {
    const parts = leaf.split('.');
    return parts.some((_, i) => keys.has(parts.slice(0, i + 1).join('.')));
  };
  for (const leaf of leaves(values))
    if (!covered(leaf)) problems.push(`value ${leaf} has no "## @param ${leaf} …" line`);
  return problems;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function valueCell(value: unknown): string {
  const json = JSON.stringify(value === undefined ? null : value);
  return `\`${cell(json)}\``;
}

/** The Markdown tables, one per section. Throws on annotation problems, naming each. */
export function renderValuesTable(valuesYaml: string): string {
  const problems = annotationProblems(valuesYaml);
  if (problems.length)
    throw new Error(`helm/torchain/values.yaml annotations are incomplete:\n  ${problems.join('\n  ')}`);
  const values = (parse(valuesYaml) ?? {}) as Tree;
  const out: string[] = [];
  for (const section of parseAnnotations(valuesYaml)) {
    if (!section.params.length) continue;
    out.push(`### ${section.title}`, '');
    if (section.description.length) out.push(section.description.join(' '), '');
    out.push('| Name | Description | Value |', '| --- | --- | --- |');
    for (const p of section.params)
      out.push(`| \`${p.key}\` | ${cell(p.description)} | ${valueCell(lookup(values, p.key).value)} |`);
    out.push('');
  }
  return out.join('\n').trimEnd();
}

/** README text with the generated block replaced. */
export function spliceReadme(readme: string, table: string): string {
  const begin = readme.indexOf(TABLE_BEGIN);
  const end = readme.indexOf(TABLE_END);
  if (begin < 0 || end < begin)
    throw new Error(`helm/torchain/README.md has no "${TABLE_BEGIN}" … "${TABLE_END}" block: add the two marker lines`);
  return `${readme.slice(0, begin)}${TABLE_BEGIN}\n\n${table}\n\n${readme.slice(end)}`;
}
