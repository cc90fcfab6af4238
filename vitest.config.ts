import { defineConfig } from 'vitest/config';

// Tests that build network namespaces or start daemons share the machine: run files one at a time
// (2 cores; namespace names and wireguard-go UAPI sockets are global), but keep each file's tests fast.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
