// Regenerates the values table of helm/torchain/README.md from values.yaml. `--check` only reports drift (exit 1).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderValuesTable, spliceReadme } from './chart-readme.js';
import { CHART_DIR } from './paths.js';

const readmePath = join(CHART_DIR, 'README.md');
const current = readFileSync(readmePath, 'utf8');
const next = spliceReadme(current, renderValuesTable(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')));
if (process.argv.includes('--check')) {
  if (next !== current) {
    console.error('helm/torchain/README.md is out of date with values.yaml: run `npm run gen:chart-readme`');
    process.exit(1);
  }
  console.log('helm/torchain/README.md is up to date');
} else if (next !== current) {
  writeFileSync(readmePath, next);
  console.log('wrote helm/torchain/README.md');
} else {
  console.log('helm/torchain/README.md already up to date');
}
