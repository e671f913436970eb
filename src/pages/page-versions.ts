/**
 * What an anonymous page shows, read in one cheap statement: the page cache
 * (./page-cache.ts) keys rendered HTML by this row, so a write that changes
 * what a page shows changes its key on the very next request, on every
 * instance, with nothing to invalidate in process memory.
 *
 * Covered: prices and every other Prisma write to a product or variant
 * (their updatedAt), stock (summed, since checkout changes it in SQL
 * without touching updatedAt), active stock holds, published ratings
 * (RatingSummary, updated in the same transaction as every publish and
 * unpublish, so reviews are not counted here: 5,000 of them made the read
 * cost more than the page), question counts, product images, tags on posts (count, newest, placement, products
 * and variants), posts (updatedAt, what is published by now) and shop
 * settings. A live show's page: every column of the show (its `eventSeq`
 * moves with everything the host does that viewers see), its items, the
 * flash deals running now, answered questions, chapters, and the stock,
 * holds and prices of its products; a page served a little late catches up
 * through the event stream from the `eventSeq` it was rendered at.
 * Anything else (a translation edited on its own, a helpful vote, a reply)
 * shows when the entry's short lifetime ends (PAGE_CACHE ttlMs).
 */
import type { Deps } from "../deps.js";
import { empty, sql, type Sql } from "../db/dialect.js";
import { readerFor } from "../db/reader.js";

export type PageKind = "product" | "post" | "gallery" | "live";

/**
 * Stock, holds, prices and ratings of the variants of the products in
 * `products` (a subquery of product ids), or of the whole catalog (the
 * gallery: one pass over each table is cheaper than matching every tag).
 */
function catalogOf(products: Sql | null, now: Date): Sql {
  const of = (column: Sql) => (products ? sql`WHERE ${column} IN (${products})` : empty);
  const heldOf = products ? sql`AND v."productId" IN (${products})` : empty;
  return sql`(SELECT count(*) || '/' || coalesce(CAST(max(v."updatedAt") AS TEXT), '') || '/' || coalesce(sum(v."stock"), 0) || '/' || coalesce(sum(v."priceMinor"), 0) FROM "Variant" v ${of(sql`v."productId"`)}) AS "variants",
    (SELECT coalesce(sum(h."quantity"), 0) FROM "StockHold" h JOIN "Variant" v ON v."id" = h."variantId"
      WHERE h."status" = 'active' AND h."expiresAt" > ${now} ${heldOf}) AS "held",
    (SELECT max(p."updatedAt") FROM "Product" p ${of(sql`p."id"`)}) AS "productsAt",
    (SELECT coalesce(CAST(max(r."updatedAt") AS TEXT), '') || '/' || coalesce(sum(r."count" * 7 + r."sum"), 0) FROM "RatingSummary" r ${of(sql`r."productId"`)}) AS "ratings",
    (SELECT max(s."updatedAt") FROM "Setting" s) AS "settingsAt"`;
}

/** Tags of the posts in `posts` (a subquery of post ids): where they sit and what they point at. */
function tagsOf(posts: Sql | null): Sql {
  const where = posts ? sql`WHERE t."postId" IN (${posts})` : empty;
  return sql`(SELECT count(*) || '/' || coalesce(CAST(max(t."createdAt") AS TEXT), '') || '/' || coalesce(sum(coalesce(t."x", 0) + 3 * coalesce(t."y", 0) + 5 * coalesce(t."startSec", 0) + 7 * coalesce(t."endSec", 0)), 0)
      || '/' || count(DISTINCT t."variantId") || '/' || coalesce(min(t."variantId"), '') || '/' || coalesce(max(t."variantId"), '') || '/' || coalesce(min(t."productId"), '') || '/' || coalesce(max(t."productId"), '')
      FROM "PostTag" t ${where}) AS "tags"`;
}

