// prom-client's Registry, Counter and Gauge, imported from their own modules. The package index also loads the
// pushgateway (http, https), cluster aggregation and the default collectors: about 12 MB of RSS that one-shot mode
// does not need (the benchmark's memory target is 60 MB). Same module instances as the index, so serve mode can
// still add the default metrics from 'prom-client' to these registries. Static imports, so esbuild bundles them
// (images/bundle.sh); their types are declared in prom-modules.d.ts.
import Registry from 'prom-client/lib/registry.js';
import Counter from 'prom-client/lib/counter.js';
import Gauge from 'prom-client/lib/gauge.js';

export { Counter, Gauge, Registry };
export type Registry = InstanceType<typeof Registry>;
