import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { MIGRATIONS_DIR, POSTGRES_MIGRATIONS_DIR } from "../package-root.js";
import { DatabaseStartError, describeDbError, engineOfUrl, redactUrl, sqliteFilePath } from "./database-url.js";

export { MIGRATIONS_DIR, POSTGRES_MIGRATIONS_DIR };

/**
 * Applies the migrations of the database a URL names (prisma/migrations for
 * SQLite, prisma/postgres/migrations for PostgreSQL), each once, writing
 * Prisma's `_prisma_migrations` ledger. Safe when several instances start
 * together.
 */
export async function migrate(databaseUrl: string, options: { dir?: string } = {}): Promise<{ applied: string[] }> {
  if (engineOfUrl(databaseUrl) === "postgres") return migratePostgres(databaseUrl, options.dir);
  return migrateDatabase(sqliteFilePath(databaseUrl), options.dir);
}

function migrationNames(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort();
}

const checksumOf = (sql: string) => createHash("sha256").update(sql).digest("hex");

/**
 * Applies prisma/migrations/* to a SQLite file in order, on start and in
 * tests. It writes the same `_prisma_migrations` ledger (name, SHA-256
 * checksum) as `prisma migrate deploy`, so the two can be used
 * interchangeably, but needs neither the Prisma CLI nor a network at run time.
 */
export function migrateDatabase(file: string, dir = MIGRATIONS_DIR): { applied: string[] } {
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("busy_timeout = 5000");
    db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" TEXT PRIMARY KEY NOT NULL,
      "checksum" TEXT NOT NULL,
      "finished_at" DATETIME,
      "migration_name" TEXT NOT NULL,
      "logs" TEXT,
      "rolled_back_at" DATETIME,
      "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
      "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0
    )`);
    const done = new Map<string, string>(
      db
        .prepare(`SELECT migration_name AS name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`)
        .all()
        .map((r) => {
          const row = r as { name: string; checksum: string };
          return [row.name, row.checksum];
        }),
    );
    const applied: string[] = [];
    for (const name of migrationNames(dir)) {
      const sql = readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      const checksum = checksumOf(sql);
      const known = done.get(name);
      if (known !== undefined) {
        if (known !== checksum) {
          throw new Error(`Migration ${name} was changed after it was applied to ${file}. Add a new migration instead of editing an applied one.`);
        }
        continue;
      }
      const started = new Date().toISOString();
      // SQLite changes a column by rebuilding the table (CREATE new, copy,
      // DROP old, RENAME). With foreign keys on, that DROP would fire ON DELETE
      // CASCADE on every child row, and `PRAGMA foreign_keys=OFF` inside the
      // migration is ignored within a transaction. So: keys off outside the
      // transaction, check them before commit, keys back on (sqlite.org/lang_altertable.html).
      db.pragma("foreign_keys = OFF");
      db.transaction(() => {
        db.exec(sql);
        const broken = db.pragma("foreign_key_check") as unknown[];
        if (broken.length > 0) throw new Error(`Migration ${name} leaves ${broken.length} rows with broken foreign keys: ${JSON.stringify(broken.slice(0, 5))}`);
        db.prepare(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)`,
        ).run(randomUUID(), checksum, new Date().toISOString(), name, started);
      })();
      db.pragma("foreign_keys = ON");
      applied.push(name);
    }
    return { applied };
  } finally {
    db.close();
  }
}

/** Any fixed number: the advisory-lock key every instance's migrator waits on. */
const MIGRATION_LOCK_KEY = 727_261_930;

/**
 * Applies prisma/postgres/migrations/* to a PostgreSQL database. Each
 * migration is one transaction (PostgreSQL's DDL is transactional, so a
 * failing migration leaves nothing behind) that first takes a
 * transaction-scoped advisory lock and re-reads the ledger under it: when
 * several instances start together, one applies a migration and the others
 * wait, then find it done. A transaction-scoped lock (not a session lock)
 * also holds through pgbouncer in transaction mode.
 */
export async function migratePostgres(databaseUrl: string, dir = POSTGRES_MIGRATIONS_DIR): Promise<{ applied: string[] }> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: databaseUrl, options: "-c TimeZone=UTC", connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (err) {
    throw new DatabaseStartError(`Cannot reach PostgreSQL at ${redactUrl(databaseUrl)}: ${describeDbError(err)}`);
  }
  // A server that goes away mid-run surfaces as the failing query's error, not as an unhandled 'error' event.
  client.on("error", () => undefined);
  const applied: string[] = [];
  try {
    const names = migrationNames(dir);
    for (const name of names) {
      const sql = readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      const checksum = checksumOf(sql);
      await client.query("BEGIN");
      try {
        await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
        await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
          "id" VARCHAR(36) PRIMARY KEY NOT NULL,
          "checksum" VARCHAR(64) NOT NULL,
          "finished_at" TIMESTAMPTZ,
          "migration_name" VARCHAR(255) NOT NULL,
          "logs" TEXT,
          "rolled_back_at" TIMESTAMPTZ,
          "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
          "applied_steps_count" INTEGER NOT NULL DEFAULT 0
        )`);
        const { rows } = await client.query<{ checksum: string }>(
          `SELECT checksum FROM "_prisma_migrations" WHERE migration_name = $1 AND finished_at IS NOT NULL AND rolled_back_at IS NULL`,
          [name],
        );
        if (rows.length > 0) {
          if (rows[0]!.checksum !== checksum) {
            throw new Error(`Migration ${name} was changed after it was applied to ${redactUrl(databaseUrl)}. Add a new migration instead of editing an applied one.`);
          }
          await client.query("COMMIT");
          continue;
        }
        const started = new Date();
        await client.query(sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) VALUES ($1, $2, now(), $3, NULL, NULL, $4, 1)`,
          [randomUUID(), checksum, name, started],
        );
        await client.query("COMMIT");
        applied.push(name);
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        if (err instanceof Error && /was changed after it was applied/.test(err.message)) throw err;
        throw new Error(`Migration ${name} failed on PostgreSQL and was rolled back: ${describeDbError(err)}`, { cause: err });
      }
    }
    return { applied };
  } finally {
    await client.end().catch(() => undefined);
  }
}

const STARTUP_LOCK_KEY = 727_261_931;

/**
 * Runs first-start work (the demo seed, the first admin) in one instance at a
 * time: on PostgreSQL a transaction-scoped advisory lock held on a connection
 * of its own while `work` runs on the app's pool, so instances starting
 * together take turns and the later ones find the work done. SQLite: one
 * process, nothing to coordinate.
 */
export async function withStartupLock<T>(databaseUrl: string, work: () => Promise<T>): Promise<T> {
  if (engineOfUrl(databaseUrl) !== "postgres") return work();
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [STARTUP_LOCK_KEY]);
    const result = await work();
    await client.query("COMMIT");
    return result;
  } finally {
    await client.end().catch(() => undefined);
  }
}
