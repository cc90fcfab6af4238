// The node flags the image runs the exporter with (the images engineer puts them in the log-exporter entrypoint),
// measured by `npm run bench:exporter` (docs/performance.md):
// - --max-semi-space-size=1: the young generation stays at 1 MB semi-spaces. The exporter allocates one short-lived
//   string per line; the default (up to 16 MB per semi-space) lets RSS grow with the line rate for no gain.
// - --no-opt: no TurboFan. Optimising the hot loop pages in the optimising compiler's code and zones: about 6 MB of
//   RSS, for a throughput the exporter does not need (without it, still about 10x mtail).
export const EXPORTER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--no-opt'];
