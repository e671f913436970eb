/**
 * The rating summary per product (count, sum, 1–5 histogram) and the status
 * changes that move it.
 *
 * Every publish and unpublish goes through `moveReviewInTx`, which changes the
 * review's status with a conditional update (`WHERE status = <what we read>`)
 * and adjusts RatingSummary in the same transaction only when that update
 * changed a row. So publishing an already-published review, or two admins
 * clicking at once, can never count a review twice or take it away twice, and
 * pages read the summary instead of recomputing it.
 */
import type { Db, Prisma } from "../db/client.js";
import { empty, ident, jsonArray, num, sql, type Dialect } from "../db/dialect.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import type { ReviewStatus } from "./reviews.schema.js";

type Tx = Prisma.TransactionClient;

export interface SummaryCounts {
  count: number;
  sum: number;
  star1: number;
  star2: number;
  star3: number;
  star4: number;
  star5: number;
}

export const EMPTY_SUMMARY: SummaryCounts = { count: 0, sum: 0, star1: 0, star2: 0, star3: 0, star4: 0, star5: 0 };
const STAR_COLUMNS = ["star1", "star2", "star3", "star4", "star5"] as const;

// Bumped on every summary change in this process, so cached priors (below) are never stale here.
let summaryVersion = 0;

/**
 * Moves a review to another status and keeps its product's summary in step.
 * Returns whether this call made the change; a call that finds the review
 * already there, or loses a race to another call, changes nothing.
 */
export async function moveReviewInTx(tx: Tx, deps: Pick<Deps, "now">, input: { reviewId: string; to: ReviewStatus }) {
  const review = await tx.review.findUnique({ where: { id: input.reviewId }, select: { id: true, status: true, productId: true, rating: true, publishedAt: true } });
  if (!review) throw AppError.notFound("review");
  const from = review.status as ReviewStatus;
  if (from === input.to) return { changed: false as const, from, review };
  const now = deps.now();
  const moved = await tx.review.updateMany({
    where: { id: review.id, status: from },
    data: { status: input.to, ...(input.to === "published" ? { publishedAt: review.publishedAt ?? now } : {}) },
  });
  if (moved.count !== 1) return { changed: false as const, from, review };
  if (input.to === "published") await adjustSummaryInTx(tx, { productId: review.productId, rating: review.rating, delta: 1, at: now });
  else if (from === "published") await adjustSummaryInTx(tx, { productId: review.productId, rating: review.rating, delta: -1, at: now });
  return { changed: true as const, from, review };
}

/** Adds (or removes) one review's stars to its product's summary with a single upsert. */
async function adjustSummaryInTx(tx: Tx, input: { productId: string; rating: number; delta: 1 | -1; at: Date }) {
  if (!Number.isInteger(input.rating) || input.rating < 1 || input.rating > 5) throw new Error(`Review rating out of range: ${input.rating}`);
  const column = STAR_COLUMNS[input.rating - 1]!;
  // The histogram column is picked from a fixed list, never from input text.
  // The old value is table-qualified ("RatingSummary"."count"): PostgreSQL
  // requires it in ON CONFLICT … DO UPDATE, SQLite accepts it.
  const star = ident(column);
  await tx.$executeRaw(sql`INSERT INTO "RatingSummary" ("productId", "count", "sum", ${star}, "updatedAt")
     VALUES (${input.productId}, ${input.delta}, ${input.delta * input.rating}, ${input.delta}, ${input.at})
     ON CONFLICT ("productId") DO UPDATE SET
       "count" = "RatingSummary"."count" + excluded."count",
       "sum" = "RatingSummary"."sum" + excluded."sum",
       ${star} = "RatingSummary".${star} + excluded.${star},
       "updatedAt" = excluded."updatedAt"`);
  summaryVersion++;
}

/** Average to one decimal and the histogram with percentages, for pages and feeds. */
export function describeSummary(summary: SummaryCounts | null) {
  const s = summary ?? EMPTY_SUMMARY;
  const average = s.count > 0 ? Math.round((s.sum / s.count) * 10) / 10 : 0;
  const histogram = [5, 4, 3, 2, 1].map((stars) => {
    const count = s[STAR_COLUMNS[stars - 1]!];
    const percent = s.count > 0 ? Math.round((count / s.count) * 100) : 0;
    // Bars are drawn by CSS classes in 5% steps: the CSP forbids inline widths.
    return { stars, count, percent, step: Math.round(percent / 5) * 5 };
  });
  return { count: s.count, sum: s.sum, average, histogram };
}

// ───────────── Bayesian average ─────────────

/** How many "average" reviews every product starts with: a product needs several good ones to outrank a well-reviewed one. */
export const PRIOR_WEIGHT = 5;
/** The prior mean when the shop has no reviews yet: the middle of the scale. */
export const NEUTRAL_MEAN = 3;

export interface Prior {
  mean: number;
  weight: number;
}

/**
 * (weight × mean + sum of stars) / (weight + count): the product's average
 * pulled towards the shop-wide mean, less the more reviews it has. One 5★
 * review does not beat forty reviews averaging 4.8.
 */
