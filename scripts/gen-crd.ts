// Writes the TorChain CRD generated from operator/src/api/torchain.ts into the chart.
// `--check` exits 1 when the committed file differs from what the schema generates.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderCrdYaml, CRD_PATH } from '../operator/src/api/crd-file.js';

const path = fileURLToPath(new URL(`../${CRD_PATH}`, import.meta.url));
const want = renderCrdYaml();
if (process.argv.includes('--check')) {
  let have = '';
  try {
    have = readFileSync(path, 'utf8');
  } catch {
    /* missing counts as drift */
  }
  if (have !== want) {
    console.error(`${CRD_PATH} is out of date with operator/src/api/torchain.ts: run npm run gen:crd and commit it`);
    process.exit(1);
  }
  console.log(`${CRD_PATH} is up to date`);
} else {
  writeFileSync(path, want);
  console.log(`wrote ${CRD_PATH}`);
}
