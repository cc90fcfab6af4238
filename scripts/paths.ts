// Where the project and its unpacked tools live, for tests, the lab and scripts.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const TOOLS_BIN = join(REPO_ROOT, '.tools', 'bin');
export const HELM = join(TOOLS_BIN, 'helm');
export const KUBECTL = join(TOOLS_BIN, 'kubectl');
export const CHART_DIR = join(REPO_ROOT, 'helm', 'torchain');
