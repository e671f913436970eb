/**
 * Raw SQL for the feeds. The catalog is read in keyset-paginated batches so a
 * feed never holds more than one batch in memory, and the fingerprint is one
 * aggregate query so a conditional request costs milliseconds.
 */
import type { Db } from "../db/client.js";

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
  slug: string;
  title: string;
  description: string;
  brand: string;
  condition: string;
  googleCategory: string;
  identifierExists: boolean | number | bigint;
  optionNames: string;
}

export interface VariantCursor {
  productId: string;
  position: number;
  rid: number;
}

export const FIRST_CURSOR: VariantCursor = { productId: "", position: Number.MIN_SAFE_INTEGER, rid: 0 };

/**
 * Sellable variants (active product, variant not archived) after `cursor`,
 * in (productId, position, rowid) order so the variants of one product come
 * together. The order is exactly Variant_productId_position_idx (rowid is the
 * index's hidden last column), so each batch is an index range scan; CROSS
 * JOIN keeps SQLite from starting at Product and sorting the whole result for
 * every batch, which made reading quadratic.
 */
export function readVariantBatch(db: Db, cursor: VariantCursor, limit: number): Promise<VariantRow[]> {
  return db.$queryRawUnsafe<VariantRow[]>(
    `SELECT v.rowid AS rid, v.id, v.productId, v.sku, v.option1, v.option2, v.option3, v.priceMinor, v.compareAtMinor,
            v.currency, v.stock, v.gtin, v.mpn, v.position,
            p.slug, p.title, p.description, p.brand, p.condition, p.googleCategory, p.identifierExists, p.optionNames
       FROM Variant v CROSS JOIN Product p ON p.id = v.productId
      WHERE p.status = 'active' AND v.archivedAt IS NULL
        AND (v.productId, v.position, v.rowid) > (?, ?, ?)
      ORDER BY v.productId, v.position, v.rowid
      LIMIT ?`,
    cursor.productId,
    cursor.position,
    cursor.rid,
    limit,
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
export function readImages(db: Db, productIds: string[]): Promise<ImageRow[]> {
  if (productIds.length === 0) return Promise.resolve([]);
  return db.$queryRawUnsafe<ImageRow[]>(
    `SELECT pi.productId, pi.variantId, m.storageKey, m.width, m.height
       FROM ProductImage pi JOIN Media m ON m.id = pi.mediaId
      WHERE pi.productId IN (${placeholders(productIds.length)})
      ORDER BY pi.productId, pi.position, pi.rowid`,
    ...productIds,
  );
}

/** Each product's first collection (by collection order), used as product_type. */
export async function readProductTypes(db: Db, productIds: string[]): Promise<Map<string, string>> {
  if (productIds.length === 0) return new Map();
  const rows = await db.$queryRawUnsafe<{ productId: string; title: string }[]>(
    `SELECT cp.productId, c.title
       FROM CollectionProduct cp JOIN Collection c ON c.id = cp.collectionId
      WHERE cp.productId IN (${placeholders(productIds.length)})
      ORDER BY cp.productId, c.position DESC, c.rowid DESC`,
    ...productIds,
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
       (SELECT count(*) || '/' || total(rowid * 1000003 + quantity) FROM StockHold WHERE status = 'active' AND expiresAt > ?) AS holds`,
    sqliteTime(now),
  );
  return JSON.stringify(rows[0] ?? {});
}

function placeholders(n: number): string {
  return Array.from({ length: n }, () => "?").join(",");
}
