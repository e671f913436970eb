/**
 * Raw SQL for the feeds. The catalog is read in keyset-paginated batches so a
 * feed never holds more than one batch in memory, and the fingerprint is one
 * aggregate query so a conditional request costs milliseconds.
 */
import type { Db } from "../db/client.js";
import { dialectOf, join, num, rowHash, sql } from "../db/dialect.js";
import { openReader, type Reader } from "../db/reader.js";

/**
 * A reader for one feed or health run (src/db/reader.ts): on a SQLite file a
 * private read-only connection (going through Prisma's adapter costs twice a
 * bare read before any feed work, the bench's limit), on PostgreSQL the pool.
 * Every statement is one short batch, so no read transaction stays open
 * while a slow client drains.
 */
export type CatalogReader = Reader;

/**
 * Page cache of a feed's private SQLite connection. A feed reads each page
 * about once, in key order, and the operating system caches the file anyway;
 * SQLite's default here (16 MB, kept by the allocator after the connection
 * closes) was a quarter of the process's growth during a feed.
 */
const FEED_CACHE_KIB = 2048;

export function openCatalogReader(db: Db, options: { direct?: boolean } = {}): Promise<CatalogReader> {
  return openReader(db, { ...options, cacheKiB: FEED_CACHE_KIB });
}

export interface VariantRow {
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
  id: string;
}

// Every product id sorts after "", so the position and id of the first cursor never matter.
export const FIRST_CURSOR: VariantCursor = { productId: "", position: 0, id: "" };

/**
 * Variants that are not archived, after `cursor`, in (productId, position, id)
 * order so the variants of one product come together. The order is exactly
 * Variant_productId_position_id_idx, so each batch is one index range scan.
 * Whether the product is active is decided from readProducts(), once per
 * product: joining Product here cost a lookup per variant, and a join let
 * SQLite start from Product and sort the whole result for every batch, which
 * made reading quadratic. Held units come from readHeldUnits().
 */
export async function readVariantBatch(reader: CatalogReader, cursor: VariantCursor, limit: number): Promise<VariantRow[]> {
  const rows = await reader.rows(
    sql`SELECT v."id", v."productId", v."sku", v."option1", v."option2", v."option3", v."priceMinor", v."compareAtMinor",
            v."currency", v."stock", v."gtin", v."mpn", v."position"
       FROM "Variant" v
      WHERE v."archivedAt" IS NULL
        AND (v."productId", v."position", v."id") > (${cursor.productId}, CAST(${cursor.position} AS INTEGER), ${cursor.id})
      ORDER BY v."productId", v."position", v."id"
      LIMIT ${limit}`,
  );
  return rows.map((r) => ({
    id: r[0] as string,
    productId: r[1] as string,
    sku: r[2] as string,
    option1: r[3] as string | null,
    option2: r[4] as string | null,
    option3: r[5] as string | null,
    priceMinor: r[6] as number,
    compareAtMinor: r[7] as number | null,
    currency: r[8] as string,
    stock: r[9] as number,
    gtin: r[10] as string | null,
    mpn: r[11] as string | null,
    position: r[12] as number,
  }));
}

/**
 * Units in active, unexpired holds per variant at `now`: getHeldQuantities()
 * (catalog.service.ts), the same rule, read once per feed run. A feed is the
 * catalog as of the moment it was asked for, as its ETag is; a correlated
 * subquery per variant cost a fifth of the bare read, while this is one
 * short query whose rows are the variants held right now (checkouts in
 * progress and live claims), not the catalog. test/feeds-demo.test.ts holds
 * feed and product page to the same answer.
 */
export async function readHeldUnits(reader: CatalogReader, now: Date): Promise<Map<string, number>> {
  const rows = await reader.all<{ variantId: string; held: unknown }>(
    sql`SELECT h."variantId", sum(h."quantity") AS "held"
       FROM "StockHold" h
      WHERE h."status" = 'active' AND h."expiresAt" > ${now}
      GROUP BY h."variantId"`,
  );
  return new Map(rows.map((r) => [r.variantId, num(r.held)]));
}

/**
 * The product columns for a batch, once per product rather than once per
 * variant: a description is decoded one time, not five. The caller drops
 * inactive products; a `status` condition here made SQLite walk the status
 * index over every active product for each batch instead of looking ids up.
 */
export async function readProducts(reader: CatalogReader, productIds: string[]): Promise<ProductRow[]> {
  if (productIds.length === 0) return [];
  const rows = await reader.rows(
    sql`SELECT p."id", p."status", p."slug", p."title", p."description", p."brand", p."condition", p."googleCategory", p."identifierExists", p."optionNames",
            p."gender", p."ageGroup", p."color", p."size", rs."count" AS "reviewCount", rs."sum" AS "reviewSum"
       FROM "Product" p LEFT JOIN "RatingSummary" rs ON rs."productId" = p."id"
      WHERE p."id" IN (${join(productIds)})`,
  );
  return rows.map((r) => ({
    id: r[0] as string,
    status: r[1] as string,
    slug: r[2] as string,
    title: r[3] as string,
    description: r[4] as string,
    brand: r[5] as string,
    condition: r[6] as string,
    googleCategory: r[7] as string,
    identifierExists: r[8] as ProductRow["identifierExists"],
    optionNames: r[9] as string,
    gender: r[10] as string,
    ageGroup: r[11] as string,
    color: r[12] as string,
    size: r[13] as string,
    reviewCount: r[14] as ProductRow["reviewCount"],
    reviewSum: r[15] as ProductRow["reviewSum"],
  }));
}

