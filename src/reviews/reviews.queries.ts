/**
 * Raw SQL for the product page's reviews block. The page runs on every view,
 * so the block reads in one statement through the reader of
 * src/db/reader.ts (Prisma's per-query cost is several times the SQL here):
 * the page of reviews with photos and replies folded in as JSON, answered
 * questions, units sold, the who-can-review setting and the top-rated
 * collections. Each ordering follows an index on Review, ends with the
 * unique id, and no count is taken: totals come from RatingSummary.
 */
import type { Db } from "../db/client.js";
import { bool, date, dialectOf, empty, fromJson, jsonArray, nestedJson, num, raw, sql, type Dialect, type Sql } from "../db/dialect.js";
import { readerFor } from "../db/reader.js";
import type { ReviewSort } from "./reviews.schema.js";

export interface ReviewPhotoView {
  storageKey: string;
  width: number;
  height: number;
}

export interface PublicReview {
  id: string;
  rating: number;
  title: string;
  body: string;
  displayName: string;
  locale: string;
  verifiedBuyer: boolean;
  incentivized: boolean;
  helpfulCount: number;
  createdAt: Date;
  publishedAt: Date | null;
  photos: ReviewPhotoView[];
  reply: { body: string; createdAt: Date } | null;
}

export interface PublicQuestion {
  id: string;
  body: string;
  askerName: string;
  createdAt: Date;
  answers: { body: string; createdAt: Date }[];
}

// Each ordering ends with the unique id, so pages never overlap or skip a
// review when several share a timestamp (a CSV import writes many at once).
const SORT_KEYS: Record<ReviewSort, [column: string, direction: "ASC" | "DESC"][]> = {
  newest: [["createdAt", "DESC"], ["id", "DESC"]],
  highest: [["rating", "DESC"], ["createdAt", "DESC"], ["id", "DESC"]],
  lowest: [["rating", "ASC"], ["createdAt", "DESC"], ["id", "ASC"]],
  helpful: [["helpfulCount", "DESC"], ["createdAt", "DESC"], ["id", "DESC"]],
  photos: [["hasPhotos", "DESC"], ["createdAt", "DESC"], ["id", "DESC"]],
};

/** ORDER BY for a sort, on the table or on a subquery aliased `r`. */
function orderBy(sort: ReviewSort): Sql {
  return raw(SORT_KEYS[sort].map(([column, direction]) => `r."${column}" ${direction}`).join(", "));
}

function reviewColumns(d: Dialect): Sql {
  const photos = jsonArray(d, { storageKey: sql`m."storageKey"`, width: sql`m."width"`, height: sql`m."height"` }, sql`rp."position", rp."id"`);
  return sql`r."id", r."rating", r."title", r."body", r."displayName", r."locale", r."verifiedBuyer", r."incentivized",
            r."helpfulCount", r."createdAt", r."publishedAt", r."hasPhotos",
            CASE WHEN r."hasPhotos" THEN (
              SELECT ${photos} FROM "ReviewPhoto" rp JOIN "Media" m ON m."id" = rp."mediaId" WHERE rp."reviewId" = r."id"
            ) END AS "photos",
            (SELECT rr."body" FROM "ReviewReply" rr WHERE rr."reviewId" = r."id") AS "replyBody",
            (SELECT rr."createdAt" FROM "ReviewReply" rr WHERE rr."reviewId" = r."id") AS "replyAt"`;
}

export interface PageSpec {
  productId: string;
  sort: ReviewSort;
  star?: number;
  limit: number;
  offset: number;
}

/** One page of published reviews, in index order. */
function pageSql(d: Dialect, spec: PageSpec): Sql {
  return sql`SELECT ${reviewColumns(d)}
       FROM "Review" r
      WHERE r."productId" = ${spec.productId} AND r."status" = 'published' ${spec.star ? sql`AND r."rating" = ${spec.star}` : empty}
      ORDER BY ${orderBy(spec.sort)}
      LIMIT ${spec.limit} OFFSET ${spec.offset}`;
}

interface ReviewRow {
  id: string;
  rating: number | bigint;
  title: string;
  body: string;
  displayName: string;
  locale: string;
  verifiedBuyer: boolean | number | bigint;
  incentivized: boolean | number | bigint;
  helpfulCount: number | bigint;
  createdAt: Date | string;
  publishedAt: Date | string | null;
  /** JSON text from a plain query; already parsed when the row came inside a JSON array. */
  photos: string | ReviewPhotoView[] | null;
  replyBody: string | null;
  replyAt: Date | string | null;
}

/** One page of a product's published reviews, with photos and the merchant's reply. */
export async function readPublishedReviews(db: Db, input: PageSpec): Promise<PublicReview[]> {
  const rows = await (await readerFor(db)).all<ReviewRow>(pageSql(dialectOf(db), input));
  return rows.map(toPublicReview);
}

