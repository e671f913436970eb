import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    pool: "forks",
    // Generous: several files seed the demo shop (24 image re-encodes) and the
    // concurrency tests run hundreds of requests; on a loaded 2-core machine
    // these take minutes, and a timeout there would be noise, not a finding.
    testTimeout: 90_000,
    hookTimeout: 180_000,
    // Two cores: two files at a time keeps the machine responsive.
    maxWorkers: 2,
  },
});
