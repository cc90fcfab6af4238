// The node flags the image runs the exporter with (images: the log-exporter entrypoint), measured by
// `npm run bench:exporter` (docs/performance.md). Young generation capped at 1 MB semi-spaces: the exporter allocates
// one short-lived string per line, and the default (up to 16 MB per semi-space) lets RSS grow with the line rate for
// no gain in throughput.
export const EXPORTER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