function toPublicReview(r: ReviewRow): PublicReview {
  return {
    id: r.id,
    rating: num(r.rating),
    title: r.title,
    body: r.body,
    displayName: r.displayName,
    locale: r.locale,
    verifiedBuyer: bool(r.verifiedBuyer),
    incentivized: bool(r.incentivized),
    helpfulCount: num(r.helpfulCount),
    createdAt: date(r.createdAt),
    publishedAt: r.publishedAt ? date(r.publishedAt) : null,
    photos: fromJson<ReviewPhotoView[]>(r.photos) ?? [],
    reply: r.replyBody ? { body: r.replyBody, createdAt: date(r.replyAt) } : null,
  };
}

function questionsSql(d: Dialect, input: { productId: string; limit: number }): Sql {
  const answers = jsonArray(d, { body: sql`a."body"`, createdAt: sql`a."createdAt"` }, sql`a."createdAt", a."id"`);
  const questions = jsonArray(
    d,
    { id: sql`q."id"`, body: sql`q."body"`, askerName: sql`q."askerName"`, createdAt: sql`q."createdAt"`, answers: sql`(SELECT ${answers} FROM "Answer" a WHERE a."questionId" = q."id")` },
    sql`q."answeredAt" DESC, q."id" DESC`,
  );
  return sql`SELECT ${questions}
      FROM (SELECT * FROM "Question" q0
             WHERE q0."productId" = ${input.productId} AND q0."status" = 'published' AND q0."answeredAt" IS NOT NULL
             ORDER BY q0."answeredAt" DESC, q0."id" DESC LIMIT ${input.limit}) q`;
}

function unitsSql(input: { productId: string; since: Date; until: Date }): Sql {
  return sql`SELECT SUM(ol."quantity")
      FROM "OrderLine" ol JOIN "Order" o ON o."id" = ol."orderId"
     WHERE ol."productId" = ${input.productId} AND o."paidAt" >= ${input.since} AND o."paidAt" < ${input.until}
       AND o."status" IN ('paid', 'fulfilled', 'partially_refunded')`;
}

/**
 * Everything the product page's reviews block reads, in one statement: the
 * page of reviews (when asked: only when there are any), answered questions
 * (newest answer first, with their answers), units sold on orders paid in
 * [since, until) (refunded and cancelled orders do not count), the stored
 * "who can review" setting (raw JSON, or null), and — when asked, with the
 * SQL from summary.ts — the collections in which the product is top rated.
 */
export async function readProductSocial(
  db: Db,
  input: { productId: string; questions: number; since: Date; until: Date; page?: PageSpec; topRated?: (d: Dialect) => Sql },
) {
  const d = dialectOf(db);
  // The aggregate repeats the page's ORDER BY: a subquery's order is not kept by the rows around it.
  const reviews = input.page
    ? sql`(SELECT ${jsonArray(
        d,
        {
          id: sql`r."id"`, rating: sql`r."rating"`, title: sql`r."title"`, body: sql`r."body"`, displayName: sql`r."displayName"`, locale: sql`r."locale"`,
          verifiedBuyer: sql`r."verifiedBuyer"`, incentivized: sql`r."incentivized"`, helpfulCount: sql`r."helpfulCount"`,
          createdAt: sql`r."createdAt"`, publishedAt: sql`r."publishedAt"`, photos: nestedJson(d, sql`r."photos"`), replyBody: sql`r."replyBody"`, replyAt: sql`r."replyAt"`,
        },
        orderBy(input.page.sort),
      )} FROM (${pageSql(d, input.page)}) r)`
    : sql`NULL`;
  const [row] = await (await readerFor(db)).all<{ reviews: unknown; questions: unknown; units: unknown; whoCanReview: string | null; topRated: unknown }>(
    sql`SELECT ${reviews} AS "reviews",
            (${questionsSql(d, { productId: input.productId, limit: input.questions })}) AS "questions",
            (${unitsSql(input)}) AS "units",
            (SELECT "value" FROM "Setting" WHERE "key" = 'reviews.whoCanReview') AS "whoCanReview",
            ${input.topRated ? sql`(${input.topRated(d)})` : sql`NULL`} AS "topRated"`,
  );
  return {
    reviews: (fromJson<ReviewRow[]>(row?.reviews) ?? []).map(toPublicReview),
    questions: toQuestions(fromJson<RawQuestion[]>(row?.questions) ?? []),
    unitsSold: num(row?.units),
    whoCanReview: row?.whoCanReview ?? null,
    topRatedIn: fromJson<{ slug: string; title: string }[]>(row?.topRated) ?? [],
  };
}

type RawQuestion = { id: string; body: string; askerName: string; createdAt: string; answers: { body: string; createdAt: string }[] };

function toQuestions(rows: RawQuestion[]): PublicQuestion[] {
  return rows.map((q) => ({
    id: q.id,
    body: q.body,
    askerName: q.askerName,
    createdAt: date(q.createdAt),
    answers: (fromJson<RawQuestion["answers"]>(q.answers) ?? []).map((a) => ({ body: a.body, createdAt: date(a.createdAt) })),
  }));
}
