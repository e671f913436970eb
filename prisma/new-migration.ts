// Usage:
//   npm run db:migration -- add_gallery_widgets   both dialects: prisma/migrations/<stamp>_add_gallery_widgets (SQLite)
//                                                 and prisma/postgres/migrations/<stamp>_add_gallery_widgets (PostgreSQL)
//   npm run db:postgres [-- name]                 PostgreSQL only: whatever schema.prisma has that the PostgreSQL
//                                                 migrations do not (e.g. SQLite migrations merged from other branches)
//
// `prisma migrate dev` and `migrate diff --from-migrations` do not work with
// the offline JS schema engine (see README, "Prisma offline"). SQLite: apply
// the existing migrations to a scratch database, introspect it into a schema,
// diff that schema against schema.prisma. PostgreSQL: diff the schema snapshot
// kept with the last PostgreSQL migration against the PostgreSQL schema
// derived from schema.prisma (prisma/postgres-schema.ts); no database needed.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { migrationStamp, writePostgresMigration, writePostgresSchema } from "./postgres-schema.js";

const args = process.argv.slice(2);
const postgresOnly = args.includes("--postgres");
const name = args.find((a) => !a.startsWith("--")) ?? (postgresOnly ? "sync" : undefined);
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("Give the migration a snake_case name: npm run db:migration -- add_something");
  process.exit(1);
}
const stamp = migrationStamp();

if (!postgresOnly) {
  const { migrateDatabase } = await import("../src/db/migrate.js");
  const scratch = mkdtempSync(path.join(os.tmpdir(), "bazaarche-migration-"));
  const db = path.join(scratch, "current.db");
  migrateDatabase(db);
  const prisma = (cli: string[]) =>
    execFileSync("npx", ["prisma", ...cli], { encoding: "utf8", env: { ...process.env, DATABASE_URL: `file:${db}` }, stdio: ["ignore", "pipe", "inherit"] });
  const pulled = prisma(["db", "pull", "--print"]);
  const current = path.join(scratch, "current.prisma");
  writeFileSync(current, pulled.slice(pulled.indexOf("generator ")));
  const sql = prisma(["migrate", "diff", "--from-schema-datamodel", current, "--to-schema-datamodel", "prisma/schema.prisma", "--script"]);
  if (/This is an empty migration/.test(sql)) {
    console.log("SQLite: schema.prisma matches the migrations, nothing to write.");
  } else {
    const dir = path.join("prisma", "migrations", `${stamp}_${name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "migration.sql"), sql);
    console.log(`SQLite:     wrote ${dir}/migration.sql`);
  }
}

if (writePostgresSchema()) console.log("PostgreSQL: rewrote prisma/postgres/schema.prisma (run npm run db:generate for its client)");
const written = writePostgresMigration(`${stamp}_${name}`);
console.log(written ? `PostgreSQL: wrote ${path.relative(process.cwd(), written)}/migration.sql` : "PostgreSQL: the migrations already reach schema.prisma, nothing to write.");
console.log("Review the SQL (hand-written data changes in a SQLite migration need their PostgreSQL twin by hand), then start the app: it migrates.");
