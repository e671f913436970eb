/**
 * Raw SQL for the feeds. The catalog is read in keyset-paginated batches so a
 * feed never holds more than one batch in memory, and the fingerprint is one
 * aggregate query so a conditional request costs milliseconds.
 */
import Database from "better-sqlite3";
import type { Db } from "../db/client.js";

/** Runs one read-only statement with positional parameters. */
export interface CatalogReader {
  all<T>(sql: string, params: unknown[]): Promise<T[]>;
  close(): void;
}

/**
 * A reader for one feed or health run. On a SQLite file it is a private
 * read-only better-sqlite3 connection to the same file (WAL lets it read
 * beside the writer): going through Prisma's adapter costs twice a bare read
 * before any feed work, the bench's limit. Every statement is one short
 * batch, so no read transaction stays open while a slow client drains.
 * In-memory or non-SQLite databases fall back to Prisma's raw queries, with
 * the same SQL.
 */
export async function openCatalogReader(db: Db, options: { direct?: boolean } = {}): Promise<CatalogReader> {
  const file = options.direct === false ? "" : await mainDatabaseFile(db);
  if (!file) {
    return { all: <T>(sql: string, params: unknown[]) => db.$queryRawUnsafe<T[]>(sql, ...params), close: () => undefined };
  }
  const connection = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
  const statements = new Map<string, Database.Statement>();
  return {
    all<T>(sql: string, params: unknown[]) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = connection.prepare(sql);
        statements.set(sql, statement);
      }
      return Promise.resolve(statement.all(...params) as T[]);
    },
    close: () => connection.close(),
  };
}

async function mainDatabaseFile(db: Db): Promise<string> {
  try {
    const rows = await db.$queryRawUnsafe<{ file: string }[]>(`SELECT file FROM pragma_database_list WHERE name = 'main'`);
    return rows[0]?.file ?? "";
  } catch {
    return "";
  }
}

export interface VariantRow {
  rid: number;
  id: string;
  productId: string;
  sku: string;
  option1: string | null;
  option2: string | null;
  option3: string | null;
  priceMinor: number;
  compareAtMinor: number | null;
  currency: string;
  stock: number;
  gtin: string | null;
  mpn: string | null;
  position: number;
  /** Units in active, unexpired holds. */
  held: number;
}

export interface ProductRow {
  id: string;
  status: string;
  slug: string;
  title: string;
  description: string;
  brand: string;
  condition: string;
  googleCategory: string;
  identifierExists: boolean | number | bigint;
  optionNames: string;
  gender: string;
  ageGroup: string;
  color: string;
  size: string;
  /** Published reviews from RatingSummary (reviews feature); null when none. */
  reviewCount: number | bigint | null;
  reviewSum: number | bigint | null;
}

export interface VariantCursor {
  productId: string;
  position: number;
  rid: number;
}

export const FIRST_CURSOR: VariantCursor = { productId: "", position: Number.MIN_SAFE_INTEGER, rid: 0 };

/**
 * Variants that are not archived, after `cursor`, in (productId, position,
 * rowid) order so the variants of one product come together. The order is
 * exactly Variant_productId_position_idx (rowid is the index's hidden last
 * column), so each batch is one index range scan. Whether the product is
 * active is decided from readProducts(), once per product: joining Product here
 * cost a lookup per variant, and a join let SQLite start from Product and
 * sort the whole result for every batch, which made reading quadratic.
 *
 * `held` is getHeldQuantities() (catalog.service.ts) as a correlated subquery
 * on StockHold(variantId, status, expiresAt): the same rule (active, expiring
 * after now), one index probe per variant instead of a Prisma groupBy per
 * slice of ids, which cost more than reading the rows. test/feeds-demo.test.ts
 * holds feed and product page to the same answer.
 */
export function readVariantBatch(reader: CatalogReader, cursor: VariantCursor, limit: number, now: Date): Promise<VariantRow[]> {
  return reader.all<VariantRow>(
    `SELECT v.rowid AS rid, v.id, v.productId, v.sku, v.option1, v.option2, v.option3, v.priceMinor, v.compareAtMinor,
            v.currency, v.stock, v.gtin, v.mpn, v.position,
            (SELECT total(h.quantity) FROM StockHold h
              WHERE h.variantId = v.id AND h.status = 'active' AND h.expiresAt > ?) AS held
       FROM Variant v
      WHERE v.archivedAt IS NULL
        AND (v.productId, v.position, v.rowid) > (?, ?, ?)
      ORDER BY v.productId, v.position, v.rowid
      LIMIT ?`,
    [sqliteTime(now), cursor.productId, cursor.position, cursor.rid, limit],
  );
}

