// `npm run gen:vector`: writes helm/torchain/files/vector/vector.yaml from the pattern table.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderVectorConfig } from './render.js';

export const VECTOR_CONFIG_PATH = join(
  fileURLToPath(new URL('../../..', import.meta.url)),
  'helm/torchain/files/vector/vector.yaml',
);

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(dirname(VECTOR_CONFIG_PATH), { recursive: true });
  writeFileSync(VECTOR_CONFIG_PATH, renderVectorConfig());
  console.log(`wrote ${VECTOR_CONFIG_PATH}`);
}
