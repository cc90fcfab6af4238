// The node flags the image runs the exporter with (the images engineer puts them in the log-exporter entrypoint),
// measured by `npm run bench:exporter` (docs/performance.md):
// - --max-semi-space-size=1: the young generation stays at 1 MB semi-spaces. The exporter allocates one short-lived
//   string per line; the default (up to 16 MB per semi-space) lets RSS grow with the line rate for no gain.
// - --no-opt --no-sparkplug: bytecode interpreter only (regexes still run as native code). The optimising and baseline
//   compilers page in their code and allocate zones: about 7 MB of RSS, for throughput the exporter does not need
//   (interpreted, it still parses about 8x faster than mtail).
export const EXPORTER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--no-opt', '--no-sparkplug'];
