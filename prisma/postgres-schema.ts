// prisma/schema.prisma is the one source of truth. PostgreSQL needs its own
// schema file only because a Prisma datasource names one provider; this
// module derives that file from schema.prisma, and writes the PostgreSQL
// migrations with `prisma migrate diff` between schema snapshots (no database
// involved: `--from-migrations` against a real database is not safe with the
// offline JS schema engine, see README "Prisma offline").
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const SOURCE_SCHEMA = path.join(ROOT, "prisma", "schema.prisma");
export const PG_DIR = path.join(ROOT, "prisma", "postgres");
export const PG_SCHEMA = path.join(PG_DIR, "schema.prisma");
export const PG_MIGRATIONS = path.join(PG_DIR, "migrations");
/** Each PostgreSQL migration keeps the schema it leads to, so the next one can be diffed from it. */
export const SNAPSHOT = "schema.prisma";

const HEADER = `// GENERATED from prisma/schema.prisma by prisma/postgres-schema.ts. Do not edit:
// change prisma/schema.prisma, then \`npm run db:migration -- <name>\` (both
// dialects) or \`npm run db:postgres\` (PostgreSQL only, e.g. after a merge).
// test/schema-drift.test.ts fails when this file or the PostgreSQL
// migrations fall behind schema.prisma.
`;

/**
 * schema.prisma (SQLite) → the PostgreSQL schema: provider postgresql, a
 * placeholder url (the CLI wants one; the adapter supplies the connection),
 * its own generated client, and every DateTime as timestamptz(3) — with plain
 * `timestamp`, dates inside JSON lose their zone.
 */
export function postgresSchemaFrom(source: string): string {
  let inBlock: "generator" | "datasource" | "model" | null = null;
  const out: string[] = [];
  for (const line of source.split("\n")) {
    const open = /^(generator|datasource|model|enum|view)\s+\w+\s*\{/.exec(line);
    if (open) inBlock = open[1] === "generator" ? "generator" : open[1] === "datasource" ? "datasource" : "model";
    else if (/^\}/.test(line)) inBlock = null;
    let next = line;
    if (inBlock === "datasource") {
      next = next.replace(/^(\s*provider\s*=\s*)"sqlite"/, '$1"postgresql"').replace(/^(\s*url\s*=\s*)"file:[^"]*"/, '$1"postgresql://localhost/bazaarche"');
    } else if (inBlock === "generator") {
      next = next.replace(/^(\s*output\s*=\s*)"\.\.\/src\/generated\/prisma"/, '$1"../../src/generated/prisma-pg"');
    } else if (inBlock === "model") {
      // "  at  DateTime?  @default(now())" → "  at  DateTime?  @db.Timestamptz(3) @default(now())"
      const field = /^(\s+\w+\s+DateTime\??)([ \t]*)(.*)$/.exec(next);
      if (field && !/@db\./.test(field[3]!)) {
        next = field[3] ? `${field[1]}${field[2]}@db.Timestamptz(3) ${field[3]}` : `${field[1]} @db.Timestamptz(3)`;
      }
    }
    out.push(next);
  }
  const text = out.join("\n");
  if (!/provider\s*=\s*"postgresql"/.test(text) || !/prisma-pg"/.test(text)) {
    throw new Error("prisma/schema.prisma changed shape: postgres-schema.ts could not find the sqlite datasource or the client output path.");
  }
  return HEADER + text;
}

/** PostgreSQL migration folders, oldest first. */
export function postgresMigrations(dir = PG_MIGRATIONS): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort();
}

export const PG_CONFIG = path.join(PG_DIR, "prisma.config.ts");

/** The Prisma CLI with the PostgreSQL config (its adapter answers the diff's probe offline). */
export function prismaPostgres(args: string[]): string {
  return execFileSync(process.execPath, [path.join(ROOT, "node_modules", "prisma", "build", "index.js"), ...args, "--config", PG_CONFIG], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** The PostgreSQL SQL that takes a database at `from` (a schema file, or empty) to `to`. */
export function diffSql(from: string | null, to: string): string {
  const sql = prismaPostgres(["migrate", "diff", ...(from ? ["--from-schema-datamodel", from] : ["--from-empty"]), "--to-schema-datamodel", to, "--script"]);
  // Every PostgreSQL database has "public"; CREATE SCHEMA would also need the
  // CREATE privilege on the database, which an application role may lack.
  return sql.replace(/^-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";\n\n/m, "");
}

export const isEmptyDiff = (sql: string) => /This is an empty migration/.test(sql);

/** Rewrites prisma/postgres/schema.prisma from schema.prisma; true when it changed. */
export function writePostgresSchema(): boolean {
  const next = postgresSchemaFrom(readFileSync(SOURCE_SCHEMA, "utf8"));
  mkdirSync(PG_DIR, { recursive: true });
  if (existsSync(PG_SCHEMA) && readFileSync(PG_SCHEMA, "utf8") === next) return false;
  writeFileSync(PG_SCHEMA, next);
  return true;
}

/**
 * Writes the PostgreSQL migration that takes the last snapshot (or an empty
 * database) to the current PostgreSQL schema, as `<dirName>/migration.sql`
 * with the schema snapshot beside it. Returns the folder, or null when there
 * is nothing to migrate.
 */
export function writePostgresMigration(dirName: string): string | null {
  writePostgresSchema();
  const existing = postgresMigrations();
  const last = existing.at(-1);
  if (last && dirName <= last) throw new Error(`A PostgreSQL migration must sort after the last one (${last}); got ${dirName}.`);
  const from = last ? path.join(PG_MIGRATIONS, last, SNAPSHOT) : null;
  if (from && !existsSync(from)) throw new Error(`${from} is missing: every PostgreSQL migration keeps the schema it leads to.`);
  const sql = diffSql(from, PG_SCHEMA);
  if (isEmptyDiff(sql)) return null;
  const dir = path.join(PG_MIGRATIONS, dirName);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "migration.sql"), sql);
  writeFileSync(path.join(dir, SNAPSHOT), readFileSync(PG_SCHEMA, "utf8"));
  writeFileSync(path.join(PG_MIGRATIONS, "migration_lock.toml"), '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n');
  return dir;
}

export function migrationStamp(date = new Date()): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}
