import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'emulators/**/*.test.ts', 'extension/src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Every /api/v1 response any suite receives is checked against the served OpenAPI document.
    setupFiles: ['test/setup-contract.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites share one Postgres server (own database each). One file at a time: the end-to-end
    // suites assert sub-second propagation, which two cores shared with a chaos run cannot promise.
    fileParallelism: false,
  },
});
