import { configDefaults, defineConfig } from "vitest/config";

// TEST_DATABASE_URL=postgres://… runs the suite on PostgreSQL (see
// test/helpers/engine.ts). Tests about one engine's own machinery (its
// migrator, its files) are named *.sqlite.test.ts / *.postgres.test.ts and
// run on that engine's pass; CI runs both passes.
const onPostgres = /^postgres(ql)?:\/\//.test(process.env.TEST_DATABASE_URL?.trim() ?? "");

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, onPostgres ? "test/**/*.sqlite.test.ts" : "test/**/*.postgres.test.ts"],
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
