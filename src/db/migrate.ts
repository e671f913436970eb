import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { MIGRATIONS_DIR } from "../package-root.js";

export { MIGRATIONS_DIR };

/**
 * Applies prisma/migrations/* in order, on start and in tests. It writes the
 * same `_prisma_migrations` ledger (name, SHA-256 checksum) as
 * `prisma migrate deploy`, so the two can be used interchangeably, but needs
 * neither the Prisma CLI nor a network at run time.
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
    const names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, "migration.sql")))
      .map((d) => d.name)
      .sort();
    const applied: string[] = [];
    for (const name of names) {
      const sql = readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      const checksum = createHash("sha256").update(sql).digest("hex");
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
