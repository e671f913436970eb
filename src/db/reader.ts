/**
 * A private read-only SQLite connection for hot read paths (the product page).
 *
 * Every Prisma raw query costs a fixed overhead in the JS engine and the
 * driver adapter — several times the SQL itself for the product page's
 * short statements — so the page's two reads go through better-sqlite3
 * directly, on a second, read-only connection to the same file (WAL lets it
 * read while the main connection writes; it sees every committed write).
 * Statements are prepared once. When the database is not a file (or cannot
 * be opened read-only), reads fall back to Prisma with the same SQL.
 */
import Database from "better-sqlite3";
import type { Db } from "./client.js";

export interface Reader {
  all<T>(sql: string, params: unknown[]): Promise<T[]>;
}

const readers = new WeakMap<Db, Promise<Reader>>();

/** The reader for a database, opened on first use and kept for the life of the client. */
export function readerFor(db: Db): Promise<Reader> {
  let reader = readers.get(db);
  if (!reader) {
    reader = open(db);
    readers.set(db, reader);
  }
  return reader;
}

/** Dates bound as Prisma stores them ("2026-11-20T10:00:00.000+00:00"), so comparisons match. */
const bindable = (v: unknown) => (v instanceof Date ? v.toISOString().replace("Z", "+00:00") : typeof v === "boolean" ? Number(v) : v);

async function open(db: Db): Promise<Reader> {
  const viaPrisma: Reader = { all: <T>(sql: string, params: unknown[]) => db.$queryRawUnsafe<T[]>(sql, ...params) };
  let file = "";
  try {
    const rows = await db.$queryRawUnsafe<{ file: string }[]>(`SELECT file FROM pragma_database_list WHERE name = 'main'`);
    file = rows[0]?.file ?? "";
  } catch {
    return viaPrisma;
  }
  if (!file) return viaPrisma;
  let connection: Database.Database;
  try {
    connection = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
  } catch {
    return viaPrisma;
  }
  const statements = new Map<string, Database.Statement>();
  return {
    all<T>(sql: string, params: unknown[]) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = connection.prepare(sql);
        statements.set(sql, statement);
      }
      return Promise.resolve(statement.all(...params.map(bindable)) as T[]);
    },
  };
}
