/**
 * Write transactions for the hot paths (checkout, payment webhooks), written
 * once as dialect-neutral tagged SQL (./dialect.ts) and run by a Writer.
 *
 * Each Prisma statement costs a fixed amount of CPU in its JS/wasm query
 * layer and driver adapter, several times the SQL itself for these short
 * statements (`npm run bench:checkout` profiles it at well over half of a
 * checkout's CPU). writeTransaction() goes around it, on the connections
 * Prisma itself uses, never one of its own:
 *  - PostgreSQL: a connection from the shared pg pool (src/db/client.ts),
 *    BEGIN … COMMIT, run again from the start on a deadlock, serialization
 *    failure or concurrent unique insert, like `db.$transaction` there;
 *  - SQLite: the one better-sqlite3 connection of Prisma's adapter, taking
 *    turns with Prisma's interactive transactions on it (the lock in
 *    client.ts), `BEGIN IMMEDIATE` so the write lock is taken up front.
 * Otherwise (a client not opened by openDatabase, or BAZAARCHE_DIRECT_WRITES=0)
 * the same function runs in `db.$transaction` through `$queryRaw`.
 *
 * The rules of the house hold as for Prisma's transactions: every change is a
 * conditional statement, rows are locked in a fixed order. Rows come back with
 * the engine's own value types: read them with num(), bool(), date().
 */
import { randomBytes } from "node:crypto";
import type Database from "better-sqlite3";
import { postgresPoolOf, sqliteConnectionOf, type Db, type Prisma } from "./client.js";
import { dialectOf, sql, type Dialect, type Sql } from "./dialect.js";
import { isTransactionConflict, isUniqueViolation } from "./errors.js";
import { bindable } from "./reader.js";

export interface Writer {
  readonly dialect: Dialect;
  /** The rows of a statement: a SELECT, or a write with RETURNING. */
  all<T>(query: Sql): Promise<T[]>;
  /** Runs a write; the number of rows it changed. */
  run(query: Sql): Promise<number>;
}

type Tx = Prisma.TransactionClient;

const isWriter = (x: Tx | Writer): x is Writer => typeof (x as Writer).run === "function" && typeof (x as Writer).all === "function";

/** A Prisma transaction as a Writer (statements through `$queryRaw`), or the Writer itself: SQL written once runs in either. */
export function asWriter(tx: Tx | Writer): Writer {
  if (isWriter(tx)) return tx;
  return { dialect: dialectOf(tx), all: <T>(query: Sql) => tx.$queryRaw<T[]>(query), run: (query: Sql) => tx.$executeRaw(query) };
}

const directAllowed = () => process.env.BAZAARCHE_DIRECT_WRITES !== "0";

/** Runs `fn` in one transaction: committed when it returns, rolled back when it throws. */
export async function writeTransaction<T>(db: Db, fn: (w: Writer) => Promise<T>): Promise<T> {
  if (directAllowed()) {
    const pool = postgresPoolOf(db);
    if (pool) return postgresTransaction(pool, fn);
    const sqlite = sqliteConnectionOf(db);
    if (sqlite) return sqliteTransaction(sqlite, fn);
  }
  return db.$transaction((tx) => fn(asWriter(tx)));
}

const MAX_ATTEMPTS = 4;

async function postgresTransaction<T>(pool: import("pg").Pool, fn: (w: Writer) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    // A checked-out connection the server drops (restart, failover) emits "error" between queries; unheard, that would crash
    // the process. Heard here, the next query fails anyway, and the connection is released with the error (the pool closes it).
    let broken: Error | null = null;
    const onError = (err: Error) => (broken = err);
    client.on("error", onError);
    const done = (err?: Error) => {
      client.removeListener("error", onError);
      client.release(err ?? broken ?? undefined);
    };
    const w: Writer = {
      dialect: "postgres",
      all: async <R>(query: Sql) => (await client.query({ text: query.text, values: query.values })).rows as R[],
      run: async (query: Sql) => (await client.query({ text: query.text, values: query.values })).rowCount ?? 0,
    };
    try {
      await client.query("BEGIN");
      const result = await fn(w);
      await client.query("COMMIT");
      done();
      return result;
    } catch (err) {
      try {
        await client.query("ROLLBACK");
        done();
      } catch (rollbackErr) {
        // The connection's state is unknown: released with the error, the pool closes it.
        done(rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr)));
      }
      const again = attempt < MAX_ATTEMPTS && isTransactionConflict(err) && !(isUniqueViolation(err) && attempt > 1);
      if (!again) throw err;
      // A little jitter so the transactions that collided do not collide again in step.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}

const BEGIN = sql`BEGIN IMMEDIATE`;
const COMMIT = sql`COMMIT`;
const ROLLBACK = sql`ROLLBACK`;
const sqliteStatements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

async function sqliteTransaction<T>(handle: { connection: Database.Database; acquire(): Promise<() => void>; writing(done: Promise<void> | null): void }, fn: (w: Writer) => Promise<T>): Promise<T> {
  const { connection } = handle;
  let statements = sqliteStatements.get(connection);
  if (!statements) sqliteStatements.set(connection, (statements = new Map()));
  const prepared = (query: Sql) => {
    let statement = statements.get(query.sql);
    if (!statement) {
      statement = connection.prepare(query.sql);
      // Plain numbers, not the BigInts Prisma's adapter sets for the connection: these columns stay far below 2^53.
      if (statement.reader) statement.safeIntegers(false);
      statements.set(query.sql, statement);
    }
    return statement;
  };
  const w: Writer = {
    dialect: "sqlite",
    all: <R>(query: Sql) => {
      const statement = prepared(query);
      const values = query.values.map(bindable);
      return Promise.resolve((statement.reader ? statement.all(...values) : (statement.run(...values), [])) as R[]);
    },
    run: (query: Sql) => Promise.resolve(prepared(query).run(...query.values.map(bindable)).changes),
  };
  const release = await handle.acquire();
  // Prisma's reads outside transactions wait for the end (client.ts): on this connection they would see uncommitted rows.
  let ended!: () => void;
  handle.writing(new Promise<void>((resolve) => (ended = resolve)));
  try {
    prepared(BEGIN).run();
    try {
      const result = await fn(w);
      prepared(COMMIT).run();
      return result;
    } catch (err) {
      if (connection.inTransaction) prepared(ROLLBACK).run();
      throw err;
    }
  } finally {
    handle.writing(null);
    ended();
    release();
  }
}

let idCounter = Math.floor(Math.random() * 36 ** 4);

/**
 * A new primary key for rows inserted by hand, in the shape of the cuid()
 * Prisma fills in for them: "c", the time, a counter and 8 random bytes in
 * base 36 (25 characters, rising over time).
 */
export function newId(): string {
  idCounter = (idCounter + 1) % 36 ** 4;
  const random = BigInt(`0x${randomBytes(8).toString("hex")}`).toString(36).padStart(12, "0").slice(-12);
  return `c${Date.now().toString(36).padStart(8, "0")}${idCounter.toString(36).padStart(4, "0")}${random}`;
}
