/**
 * Reads for the hot pages (product page, reviews block, feeds), written once
 * as dialect-neutral tagged SQL (./dialect.ts) and run by a Reader.
 *
 * Every Prisma raw query costs a fixed overhead in its JS/wasm engine and the
 * driver adapter, several times the SQL itself for these short statements,
 * so the reader goes around it: on PostgreSQL straight to the pg pool that
 * Prisma itself uses (no connection of its own); on a SQLite file through a
 * private read-only better-sqlite3 connection to the same file, with
 * statements prepared once (WAL lets it read while the main connection
 * writes, and it sees every committed write). Otherwise, and with
 * BAZAARCHE_DIRECT_READS=0, Prisma's `$queryRaw`. `npm run bench:db` measures
 * what that saves.
 *
 * Rows come back with the engine's own value types: read them with num(),
 * bool(), date() and fromJson() from ./dialect.ts.
 */
import Database from "better-sqlite3";
import { postgresPoolOf, type Db } from "./client.js";
import { dialectOf, type Sql } from "./dialect.js";

export interface Reader {
  all<T>(query: Sql): Promise<T[]>;
  /**
   * The rows as arrays, values in the order of the SELECT list. For long
   * reads (feeds): better-sqlite3 builds each row object property by
   * property in C++, which costs more than reading the row; an object
   * literal built from the array in JavaScript costs almost nothing.
   */
  rows(query: Sql): Promise<unknown[][]>;
  /** Closes a private connection (openReader); a no-op for shared readers. */
  close(): void;
}

const shared = new WeakMap<Db, Promise<Reader>>();

/** The long-lived reader for a database, opened on first use and kept for the life of the client. */
export function readerFor(db: Db): Promise<Reader> {
  let reader = shared.get(db);
  if (!reader) {
    reader = openReader(db).then((r) => ({ ...r, close: () => undefined }));
    shared.set(db, reader);
  }
  return reader;
}

/** Whether SQLite reads may bypass Prisma (BAZAARCHE_DIRECT_READS=0 turns it off, for benchmarks). */
const directAllowed = () => process.env.BAZAARCHE_DIRECT_READS !== "0";

/**
 * A reader of its own (feeds hold one for a whole run, then close it).
 * `direct: false` forces Prisma's raw queries on SQLite too. `cacheKiB` caps
 * a private SQLite connection's page cache: better-sqlite3 builds SQLite with
 * 16 MB per connection, which a one-pass scan of the catalog fills, and the
 * allocator keeps that memory after the connection closes.
 */
export async function openReader(db: Db, options: { direct?: boolean; cacheKiB?: number } = {}): Promise<Reader> {
  const viaPrisma: Reader = {
    all: <T>(query: Sql) => db.$queryRaw<T[]>(query),
    // Prisma builds each row's object in the order of the SELECT list.
    rows: async (query: Sql) => (await db.$queryRaw<Record<string, unknown>[]>(query)).map((row) => Object.values(row)),
    close: () => undefined,
  };
  if (options.direct === false || !directAllowed()) return viaPrisma;
  if (dialectOf(db) === "postgres") {
    // The same pool Prisma uses (src/db/client.ts), without Prisma's per-query work.
    const pool = postgresPoolOf(db);
    if (!pool) return viaPrisma;
    return {
      all: async <T>(query: Sql) => (await pool.query({ text: query.text, values: query.values })).rows as T[],
      rows: async (query: Sql) => (await pool.query({ text: query.text, values: query.values, rowMode: "array" })).rows as unknown[][],
      close: () => undefined,
    };
  }
  const file = await sqliteMainFile(db);
  if (!file) return viaPrisma;
  let connection: Database.Database;
  try {
    connection = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
    if (options.cacheKiB !== undefined) connection.pragma(`cache_size = -${Math.max(1, Math.trunc(options.cacheKiB))}`);
  } catch {
    return viaPrisma;
  }
  const statements = new Map<string, Database.Statement>();
  const rawStatements = new Map<string, Database.Statement>();
  return {
    all<T>(query: Sql) {
      let statement = statements.get(query.sql);
      if (!statement) {
        statement = connection.prepare(query.sql);
        statements.set(query.sql, statement);
      }
      return Promise.resolve(statement.all(...query.values.map(bindable)) as T[]);
    },
    rows(query: Sql) {
      let statement = rawStatements.get(query.sql);
      if (!statement) {
        statement = connection.prepare(query.sql).raw(true);
        rawStatements.set(query.sql, statement);
      }
      return Promise.resolve(statement.all(...query.values.map(bindable)) as unknown[][]);
    },
    close: () => connection.close(),
  };
}

/** Values bound as Prisma's SQLite adapter binds them: dates as "2026-11-20T10:00:00.000+00:00", booleans as 0/1. */
export const bindable = (v: unknown) => (v instanceof Date ? v.toISOString().replace("Z", "+00:00") : typeof v === "boolean" ? Number(v) : v);

async function sqliteMainFile(db: Db): Promise<string> {
  try {
    const rows = await db.$queryRawUnsafe<{ file: string }[]>(`SELECT file FROM pragma_database_list WHERE name = 'main'`);
    return rows[0]?.file ?? "";
  } catch {
    return "";
  }
}
