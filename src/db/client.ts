import { mkdirSync } from "node:fs";
import path from "node:path";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "../generated/prisma/client.js";
import { DatabaseStartError, describeDbError, engineOfUrl, redactUrl, sqliteFilePath } from "./database-url.js";
import { isTransactionConflict, isUniqueViolation } from "./errors.js";

export { DatabaseStartError, describeDbError, engineOfUrl, redactUrl, sqliteFilePath, type Engine } from "./database-url.js";

/**
 * The database everywhere in the code. Both generated clients (SQLite from
 * prisma/schema.prisma, PostgreSQL from prisma/postgres/schema.prisma, the
 * same models) have the same API, so one type serves both; what differs
 * between the engines lives in ./dialect.ts.
 */
export type Db = PrismaClient;
export type { Prisma } from "../generated/prisma/client.js";

export interface OpenOptions {
  /** PostgreSQL: connections in this process's pool (default 10). */
  poolSize?: number;
  /** PostgreSQL: how long a transaction (or query) waits for a pooled connection, and how long a transaction may run. */
  transactions?: { maxWait: number; timeout: number };
  /** PostgreSQL: called when an idle pooled connection breaks (e.g. the server restarted); the pool replaces it. */
  onConnectionError?: (err: Error) => void;
}

/**
 * How long an interactive transaction may wait for a pooled connection, and
 * run. Prisma's defaults (2 s, 5 s) fail bursts on a small pool with P2028:
 * 200 checkouts on a pool of 10 queue for longer than 2 s on a busy machine.
 */
export const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 };

/** Opens the database a URL names: SQLite through better-sqlite3, PostgreSQL through a pg pool. */
export async function openDatabase(databaseUrl: string, options: OpenOptions = {}): Promise<Db> {
  return engineOfUrl(databaseUrl) === "postgres" ? openPostgres(databaseUrl, options) : openSqlite(databaseUrl);
}

/**
 * SQLite through Prisma's better-sqlite3 adapter, creating the folder if
 * needed. WAL lets readers run while a writer commits; busy_timeout makes a
 * second process wait instead of failing with SQLITE_BUSY.
 */
async function openSqlite(databaseUrl: string): Promise<Db> {
  const file = sqliteFilePath(databaseUrl);
  mkdirSync(path.dirname(file), { recursive: true });
  const adapter = new PrismaBetterSQLite3({ url: file, timeout: 5000 });
  const db = new PrismaClient({ adapter });
  await db.$queryRawUnsafe("PRAGMA journal_mode = WAL");
  await db.$queryRawUnsafe("PRAGMA foreign_keys = ON");
  await db.$queryRawUnsafe("PRAGMA synchronous = NORMAL");
  return db;
}

/**
 * PostgreSQL through @prisma/adapter-pg and a pg pool. The session time zone
 * is pinned to UTC: the adapter writes timestamps without an offset and reads
 * timestamptz by replacing the offset with +00:00, so any other zone would
 * shift every date. Behind pgbouncer (which drops the `options` startup
 * parameter) the server or database must default to UTC; the check below
 * refuses to start otherwise.
 */
async function openPostgres(databaseUrl: string, options: OpenOptions): Promise<Db> {
  // Loaded only for PostgreSQL, so a SQLite shop never loads pg.
  const [{ PrismaPg }, { PrismaClient: PostgresClient }, { default: pg }] = await Promise.all([
    import("@prisma/adapter-pg"),
    import("../generated/prisma-pg/client.js"),
    import("pg"),
  ]);
  const transactionOptions = options.transactions ?? TRANSACTION_OPTIONS;
  // One pool per process, shared by Prisma and the hot-path reader (./reader.ts).
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    options: "-c TimeZone=UTC",
    // pg-pool applies this to waiting for a free pooled connection as well
    // as to opening one, so it matches the transactions' maxWait. A server
    // that is down refuses at once (→ 503); this bounds one that hangs.
    connectionTimeoutMillis: transactionOptions.maxWait,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection the server dropped (restart, failover) is removed by the pool; nothing else to do.
  pool.on("error", (err) => options.onConnectionError?.(err));
  const adapter = new PrismaPg(pool, {
    disposeExternalPool: true,
    onPoolError: (err) => options.onConnectionError?.(err),
    onConnectionError: (err) => options.onConnectionError?.(err),
  });
  const db = retryingTransactions(new PostgresClient({ adapter, transactionOptions }) as unknown as Db);
  pools.set(db, pool);
  try {
    const [row] = await db.$queryRawUnsafe<{ tz: string }[]>("SELECT current_setting('TimeZone') AS tz");
    if (!/^(UTC|Etc\/UTC|GMT|Etc\/GMT|Z|Zulu|UCT|Etc\/UCT|Universal)$/i.test(row?.tz ?? "")) {
      throw new DatabaseStartError(`PostgreSQL sessions run in time zone "${row?.tz}"; Bazaarche needs UTC. Run ALTER DATABASE … SET timezone = 'UTC' (pgbouncer drops the client's setting).`);
    }
  } catch (err) {
    await db.$disconnect().catch(() => undefined);
    throw err instanceof DatabaseStartError ? err : new DatabaseStartError(`Cannot reach PostgreSQL at ${redactUrl(databaseUrl)}: ${describeDbError(err)}`);
  }
  return db;
}

const pools = new WeakMap<Db, import("pg").Pool>();

/** The pg pool behind a PostgreSQL client opened by openDatabase (for ./reader.ts); undefined otherwise. */
export function postgresPoolOf(db: Db): import("pg").Pool | undefined {
  return pools.get(db);
}

const MAX_ATTEMPTS = 4;

/**
 * `db.$transaction(fn)` that runs `fn` again, from the start, when the
 * transaction lost a race that a retry resolves: a deadlock, a serialization
 * failure, or a unique key inserted by a concurrent transaction after this
 * one read it was free (see isTransactionConflict). The failed attempt was
 * rolled back entirely, so nothing is done twice. Only on PostgreSQL: SQLite
 * runs one writer at a time and never raises these.
 */
function retryingTransactions(db: Db): Db {
  const run = db.$transaction.bind(db) as (arg: unknown, options?: unknown) => Promise<unknown>;
  const $transaction = async (arg: unknown, options?: unknown) => {
    if (typeof arg !== "function") return run(arg, options);
    for (let attempt = 1; ; attempt++) {
      try {
        return await run(arg, options);
      } catch (err) {
        const again = attempt < MAX_ATTEMPTS && isTransactionConflict(err) && !(isUniqueViolation(err) && attempt > 1);
        if (!again) throw err;
        // A little jitter so the transactions that collided do not collide again in step.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  };
  return new Proxy(db, {
    get: (target, prop, receiver) => (prop === "$transaction" ? $transaction : Reflect.get(target, prop, receiver)),
  });
}
