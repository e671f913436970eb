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
  /** Wraps the driver adapter factory before the client uses it (tests watch the statements sent to either engine). */
  wrapAdapter?: <A extends object>(adapter: A) => A;
}

/**
 * How long an interactive transaction may wait for a pooled connection, and
 * run. Prisma's defaults (2 s, 5 s) fail bursts on a small pool with P2028:
 * 200 checkouts on a pool of 10 queue for longer than 2 s on a busy machine.
 */
export const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 };

/** Opens the database a URL names: SQLite through better-sqlite3, PostgreSQL through a pg pool. */
export async function openDatabase(databaseUrl: string, options: OpenOptions = {}): Promise<Db> {
  return engineOfUrl(databaseUrl) === "postgres" ? openPostgres(databaseUrl, options) : openSqlite(databaseUrl, options);
}

/**
 * SQLite through Prisma's better-sqlite3 adapter, creating the folder if
 * needed. WAL lets readers run while a writer commits; busy_timeout makes a
 * second process wait instead of failing with SQLITE_BUSY.
 */
async function openSqlite(databaseUrl: string, options: OpenOptions): Promise<Db> {
  const file = sqliteFilePath(databaseUrl);
  mkdirSync(path.dirname(file), { recursive: true });
  const handle: SqliteHandle = { connection: null, acquire: takingTurns(), writing: null };
  const adapter = wrap(sharingConnection(new PrismaBetterSQLite3({ url: file, timeout: 5000 }), handle), options);
  const db = new PrismaClient({ adapter });
  sqliteHandles.set(db, handle);
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
  // pg-pool takes its idle listener off a connection as it hands it out, and
  // the taker adds its own only a microtask later. One socket read can carry
  // both the end of the previous query (which releases the connection to a
  // waiting taker) and the server's FATAL on a restart: emitted in between,
  // with nobody listening, that error crashed the process (seen in .ci/run).
  // Heard for the connection's whole life, the error only marks it broken: its
  // next query fails (→ 503) and the pool drops it when it is released. Logged
  // here only when no other listener (the pool's, the taker's) heard it too.
  pool.on("connect", (client) => {
    const onError = (err: Error) => {
      if (client.listenerCount("error") === 1) options.onConnectionError?.(err);
    };
    client.on("error", onError);
  });
  const adapter = wrap(
    releasingBrokenTransactions(
        new PrismaPg(pool, {
        disposeExternalPool: true,
        onPoolError: (err) => options.onConnectionError?.(err),
        onConnectionError: (err) => options.onConnectionError?.(err),
      }),
    ),
    options,
  );
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

type SqliteFactory = InstanceType<typeof PrismaBetterSQLite3>;
type SqliteTransaction = Awaited<ReturnType<Awaited<ReturnType<SqliteFactory["connect"]>>["startTransaction"]>>;

interface SqliteHandle {
  connection: import("better-sqlite3").Database | null;
  /** Waits for this connection's turn to run a transaction; returns the function that ends the turn. */
  acquire: () => Promise<() => void>;
  /** Set while ./writer.ts has a transaction open on the connection: settles when it ends. */
  writing: Promise<void> | null;
}

const sqliteHandles = new WeakMap<Db, SqliteHandle>();

/** A first-come, first-served lock: each caller waits for the one before it to end its turn. */
function takingTurns(): () => Promise<() => void> {
  let tail: Promise<void> = Promise.resolve();
  return () => {
    let end!: () => void;
    const turn = new Promise<void>((resolve) => (end = resolve));
    const before = tail;
    tail = before.then(() => turn);
    return before.then(() => {
      let ended = false;
      return () => {
        if (!ended) (ended = true), end();
      };
    });
  };
}

/**
 * Lets ./writer.ts run transactions on the adapter's own better-sqlite3
 * connection (one connection per SQLite file and process: a second one
 * would wait on the first's write lock synchronously, blocking the event
 * loop). Prisma's interactive transactions take the same turns as the
 * writer's, so the two never interleave on the connection.
 */
function sharingConnection(factory: SqliteFactory, handle: SqliteHandle): SqliteFactory {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    handle.connection = (adapter as unknown as { client: import("better-sqlite3").Database }).client;
    const startTransaction = adapter.startTransaction.bind(adapter);
    adapter.startTransaction = async (isolationLevel) => {
      const end = await handle.acquire();
      let tx: SqliteTransaction;
      try {
        tx = await startTransaction(isolationLevel);
      } catch (err) {
        end();
        throw err;
      }
      const commit = tx.commit.bind(tx);
      const rollback = tx.rollback.bind(tx);
      tx.commit = () => commit().finally(end);
      tx.rollback = () => rollback().finally(end);
      return tx;
    };
    // Prisma's writes outside a transaction are implicit transactions (they
    // take turns above); its plain reads are not, and sent on this one
    // connection while the writer's transaction is open they would see its
    // uncommitted rows (gone again if it rolls back, as a sold-out checkout
    // does): they wait for its end. The writer's own statements never come
    // this way, so this cannot deadlock.
    const queryRaw = adapter.queryRaw.bind(adapter);
    const executeRaw = adapter.executeRaw.bind(adapter);
    const writerDone = async () => {
      while (handle.writing) await handle.writing;
    };
    adapter.queryRaw = async (query) => {
      if (handle.writing) await writerDone();
      return queryRaw(query);
    };
    adapter.executeRaw = async (query) => {
      if (handle.writing) await writerDone();
      return executeRaw(query);
    };
    return adapter;
  };
  return factory;
}

