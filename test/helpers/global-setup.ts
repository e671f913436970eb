import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { migrateDatabase } from "../../src/db/migrate.js";

/**
 * Migrates one template SQLite file with the real migrations; every test file
 * copies it, so each file gets a fresh database without re-running migrations.
 */
export default function setup(project: TestProject) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-test-"));
  const template = path.join(dir, "template.db");
  migrateDatabase(template);
  project.provide("templateDb", template);
  project.provide("testTmpDir", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    templateDb: string;
    testTmpDir: string;
  }
}
