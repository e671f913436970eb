/**
 * The one seam between SQLite and PostgreSQL for hand-written SQL.
 *
 * Write raw SQL once, as a tagged template (`sql\`… ${value}\``): Prisma turns
 * the values into `?` on SQLite and `$1…` on PostgreSQL. Quote every
 * identifier ("Variant", "stock": PostgreSQL folds unquoted names to lower
 * case). What the two engines spell differently is a function here, and only
 * that: JSON aggregation, case-insensitive search, advisory locks, a row hash
 * for change fingerprints, and turning driver values (BigInt counts, JSON as
 * text or parsed, 0/1 or true/false, dates as text or Date) into plain values.
 *
 * Portable as written, no helper needed: `INSERT … ON CONFLICT (…) DO NOTHING`,
 * `ON CONFLICT (…) DO UPDATE SET "c" = "Table"."c" + excluded."c"` (qualify the
 * old value: PostgreSQL requires it), `coalesce(sum(x), 0)` (not `total()`),
 * row values `(a, b) > (x, y)`, `||` on text, `CAST(x AS TEXT)`,
 * `UPDATE … WHERE … RETURNING`. Every ORDER BY ends with a unique column.
 */
import { Prisma } from "../generated/prisma/client.js";
import type { Db } from "./client.js";

export type Dialect = "sqlite" | "postgres";
export type Sql = Prisma.Sql;
type Queryable = Db | Prisma.TransactionClient;

export const sql = Prisma.sql;
export const join = Prisma.join;
export const empty = Prisma.empty;
/** SQL text written in the code (an ORDER BY from a fixed table, a column from a fixed list); never input. */
export const raw = Prisma.raw;

/** The engine behind a client or a transaction client. */
export function dialectOf(db: Queryable): Dialect {
  const provider = (db as unknown as { _activeProvider?: string })._activeProvider;
  if (provider === "postgresql" || provider === "postgres") return "postgres";
  if (provider === "sqlite") return "sqlite";
  throw new Error(`Unsupported database provider: ${String(provider)}`);
}

/** A double-quoted identifier (table, column, alias) from a fixed list in the code, never from input. */
export function ident(name: string, qualifier?: string): Sql {
  for (const part of [name, qualifier ?? "x"]) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) throw new Error(`Not an identifier: ${part}`);
  }
  return Prisma.raw(qualifier ? `"${qualifier}"."${name}"` : `"${name}"`);
}

/** A JSON object from (key, SQL expression) pairs. */
export function jsonObject(d: Dialect, fields: Record<string, Sql>): Sql {
  const pairs = Object.entries(fields).map(([key, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`Not a JSON key: ${key}`);
    return sql`${Prisma.raw(`'${key}'`)}, ${value}`;
  });
  return sql`${Prisma.raw(d === "postgres" ? "json_build_object" : "json_object")}(${join(pairs, ", ")})`;
}

/**
 * An aggregate: the rows of the surrounding FROM as a JSON array of objects,
 * in `orderBy` order, `[]` when there are none. Read the result with fromJson():
 * SQLite hands back text, PostgreSQL parsed JSON.
 */
export function jsonArray(d: Dialect, fields: Record<string, Sql>, orderBy?: Sql): Sql {
  const order = orderBy ? sql` ORDER BY ${orderBy}` : empty;
  return d === "postgres"
    ? sql`coalesce(json_agg(${jsonObject(d, fields)}${order}), '[]'::json)`
    : sql`json_group_array(${jsonObject(d, fields)}${order})`;
}

/**
 * A JSON value nested inside jsonObject(): SQLite would embed a JSON text
 * column as a string unless wrapped in json(); PostgreSQL's json already nests.
 */
export function nestedJson(d: Dialect, expr: Sql): Sql {
  return d === "postgres" ? expr : sql`json(${expr})`;
}

/** A JSON result column as a value (text on SQLite, already parsed on PostgreSQL). */
export function fromJson<T>(value: unknown): T | null {
  if (value === null || value === undefined) return null;
  return (typeof value === "string" ? JSON.parse(value) : value) as T;
}

/** A count or sum as a number: BigInt (count on both), Decimal or string (sums on PostgreSQL), or number. */
export function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  return Number(typeof value === "object" ? String(value) : value);
}

/** A boolean column: 0/1 on SQLite (also inside JSON), true/false on PostgreSQL. */
export function bool(value: unknown): boolean {
  return value === true || value === 1 || value === 1n || value === "1" || value === "true";
}

/** A date column or JSON date (text on SQLite, Date or ISO text with offset on PostgreSQL). */
export function date(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

/** Prisma filter for "contains, ignoring case": SQLite's LIKE already ignores ASCII case; PostgreSQL needs ILIKE. */
export function containsText(d: Dialect, value: string): { contains: string } {
  return (d === "postgres" ? { contains: value, mode: "insensitive" } : { contains: value }) as { contains: string };
}

/**
 * A number that changes when a row is replaced by another (delete + insert
 * keeps the count): the rowid on SQLite, a hash of the key on PostgreSQL.
 * Only for change fingerprints, never for order or identity.
 */
export function rowHash(d: Dialect, alias: string, keyColumns: string[] = ["id"]): Sql {
  ident("id", alias); // validates the alias
  if (d === "sqlite") return Prisma.raw(`${alias}.rowid`);
  const key = keyColumns.map((c) => ident(c, alias).sql).join(" || '/' || ");
  return Prisma.raw(`hashtext(${key})::bigint`);
}

/**
 * Serialises transactions on one key until this transaction ends: where a
 * single conditional statement cannot express a rule (insert, then count
 * against a limit), everyone racing on the same key takes turns. PostgreSQL:
 * pg_advisory_xact_lock on a 64-bit hash of the key (transaction-scoped, so
 * it is safe behind pgbouncer). SQLite: nothing to do — a SQLite file is
 * served by one process, whose driver adapter runs one transaction at a time
 * on its one connection.
 */
export async function lockInTx(tx: Prisma.TransactionClient, ...keyParts: string[]): Promise<void> {
  if (dialectOf(tx) !== "postgres") return;
  const key = JSON.stringify(keyParts);
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
}
