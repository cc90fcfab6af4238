// The node flags the image runs the exporter with: the log-exporter image's `nodeFlags` in images/images.json (the one
// declaration the image build and Nix read), measured by `npm run bench:exporter` (docs/performance.md):
// - --max-semi-space-size=1: the young generation stays at 1 MB semi-spaces. The exporter allocates one short-lived
//   string per line; the default (up to 16 MB per semi-space) lets RSS grow with the line rate for no gain.
// - --max-opt=0: bytecode interpreter only (no Sparkplug, Maglev or TurboFan; regexes still run as native code). The
//   compilers page in their code and allocate zones: about 7 MB of RSS on node 20, 11 MB on node 24, for throughput
//   the exporter does not need (interpreted, it still parses about 6x faster than mtail).
import { readFileSync } from 'node:fs';

const declaration = JSON.parse(readFileSync(new URL('../images/images.json', import.meta.url), 'utf8')) as {
  images: Record<string, { nodeFlags?: string[] }>;
};

export const EXPORTER_NODE_FLAGS: readonly string[] = declaration.images['log-exporter']?.nodeFlags ?? [];