/**
 * The connection behind a SQLite client opened by openDatabase, its turn lock,
 * and `writing(done)` to announce an open writer transaction (for ./writer.ts);
 * undefined otherwise.
 */
export function sqliteConnectionOf(db: Db): { connection: import("better-sqlite3").Database; acquire: () => Promise<() => void>; writing: (done: Promise<void> | null) => void } | undefined {
  const handle = sqliteHandles.get(db);
  if (!handle?.connection) return undefined;
  return {
    connection: handle.connection,
    acquire: handle.acquire,
    writing: (done) => {
      handle.writing = done;
    },
  };
}

type PgFactory = InstanceType<typeof import("@prisma/adapter-pg").PrismaPg>;
type PgAdapter = Awaited<ReturnType<PgFactory["connect"]>>;
type PgTransaction = Awaited<ReturnType<PgAdapter["startTransaction"]>>;

/**
 * Gives a transaction's pooled connection back when its COMMIT or ROLLBACK
 * fails. Prisma (6.19, client engine) sends the statement and only then calls
 * the adapter's commit()/rollback(), which releases the connection; when the
 * statement throws (the server restarted or the connection broke mid-
 * transaction) the connection is never released. Each such transaction left
 * the pool one connection smaller for good, and pool.end() (so $disconnect
 * and shutdown) waited on them forever. Released here with the error, the
 * connection is closed and dropped by the pool, which opens a new one on demand.
 */
function releasingBrokenTransactions(factory: PgFactory): PgFactory {
  const closing = /^\s*(COMMIT|ROLLBACK)\b/i;
  const guard = (tx: PgTransaction): PgTransaction => {
    const executeRaw = tx.executeRaw.bind(tx);
    tx.executeRaw = async (query) => {
      try {
        return await executeRaw(query);
      } catch (err) {
        if (closing.test(query.sql)) {
          // Released with the error, the pool destroys the connection: its state (still in a transaction?) is unknown.
          const conn = (tx as unknown as { client?: { release?: (e?: Error) => void } }).client;
          if (typeof conn?.release === "function") {
            try {
              conn.release(err instanceof Error ? err : new Error(String(err)));
            } catch {
              // Already released: nothing leaked.
            }
          } else {
            await tx.rollback().catch(() => undefined);
          }
        }
        throw err;
      }
    };
    return tx;
  };
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const startTransaction = adapter.startTransaction.bind(adapter);
    adapter.startTransaction = async (isolationLevel) => guard(await startTransaction(isolationLevel));
    return adapter;
  };
  return factory;
}

const wrap = <A extends object>(adapter: A, options: OpenOptions): A => (options.wrapAdapter ? options.wrapAdapter(adapter) : adapter);

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
