import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The folder of Bazaarche's own package.json, found by walking up from this
 * module. The same code runs as TypeScript from src/, as compiled JavaScript
 * from dist/, from node_modules/bazaarche/dist/ inside a host app, and from a
 * bench build under .tmp/; views, static assets and migrations sit beside the
 * package.json in all of them, never beside the host's working directory.
 */
function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "bazaarche") return dir;
      } catch {
        // An unreadable package.json on the way up is not ours; keep climbing.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`bazaarche: cannot find its package.json above ${start}`);
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));
export const VIEWS_DIR = path.join(PACKAGE_ROOT, "views");
export const STATIC_DIR = path.join(VIEWS_DIR, "static");
export const MIGRATIONS_DIR = path.join(PACKAGE_ROOT, "prisma", "migrations");
/** PostgreSQL's own migrations, generated from schema.prisma (prisma/postgres-schema.ts). */
export const POSTGRES_MIGRATIONS_DIR = path.join(PACKAGE_ROOT, "prisma", "postgres", "migrations");
export const SEED_DIR = path.join(PACKAGE_ROOT, "prisma", "seed");
