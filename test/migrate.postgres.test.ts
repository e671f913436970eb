// The PostgreSQL counterpart of migrate.sqlite.test.ts: the project's own
// migrator (src/db/migrate.ts) on prisma/postgres/migrations.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from "../src/db/migrate.js";
import { diffSql, PG_SCHEMA } from "../prisma/postgres-schema.js";
import { dropDatabase, newDatabaseName, onServer, TEST_DATABASE_URL, urlForDatabase } from "./helpers/engine.js";
import { inject } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const created: string[] = [];
const tmp = () => mkdtempSync(path.join(os.tmpdir(), "bz-pg-migrate-"));

/** An empty database on the test server; dropped after the file. */
async function emptyDatabase() {
  const name = newDatabaseName(inject("pgPrefix"));
  await onServer(TEST_DATABASE_URL, (c) => c.query(`CREATE DATABASE "${name}"`));
  created.push(name);
  return { name, url: urlForDatabase(TEST_DATABASE_URL, name) };
}

const query = <T extends Record<string, unknown>>(url: string, text: string, values: unknown[] = []) =>
  onServer(url, async (c) => (await c.query<T>(text, values)).rows);

afterAll(async () => {
  for (const name of created) await dropDatabase(TEST_DATABASE_URL, name);
});

const names = () => readdirSync(POSTGRES_MIGRATIONS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

/** Everything about a schema that a migration decides: columns, indexes, constraints. */
async function catalogOf(url: string) {
  const columns = await query(
    url,
    `SELECT table_name, column_name, data_type, datetime_precision, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'
      ORDER BY table_name, column_name`,
  );
  const indexes = await query(url, `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY tablename, indexname`);
  const constraints = await query(
    url,
    `SELECT conrelid::regclass::text AS "table", conname, pg_get_constraintdef(oid) AS def
       FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '_prisma_migrations'
      ORDER BY 1, 2`,
  );
  return { columns, indexes, constraints };
}

describe("PostgreSQL migrations", () => {
  it("applies every migration once, then nothing on a second run, writing Prisma's ledger", async () => {
    const { url } = await emptyDatabase();
    const first = await migratePostgres(url);
    expect(first.applied).toEqual(names());
    expect((await migratePostgres(url)).applied).toEqual([]);
    const tables = (await query<{ tablename: string }>(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).map((r) => r.tablename);
    for (const t of ["Product", "Variant", "PostTag", "ShortLink", "Review", "RatingSummary", "Order", "PaymentEvent", "Follower", "Coupon", "Redemption", "LiveSession", "LiveClaim", "AnalyticsEvent", "OutboxEmail", "AuditLog"]) {
      expect(tables).toContain(t);
    }
    const ledger = await query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
      url,
      `SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(ledger.map((r) => r.migration_name)).toEqual(names());
    for (const row of ledger) {
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
    }
    // Dates are timestamptz: a date keeps its instant whatever the session's zone.
    const [col] = await query<{ data_type: string }>(url, `SELECT data_type FROM information_schema.columns WHERE table_name = 'Order' AND column_name = 'createdAt'`);
    expect(col!.data_type).toBe("timestamp with time zone");
  });

  it("the migrations build exactly the schema that schema.prisma describes today", async () => {
    const migrated = await emptyDatabase();
    await migratePostgres(migrated.url);
    const direct = await emptyDatabase();
    await onServer(direct.url, (c) => c.query(diffSql(null, PG_SCHEMA)));
    expect(await catalogOf(migrated.url)).toEqual(await catalogOf(direct.url));
  });

  it("four instances starting at once apply each migration exactly once", async () => {
    const { url } = await emptyDatabase();
    const run = () =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, ["--import", "tsx", "-e", `import("./src/db/migrate.ts").then((m) => m.migratePostgres(${JSON.stringify(url)})).then((r) => console.log(JSON.stringify(r.applied)))`], { cwd: ROOT });
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("exit", (code) => resolve({ code, out, err }));
      });
    const results = await Promise.all([run(), run(), run(), run()]);
    for (const r of results) expect(r.code, r.err).toBe(0);
    // Between them, the four applied every migration once.
    const applied = results.flatMap((r) => JSON.parse(r.out.trim()) as string[]).sort();
    expect(applied).toEqual(names());
    const ledger = await query<{ migration_name: string; n: string }>(url, `SELECT migration_name, count(*) AS n FROM "_prisma_migrations" GROUP BY 1 ORDER BY 1`);
    expect(ledger).toEqual(names().map((name) => ({ migration_name: name, n: "1" })));
  });

  it("refuses to run when an applied migration was edited", async () => {
    const dir = path.join(tmp(), "migrations");
    cpSync(POSTGRES_MIGRATIONS_DIR, dir, { recursive: true });
    const { url } = await emptyDatabase();
    await migratePostgres(url, dir);
    writeFileSync(path.join(dir, names()[0]!, "migration.sql"), "-- edited\n", { flag: "a" });
    await expect(migratePostgres(url, dir)).rejects.toThrow(/was changed after it was applied/);
  });

  it("rolls back a failing migration completely, DDL included", async () => {
    const dir = path.join(tmp(), "migrations");
    cpSync(POSTGRES_MIGRATIONS_DIR, dir, { recursive: true });
    const bad = path.join(dir, "29990101000000_broken");
    cpSync(path.join(dir, names()[0]!), bad, { recursive: true });
    writeFileSync(path.join(bad, "migration.sql"), 'CREATE TABLE "Half" (id TEXT);\nALTER TABLE "Variant" ADD COLUMN "half" INTEGER;\nTHIS IS NOT SQL;');
    const { url } = await emptyDatabase();
    await expect(migratePostgres(url, dir)).rejects.toThrow(/29990101000000_broken failed on PostgreSQL and was rolled back/);
    expect(await query(url, `SELECT 1 FROM pg_tables WHERE tablename = 'Half'`)).toEqual([]);
    expect(await query(url, `SELECT 1 FROM information_schema.columns WHERE table_name = 'Variant' AND column_name = 'half'`)).toEqual([]);
    expect(await query(url, `SELECT 1 FROM "_prisma_migrations" WHERE migration_name = '29990101000000_broken'`)).toEqual([]);
    // The good ones before it stay applied.
    expect(await query(url, `SELECT migration_name FROM "_prisma_migrations" ORDER BY 1`)).toEqual(names().map((migration_name) => ({ migration_name })));
  });

  it("says which server it could not reach, without the password", async () => {
    const unreachable = "postgres://app:s3cret@127.0.0.1:1/bazaarche";
    const err = await migratePostgres(unreachable).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^Cannot reach PostgreSQL at postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/bazaarche: .*ECONNREFUSED/);
    expect((err as Error).message).not.toContain("s3cret");
  });
});