function query(kind: PageKind, id: string, now: Date): Sql {
  switch (kind) {
    case "product":
      return sql`SELECT p."id", p."status", p."updatedAt",
          (SELECT count(*) FROM "Question" q WHERE q."productId" = p."id") AS "questions",
          (SELECT count(*) FROM "ProductImage" i WHERE i."productId" = p."id") AS "images",
          ${catalogOf(sql`p."id"`, now)}
        FROM "Product" p WHERE p."slug" = ${id}`;
    case "post": {
      const tagged = sql`SELECT t."productId" FROM "PostTag" t WHERE t."postId" = ${id}`;
      return sql`SELECT p."id", p."status", p."updatedAt", p."publishedAt", ${tagsOf(sql`${id}`)}, ${catalogOf(tagged, now)}
        FROM "Post" p WHERE p."id" = ${id}`;
    }
    case "live": {
      const products = sql`SELECT i."productId" FROM "LiveItem" i JOIN "LiveSession" ls ON ls."id" = i."liveSessionId" WHERE ls."code" = ${id}`;
      return sql`SELECT s."id", s."title", s."hostName", s."platform", s."streamUrl", s."status", s."startsAt", s."endsAt", s."startedAt", s."endedAt",
          s."holdMinutes", s."featuredProductId", s."featuredAt", s."replayUrl", s."pinnedMessage", s."eventSeq",
          (SELECT count(*) || '/' || coalesce(sum(i."position" + 3 * coalesce(i."livePriceMinor", -1) + 5 * coalesce(i."perBuyerLimit", -1) + 7 * coalesce(i."quantityCap", -1)
              + 11 * coalesce(i."followerPriceMinor", -1) + 13 * coalesce(i."followerMinDays", -1)), 0) || '/' || coalesce(CAST(max(i."featuredAt") AS TEXT), '')
            FROM "LiveItem" i WHERE i."liveSessionId" = s."id") AS "items",
          (SELECT count(*) || '/' || coalesce(CAST(max(d."endsAt") AS TEXT), '') || '/' || coalesce(sum(d."priceMinor" + 3 * d."unitCap" + 5 * d."perBuyerLimit"), 0)
            FROM "LiveFlashDeal" d WHERE d."liveSessionId" = s."id" AND d."startsAt" <= ${now} AND d."endsAt" > ${now}) AS "deals",
          (SELECT count(*) || '/' || coalesce(CAST(max(q."answeredAt") AS TEXT), '') || '/' || coalesce(sum(length(coalesce(q."answer", ''))), 0)
            FROM "LiveQuestion" q WHERE q."liveSessionId" = s."id" AND q."answeredAt" IS NOT NULL AND q."hiddenAt" IS NULL) AS "answers",
          (SELECT count(*) FROM "LiveFeature" f WHERE f."liveSessionId" = s."id") AS "chapters",
          (SELECT count(*) FROM "ProductImage" pi WHERE pi."productId" IN (${products})) AS "images",
          ${catalogOf(products, now)}
        FROM "LiveSession" s WHERE s."code" = ${id}`;
    }
    case "gallery":
      // Every tag of every post (a hidden post's tags too: cheaper than telling them apart, and harmless).
      return sql`SELECT (SELECT count(*) FROM "Post" p WHERE p."status" = 'published' AND (p."publishedAt" IS NULL OR p."publishedAt" <= ${now})) AS "posts",
          (SELECT max(p."updatedAt") FROM "Post" p) AS "postsAt",
          (SELECT count(*) FROM "CollectionProduct") AS "collected",
          ${tagsOf(null)}, ${catalogOf(null, now)}`;
  }
}

/**
 * The version of one page (a product slug, a post id, a live show's code;
 * the gallery ignores `id`), or null when there is no such product, post or
 * show (the route answers 404 itself).
 */
export async function readPageVersion(deps: Pick<Deps, "db" | "now">, kind: PageKind, id: string): Promise<string | null> {
  const reader = await readerFor(deps.db);
  const [row] = await reader.all<Record<string, unknown>>(query(kind, id, deps.now()));
  if (!row) return null;
  return JSON.stringify(Object.values(row), (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}
