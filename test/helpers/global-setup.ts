import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { migrateDatabase, migratePostgres } from "../../src/db/migrate.js";
import { dropDatabase, newDatabaseName, onServer, onPostgres, TEST_DATABASE_URL, urlForDatabase } from "./engine.js";

/**
 * Migrates one template database with the real migrations; every test file
 * copies it, so each file gets a fresh database without re-running
 * migrations. SQLite: a template file. PostgreSQL (TEST_DATABASE_URL): a
 * template database; copies are named after it and dropped at the end.
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-test-"));
  project.provide("testTmpDir", dir);
  if (!onPostgres) {
    const template = path.join(dir, "template.db");
    migrateDatabase(template);
    project.provide("templateDb", template);
    return () => rmSync(dir, { recursive: true, force: true });
  }
  // One prefix per run, so a run's databases are told apart from another run's on a shared server.
  const prefix = newDatabaseName("bz_test_") + "_";
  const template = `${prefix}template`;
  await onServer(TEST_DATABASE_URL, (c) => c.query(`CREATE DATABASE "${template}"`));
  await migratePostgres(urlForDatabase(TEST_DATABASE_URL, template));
  project.provide("templateDb", template);
  project.provide("pgPrefix", prefix);
  return async () => {
    const { rows } = await onServer(TEST_DATABASE_URL, (c) => c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [prefix]));
    for (const { datname } of rows) await dropDatabase(TEST_DATABASE_URL, datname);
    rmSync(dir, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    /** SQLite: the template file. PostgreSQL: the template database's name. */
    templateDb: string;
    testTmpDir: string;
    /** PostgreSQL: prefix of every database this run creates. */
    pgPrefix: string;
  }
}