export function bayesianAverage(summary: { count: number; sum: number }, prior: Prior): number {
  return (prior.weight * prior.mean + summary.sum) / (prior.weight + summary.count);
}

const priorCache = new WeakMap<Db, { version: number; at: number; prior: Prior }>();
const PRIOR_TTL_MS = 60_000;

/** The shop-wide mean of published stars, cached until a summary changes (or a minute passes, for other processes). */
export async function getRatingPrior(deps: Pick<Deps, "db">): Promise<Prior> {
  const cached = priorCache.get(deps.db);
  if (cached && cached.version === summaryVersion && Date.now() - cached.at < PRIOR_TTL_MS) return cached.prior;
  const [row] = await deps.db.$queryRaw<{ total: unknown; stars: unknown }[]>(sql`SELECT SUM("count") AS "total", SUM("sum") AS "stars" FROM "RatingSummary"`);
  const total = num(row?.total);
  const prior = { mean: total > 0 ? num(row?.stars) / total : NEUTRAL_MEAN, weight: PRIOR_WEIGHT };
  priorCache.set(deps.db, { version: summaryVersion, at: Date.now(), prior });
  return prior;
}

/** "Top rated in <collection>" needs at least this many published reviews. */
export const TOP_RATED_MIN_REVIEWS = 3;

/**
 * Active products ordered by Bayesian average (SQL computes the same formula
 * as `bayesianAverage`), optionally within one collection.
 */
export async function listTopRatedProducts(deps: Pick<Deps, "db">, input: { collectionId?: string; limit: number; minReviews?: number }) {
  const prior = await getRatingPrior(deps);
  const rows = await deps.db.$queryRaw<{ productId: string; count: unknown; sum: unknown }[]>(
    sql`SELECT rs."productId" AS "productId", rs."count" AS "count", rs."sum" AS "sum"
       FROM "RatingSummary" rs JOIN "Product" p ON p."id" = rs."productId"
      WHERE p."status" = 'active' AND rs."count" >= ${input.minReviews ?? 1}
        ${input.collectionId ? sql`AND rs."productId" IN (SELECT "productId" FROM "CollectionProduct" WHERE "collectionId" = ${input.collectionId})` : empty}
      ORDER BY ${bayesianSql(prior)} DESC, rs."count" DESC, rs."productId"
      LIMIT ${input.limit}`,
  );
  return rows.map((r) => {
    const summary = { count: num(r.count), sum: num(r.sum) };
    return { productId: r.productId, ...summary, score: bayesianAverage(summary, prior) };
  });
}

/** bayesianAverage() in SQL over RatingSummary `rs`; the prior is cast so PostgreSQL knows the parameters' type. */
function bayesianSql(prior: Prior) {
  const weight = sql`CAST(${prior.weight} AS DOUBLE PRECISION)`;
  return sql`(${weight} * CAST(${prior.mean} AS DOUBLE PRECISION) + rs."sum") / (${weight} + rs."count")`;
}

/**
 * SQL (for readProductSocial) giving, as a JSON array of {slug, title}, the
 * collections of a product in which it is the top-rated active product (same
 * formula as bayesianAverage, at least TOP_RATED_MIN_REVIEWS reviews).
 */
export function topRatedCollectionsSql(input: { productId: string; prior: Prior }) {
  return (d: Dialect) => sql`SELECT ${jsonArray(d, { slug: sql`c."slug"`, title: sql`c."title"` }, sql`c."position", c."slug"`)}
       FROM "CollectionProduct" mine JOIN "Collection" c ON c."id" = mine."collectionId"
      WHERE mine."productId" = ${input.productId}
        AND (SELECT rs."productId" FROM "CollectionProduct" cp
               JOIN "RatingSummary" rs ON rs."productId" = cp."productId"
               JOIN "Product" p ON p."id" = cp."productId"
              WHERE cp."collectionId" = mine."collectionId" AND p."status" = 'active' AND rs."count" >= ${TOP_RATED_MIN_REVIEWS}
              ORDER BY ${bayesianSql(input.prior)} DESC, rs."count" DESC, rs."productId"
              LIMIT 1) = mine."productId"`;
}

/**
 * Adds each product's published rating (from RatingSummary, one query) to
 * resolved post tags, so tag cards show review counts like product cards.
 */
export async function withTagRatings<T extends { productId: string | null }>(deps: Pick<Deps, "db">, byPost: Map<string, T[]>) {
  const ids = [...new Set([...byPost.values()].flat().flatMap((t) => (t.productId ? [t.productId] : [])))];
  const rows = ids.length ? await deps.db.ratingSummary.findMany({ where: { productId: { in: ids }, count: { gt: 0 } } }) : [];
  const ratings = new Map(rows.map((r) => [r.productId, { average: Math.round((r.sum / r.count) * 10) / 10, count: r.count }]));
  return new Map([...byPost].map(([postId, tags]) => [postId, tags.map((t) => ({ ...t, rating: (t.productId && ratings.get(t.productId)) || null }))]));
}
