// Prisma CLI configuration for the PostgreSQL schema (generated from
// prisma/schema.prisma by prisma/postgres-schema.ts). Used by `prisma generate`
// and `prisma migrate diff` (schema to schema) only: the app applies
// migrations with its own migrator (src/db/migrate.ts), because
// `prisma migrate deploy` fails on PostgreSQL with the JS schema engine.
//
// A schema-to-schema diff still opens a "connection" and asks one question
// (does the schema exist, which server version). Answering it here means the
// migration generator needs no running PostgreSQL, and can never touch one.
import { defineConfig } from "prisma/config";

const SERVER_VERSION_NUM = 150000; // the oldest PostgreSQL we support: 15

const offline = {
  provider: "postgres" as const,
  adapterName: "bazaarche-offline-diff",
  async queryRaw(query: { sql: string }) {
    if (/FROM pg_namespace/.test(query.sql)) {
      // [schema exists, version(), numeric version]: Int32 = 0 … see @prisma/driver-adapter-utils ColumnTypeEnum
      return { columnNames: ["exists", "version", "numeric_version"], columnTypes: [5, 7, 0], rows: [[true, "PostgreSQL 15", SERVER_VERSION_NUM]] };
    }
    throw new Error(`The offline PostgreSQL diff adapter does not run queries: ${query.sql.slice(0, 80)}`);
  },
  async executeRaw(query: { sql: string }): Promise<number> {
    throw new Error(`The offline PostgreSQL diff adapter does not run statements: ${query.sql.slice(0, 80)}`);
  },
  async executeScript(): Promise<void> {
    throw new Error("The offline PostgreSQL diff adapter does not run scripts");
  },
  async startTransaction(): Promise<never> {
    throw new Error("The offline PostgreSQL diff adapter has no transactions");
  },
  getConnectionInfo: () => ({ schemaName: "public", supportsRelationJoins: true }),
  async dispose() {},
};

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "schema.prisma",
  migrations: { path: "migrations" },
  async adapter() {
    return {
      provider: "postgres",
      adapterName: offline.adapterName,
      connect: async () => offline,
      connectToShadowDb: async () => {
        throw new Error("No shadow database: diff schema snapshots (--from-schema-datamodel), never --from-migrations.");
      },
    } as never;
  },
});
