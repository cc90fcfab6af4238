// prom-client's Registry, Counter and Gauge, imported from their own modules. The package index also loads the
// pushgateway (http, https), cluster aggregation and the default collectors: about 12 MB of RSS that one-shot mode
// does not need. Serve mode's own process metrics are process-metrics.ts, not the index's collectors, for the same
// reason. Static imports, so esbuild bundles them
// (images/bundle.ts); their types are declared in prom-modules.d.ts.
import Registry from 'prom-client/lib/registry.js';
import Counter from 'prom-client/lib/counter.js';
import Gauge from 'prom-client/lib/gauge.js';

export { Counter, Gauge, Registry };
export type Registry = InstanceType<typeof Registry>;
