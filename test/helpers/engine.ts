/**
 * Which database the suite runs on: TEST_DATABASE_URL=postgres://… runs it on
 * PostgreSQL (that URL names a server and a maintenance database the tests
 * may CREATE DATABASE from); unset or file:… runs it on SQLite files.
 *
 * PostgreSQL: global setup migrates one template database per run; every
 * test file gets its own database copied from it (CREATE DATABASE … TEMPLATE),
 * dropped when the file closes it and, whatever is left, when the run ends.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { engineOfUrl, type Engine } from "../../src/db/client.js";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || "file:";
export const testEngine: Engine = engineOfUrl(TEST_DATABASE_URL);
export const onPostgres = testEngine === "postgres";

/** The same server URL with another database name. */
export function urlForDatabase(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Runs statements on the maintenance database (CREATE/DROP DATABASE cannot run in a transaction or in the database itself). */
export async function onServer<T>(serverUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const newDatabaseName = (prefix: string) => `${prefix}${randomBytes(6).toString("hex")}`;

/**
 * CREATE DATABASE name TEMPLATE template. PostgreSQL refuses while another
 * session is connected to the template ("being accessed by other users"),
 * which can happen for a moment when two files start at once: retry briefly.
 */
export async function createDatabaseFrom(serverUrl: string, name: string, template: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await onServer(serverUrl, (c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
      return;
    } catch (err) {
      if (attempt >= 20 || !/being accessed by other users/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 100 + attempt * 50));
    }
  }
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await onServer(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/**
 * Test databases wait longer for a pooled connection than production (15 s):
 * the concurrency tests queue hundreds of requests on a pool of five, on a
 * machine shared with other work, and a slow queue there is not a finding.
 */
export const TEST_TRANSACTIONS = { maxWait: 90_000, timeout: 90_000 };
