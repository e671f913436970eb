// Usage: npm run db:migration -- add_gallery_widgets
// `prisma migrate dev` and `migrate diff --from-migrations` do not work with
// the offline JS schema engine (see README, "Prisma offline"). So: apply the
// existing migrations to a scratch database, introspect it into a schema,
// diff that schema against schema.prisma, and write the SQL as a new migration.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { migrateDatabase } from "../src/db/migrate.js";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("Give the migration a snake_case name: npm run db:migration -- add_something");
  process.exit(1);
}
const scratch = mkdtempSync(path.join(os.tmpdir(), "bazaarche-migration-"));
const db = path.join(scratch, "current.db");
migrateDatabase(db);
const prisma = (args: string[]) =>
  execFileSync("npx", ["prisma", ...args], { encoding: "utf8", env: { ...process.env, DATABASE_URL: `file:${db}` }, stdio: ["ignore", "pipe", "inherit"] });
const pulled = prisma(["db", "pull", "--print"]);
const current = path.join(scratch, "current.prisma");
writeFileSync(current, pulled.slice(pulled.indexOf("generator ")));
const sql = prisma(["migrate", "diff", "--from-schema-datamodel", current, "--to-schema-datamodel", "prisma/schema.prisma", "--script"]);
if (/This is an empty migration/.test(sql)) {
  console.log("schema.prisma matches the migrations: nothing to write.");
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
const dir = path.join("prisma", "migrations", `${stamp}_${name}`);
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, "migration.sql"), sql);
console.log(`Wrote ${dir}/migration.sql. Review it, then start the app (it migrates) or run npm run db:migrate.`);
