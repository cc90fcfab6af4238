// The node flags the image runs the exporter with, and the node version it runs: the log-exporter image's
// `nodeFlags` and the `node.version` in images/images.json (the one declaration the image build and Nix read),
// measured by `npm run bench:exporter` (docs/performance.md explains each flag).
import { readFileSync } from 'node:fs';

const declaration = JSON.parse(readFileSync(new URL('../images/images.json', import.meta.url), 'utf8')) as {
  node: { version: string };
  images: Record<string, { nodeFlags?: string[] }>;
};

export const EXPORTER_NODE_FLAGS: readonly string[] = declaration.images['log-exporter']?.nodeFlags ?? [];
export const NODE_VERSION: string = declaration.node.version;
