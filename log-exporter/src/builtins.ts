// Node built-ins, loaded on first use with require(). Not static imports: in the image's single-file ES module bundle
// esbuild hoists every static `import 'node:…'` to its start, and an ES import of a built-in builds its namespace by
// reading every export, lazy getters included: on node 24 `import 'node:fs'` also loads fs/promises, readline and the
// REPL history, `import 'node:util'` worker_threads, `import 'node:http'` TLS and HTTP/2 (about 1 MB each for the
// first two, 14 MB for http; docs/performance.md). require() returns the module object and reads no getter.
import { createRequire } from 'node:module';

const requireBuiltin = createRequire(import.meta.url);

export const builtins = {
  fs: () => requireBuiltin('node:fs') as typeof import('node:fs'),
  os: () => requireBuiltin('node:os') as typeof import('node:os'),
  path: () => requireBuiltin('node:path') as typeof import('node:path'),
  http: () => requireBuiltin('node:http') as typeof import('node:http'),
  https: () => requireBuiltin('node:https') as typeof import('node:https'),
  net: () => requireBuiltin('node:net') as typeof import('node:net'),
  childProcess: () => requireBuiltin('node:child_process') as typeof import('node:child_process'),
};
