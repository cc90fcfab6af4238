// Built-ins only the long-running mode uses, loaded on first use with require(). Not static imports: the image's
// single-file bundle hoists every static `import 'node:…'` to its start, which would load TLS, HTTP and sockets for a
// one-shot parse too. Not import(): on node 24 the first dynamic import() of a built-in costs about 14 MB more RSS
// than require() of the same module (docs/performance.md).
import { createRequire } from 'node:module';

const requireBuiltin = createRequire(import.meta.url);

export const builtins = {
  http: () => requireBuiltin('node:http') as typeof import('node:http'),
  https: () => requireBuiltin('node:https') as typeof import('node:https'),
  net: () => requireBuiltin('node:net') as typeof import('node:net'),
  childProcess: () => requireBuiltin('node:child_process') as typeof import('node:child_process'),
  perfHooks: () => requireBuiltin('node:perf_hooks') as typeof import('node:perf_hooks'),
};
