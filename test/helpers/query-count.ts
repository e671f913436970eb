import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import type { Db } from "../../src/db/client.js";
import { TEST_TRANSACTIONS } from "./engine.js";
import { PrismaClient } from "../../src/generated/prisma/client.js";
import { PrismaClient as PostgresClient } from "../../src/generated/prisma-pg/client.js";
import { buildTestApp, freshDatabase, TEST_POOL_SIZE } from "./app.js";

/**
 * Counts the SQL statements Prisma sends to the database, at the driver-adapter
 * boundary: every query, in or out of a transaction, raw or generated, goes
 * through queryRaw/executeRaw there, however Prisma batched it. (Prisma's
 * `$on("query")` event is not emitted when a driver adapter is used.)
 */
export interface StatementLog {
  count: number;
  sql: string[];
  reset(): void;
}

function counting<T extends object>(target: T, log: StatementLog): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      if (prop === "queryRaw" || prop === "executeRaw") {
        return (query: { sql: string }, ...rest: unknown[]) => {
          log.count += 1;
          log.sql.push(query.sql);
          return (value as (...a: unknown[]) => unknown).call(obj, query, ...rest);
        };
      }
      if (prop === "startTransaction" || prop === "connect") {
        return async (...args: unknown[]) => counting((await (value as (...a: unknown[]) => Promise<object>).apply(obj, args)) as object, log);
      }
      return (value as (...a: unknown[]) => unknown).bind(obj);
    },
  });
}

export async function openCountingDatabase(url: string) {
  const log: StatementLog = {
    count: 0,
    sql: [],
    reset() {
      this.count = 0;
      this.sql = [];
    },
  };
  let db: Db;
  if (url.startsWith("file:")) {
    db = new PrismaClient({ adapter: counting(new PrismaBetterSQLite3({ url: url.slice("file:".length), timeout: 5000 }), log) });
    await db.$queryRawUnsafe("PRAGMA foreign_keys = ON");
  } else {
    const adapter = counting(new PrismaPg({ connectionString: url, max: TEST_POOL_SIZE, options: "-c TimeZone=UTC" }), log);
    db = new PostgresClient({ adapter, transactionOptions: TEST_TRANSACTIONS }) as unknown as Db;
  }
  log.reset();
  return { db, log };
}

/** The test app over a database whose every SQL statement is counted. */
export async function buildCountingTestApp() {
  const { db: setupDb, url, drop } = await freshDatabase();
  await setupDb.$disconnect();
  const { db, log } = await openCountingDatabase(url);
  // buildTestApp opens a database of its own as well; the storefront (and so
  // t.deps.db) uses the counted one, which is the `db` returned here.
  const t = await buildTestApp({ prisma: db });
  return { ...t, db, url, log, close: async () => void (await Promise.all([t.close(), db.$disconnect().then(drop)])) };
}