export interface ImageRow {
  productId: string;
  variantId: string | null;
  storageKey: string;
  width: number;
  height: number;
}

/** Images of some products, in page order (position, then id). */
export async function readImages(reader: CatalogReader, productIds: string[]): Promise<ImageRow[]> {
  if (productIds.length === 0) return [];
  const rows = await reader.rows(
    sql`SELECT pi."productId", pi."variantId", m."storageKey", m."width", m."height"
       FROM "ProductImage" pi JOIN "Media" m ON m."id" = pi."mediaId"
      WHERE pi."productId" IN (${join(productIds)})
      ORDER BY pi."productId", pi."position", pi."id"`,
  );
  return rows.map((r) => ({ productId: r[0] as string, variantId: r[1] as string | null, storageKey: r[2] as string, width: r[3] as number, height: r[4] as number }));
}

/** Each product's first collection (by collection order), used as product_type. */
export async function readProductTypes(reader: CatalogReader, productIds: string[]): Promise<Map<string, string>> {
  if (productIds.length === 0) return new Map();
  const rows = await reader.all<{ productId: string; title: string }>(
    sql`SELECT cp."productId", c."title"
       FROM "CollectionProduct" cp JOIN "Collection" c ON c."id" = cp."collectionId"
      WHERE cp."productId" IN (${join(productIds)})
      ORDER BY cp."productId", c."position" DESC, c."id" DESC`,
  );
  // Ordered descending so the last write per product is its first collection.
  return new Map(rows.map((r) => [r.productId, r.title]));
}

/**
 * A cheap summary of everything a feed shows. Counts and sums of a per-row
 * hash (the rowid on SQLite, a hash of the key on PostgreSQL: see rowHash)
 * catch inserts and deletes (which leave no timestamp); max(updatedAt)
 * catches edits of products and variants, and the weighted sum of stock and
 * prices catches checkout's raw conditional updates, which do not touch
 * updatedAt; the active-hold set is taken at `now`, so it changes when a hold
 * is placed, released, or simply expires.
 */
export async function readCatalogFingerprint(db: Db, now: Date): Promise<string> {
  const d = dialectOf(db);
  const h = (alias: string, key?: string[]) => rowHash(d, alias, key);
  // It scans every catalog table: on a reader with a small page cache of its
  // own, not on Prisma's connection, whose cache would keep 16 MB of it.
  const reader = await openCatalogReader(db);
  let rows: Record<string, unknown>[];
  try {
    rows = await reader.all<Record<string, unknown>>(
      sql`SELECT
         (SELECT count(*) || '/' || coalesce(CAST(max(p."updatedAt") AS TEXT), '') || '/' || coalesce(sum(${h("p")}), 0) FROM "Product" p) AS "products",
         (SELECT count(*) || '/' || coalesce(CAST(max(v."updatedAt") AS TEXT), '') || '/' || coalesce(sum(${h("v")}), 0) || '/' ||
                 coalesce(sum(${h("v")} * (v."stock" * 7 + v."reserved" * 13) + v."priceMinor" + coalesce(v."compareAtMinor", 0) * 3), 0) FROM "Variant" v) AS "variants",
         (SELECT count(*) || '/' || coalesce(sum(${h("pi")} * 7 + pi."position" * 131 + ${h("m")} * 8191 + coalesce(length(pi."variantId"), 0)), 0)
            FROM "ProductImage" pi JOIN "Media" m ON m."id" = pi."mediaId") AS "images",
         (SELECT count(*) || '/' || coalesce(sum(${h("t", ["productId", "locale"])}), 0) || '/' || coalesce(sum(length(t."title") + length(t."description")), 0) FROM "ProductTranslation" t) AS "translations",
         (SELECT count(*) || '/' || coalesce(sum(${h("c")} * 31 + c."position" + length(c."title")), 0) FROM "Collection" c) AS "collections",
         (SELECT count(*) || '/' || coalesce(sum(${h("cp", ["collectionId", "productId"])} * 31 + cp."position"), 0) FROM "CollectionProduct" cp) AS "memberships",
         (SELECT count(*) || '/' || coalesce(sum(${h("rs", ["productId"])} * 31 + rs."count" * 7 + rs."sum"), 0) FROM "RatingSummary" rs) AS "ratings",
         (SELECT count(*) || '/' || coalesce(sum(${h("sh")} * 1000003 + sh."quantity"), 0) FROM "StockHold" sh WHERE sh."status" = 'active' AND sh."expiresAt" > ${now}) AS "holds"`,
    );
  } finally {
    reader.close();
  }
  return JSON.stringify(rows[0] ?? {}, (_key, value) => (typeof value === "bigint" ? String(value) : value));
}