/**
 * The product columns for a batch, once per product rather than once per
 * variant: a description is decoded one time, not five. The caller drops
 * inactive products; a `status` condition here made SQLite walk the status
 * index over every active product for each batch instead of looking ids up.
 */
export function readProducts(reader: CatalogReader, productIds: string[]): Promise<ProductRow[]> {
  if (productIds.length === 0) return Promise.resolve([]);
  return reader.all<ProductRow>(
    `SELECT p.id, p.status, p.slug, p.title, p.description, p.brand, p.condition, p.googleCategory, p.identifierExists, p.optionNames,
            p.gender, p.ageGroup, p.color, p.size, rs.count AS reviewCount, rs.sum AS reviewSum
       FROM Product p LEFT JOIN RatingSummary rs ON rs.productId = p.id
      WHERE p.id IN (${placeholders(productIds.length)})`,
    productIds,
  );
}

export interface ImageRow {
  productId: string;
  variantId: string | null;
  storageKey: string;
  width: number;
  height: number;
}

/** Images of some products, in page order (position, then insertion). */
export function readImages(reader: CatalogReader, productIds: string[]): Promise<ImageRow[]> {
  if (productIds.length === 0) return Promise.resolve([]);
  return reader.all<ImageRow>(
    `SELECT pi.productId, pi.variantId, m.storageKey, m.width, m.height
       FROM ProductImage pi JOIN Media m ON m.id = pi.mediaId
      WHERE pi.productId IN (${placeholders(productIds.length)})
      ORDER BY pi.productId, pi.position, pi.rowid`,
    productIds,
  );
}

/** Each product's first collection (by collection order), used as product_type. */
export async function readProductTypes(reader: CatalogReader, productIds: string[]): Promise<Map<string, string>> {
  if (productIds.length === 0) return new Map();
  const rows = await reader.all<{ productId: string; title: string }>(
    `SELECT cp.productId, c.title
       FROM CollectionProduct cp JOIN Collection c ON c.id = cp.collectionId
      WHERE cp.productId IN (${placeholders(productIds.length)})
      ORDER BY cp.productId, c.position DESC, c.rowid DESC`,
    productIds,
  );
  // Ordered descending so the last write per product is its first collection.
  return new Map(rows.map((r) => [r.productId, r.title]));
}

/**
 * Prisma stores DateTime in SQLite as text like "2026-01-02T03:04:05.678+00:00";
 * comparing against the same shape keeps raw SQL in step with Prisma queries
 * (getHeldQuantities) without converting every row.
 */
export function sqliteTime(date: Date): string {
  return date.toISOString().replace("Z", "+00:00");
}

/**
 * A cheap summary of everything a feed shows. Counts and sums of rowids catch
 * inserts and deletes (which leave no timestamp); max(updatedAt) catches edits
 * of products and variants, and the weighted sum of stock and prices catches
 * checkout's raw conditional updates, which do not touch updatedAt; the active-hold set is taken at `now`, so it
 * changes when a hold is placed, released, or simply expires.
 */
export async function readCatalogFingerprint(db: Db, now: Date): Promise<string> {
  const rows = await db.$queryRawUnsafe<Record<string, unknown>[]>(
    `SELECT
       (SELECT count(*) || '/' || coalesce(max(updatedAt), '') || '/' || total(rowid) FROM Product) AS products,
       (SELECT count(*) || '/' || coalesce(max(updatedAt), '') || '/' || total(rowid) || '/' ||
               total(rowid * (stock * 7 + reserved * 13) + priceMinor + coalesce(compareAtMinor, 0) * 3) FROM Variant) AS variants,
       (SELECT count(*) || '/' || total(pi.rowid * 7 + pi.position * 131 + m.rowid * 8191 + coalesce(length(pi.variantId), 0))
          FROM ProductImage pi JOIN Media m ON m.id = pi.mediaId) AS images,
       (SELECT count(*) || '/' || total(rowid) || '/' || total(length(title) + length(description)) FROM ProductTranslation) AS translations,
       (SELECT count(*) || '/' || total(rowid * 31 + position + length(title)) FROM Collection) AS collections,
       (SELECT count(*) || '/' || total(rowid * 31 + position) FROM CollectionProduct) AS memberships,
       (SELECT count(*) || '/' || total(rowid * 31 + count * 7 + sum) FROM RatingSummary) AS ratings,
       (SELECT count(*) || '/' || total(rowid * 1000003 + quantity) FROM StockHold WHERE status = 'active' AND expiresAt > ?) AS holds`,
    sqliteTime(now),
  );
  return JSON.stringify(rows[0] ?? {});
}

function placeholders(n: number): string {
  return Array.from({ length: n }, () => "?").join(",");
}
