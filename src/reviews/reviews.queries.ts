/**
 * Raw SQL for the product page's reviews block. The page runs on every view,
 * so the block reads in one statement on the read-only connection of
 * src/db/reader.ts (Prisma's per-query cost is several times the SQL here): the page of reviews with photos and replies folded in
 * as JSON, answered questions, units sold, the who-can-review setting and the
 * top-rated collections. Each ordering is read straight off an index on
 * Review, and no count is taken: totals come from RatingSummary.
 */
import type { Db } from "../db/client.js";
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

// The last key is the rowid, which every index carries as its hidden last
// column: with it each ordering is read straight off an index (no sort step),
// even 400 pages deep. "lowest" has its own index with createdAt descending.
const SORT_KEYS: Record<ReviewSort, [column: string, direction: "ASC" | "DESC"][]> = {
  newest: [["createdAt", "DESC"], ["rowid", "DESC"]],
  highest: [["rating", "DESC"], ["createdAt", "DESC"], ["rowid", "DESC"]],
  lowest: [["rating", "ASC"], ["createdAt", "DESC"], ["rowid", "ASC"]],
  helpful: [["helpfulCount", "DESC"], ["createdAt", "DESC"], ["rowid", "DESC"]],
  photos: [["hasPhotos", "DESC"], ["createdAt", "DESC"], ["rowid", "DESC"]],
};

/** ORDER BY for a sort; `rowid` names the rowid column ("rowid" on the table, "rid" on a subquery). */
function orderBy(sort: ReviewSort, rowid: string) {
  return SORT_KEYS[sort].map(([column, direction]) => `r.${column === "rowid" ? rowid : `"${column}"`} ${direction}`).join(", ");
}

const REVIEW_COLUMNS = `r."id", r."rating", r."title", r."body", r."displayName", r."locale", r."verifiedBuyer", r."incentivized",
            r."helpfulCount", r."createdAt", r."publishedAt", r."hasPhotos", r.rowid AS rid,
            CASE WHEN r."hasPhotos" THEN (
              SELECT json_group_array(json_object('storageKey', m."storageKey", 'width', m."width", 'height', m."height"))
                FROM (SELECT rp."mediaId" FROM "ReviewPhoto" rp WHERE rp."reviewId" = r."id" ORDER BY rp."position", rp."id") ph
                JOIN "Media" m ON m."id" = ph."mediaId"
            ) END AS photos,
            (SELECT rr."body" FROM "ReviewReply" rr WHERE rr."reviewId" = r."id") AS replyBody,
            (SELECT rr."createdAt" FROM "ReviewReply" rr WHERE rr."reviewId" = r."id") AS replyAt`;

export interface PageSpec {
  productId: string;
  sort: ReviewSort;
  star?: number;
  limit: number;
  offset: number;
}

/** One page of published reviews, in index order: the SQL and its parameters. */
function pageSql(spec: PageSpec) {
  return {
    sql: `SELECT ${REVIEW_COLUMNS}
       FROM "Review" r
      WHERE r."productId" = ? AND r."status" = 'published' ${spec.star ? `AND r."rating" = ?` : ""}
      ORDER BY ${orderBy(spec.sort, "rowid")}
      LIMIT ? OFFSET ?`,
    params: [spec.productId, ...(spec.star ? [spec.star] : []), spec.limit, spec.offset] as unknown[],
  };
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
  const { sql, params } = pageSql(input);
  const rows = await (await readerFor(db)).all<ReviewRow>(sql, params);
  return rows.map(toPublicReview);
}

function toPublicReview(r: ReviewRow): PublicReview {
  return {
    id: r.id,
    rating: Number(r.rating),
    title: r.title,
    body: r.body,
    displayName: r.displayName,
    locale: r.locale,
    verifiedBuyer: Boolean(Number(r.verifiedBuyer)),
    incentivized: Boolean(Number(r.incentivized)),
    helpfulCount: Number(r.helpfulCount),
    createdAt: new Date(r.createdAt),
    publishedAt: r.publishedAt ? new Date(r.publishedAt) : null,
    photos: typeof r.photos === "string" ? (JSON.parse(r.photos) as ReviewPhotoView[]) : (r.photos ?? []),
    reply: r.replyBody ? { body: r.replyBody, createdAt: new Date(r.replyAt!) } : null,
  };
}

const QUESTIONS_SQL = `SELECT json_group_array(json_object('id', q."id", 'body', q."body", 'askerName', q."askerName", 'createdAt', q."createdAt",
           'answers', (SELECT json_group_array(json_object('body', a."body", 'createdAt', a."createdAt"))
                         FROM (SELECT "body", "createdAt" FROM "Answer" WHERE "questionId" = q."id" ORDER BY "createdAt", "id") a))
           ORDER BY q."answeredAt" DESC, q."id" DESC)
      FROM (SELECT * FROM "Question" q0
             WHERE q0."productId" = ? AND q0."status" = 'published' AND q0."answeredAt" IS NOT NULL
             ORDER BY q0."answeredAt" DESC, q0."id" DESC LIMIT ?) q`;

const UNITS_SQL = `SELECT SUM(ol."quantity")
      FROM "OrderLine" ol JOIN "Order" o ON o."id" = ol."orderId"
     WHERE ol."productId" = ? AND o."paidAt" >= ? AND o."paidAt" < ? AND o."status" IN ('paid', 'fulfilled', 'partially_refunded')`;

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
  input: { productId: string; questions: number; since: Date; until: Date; page?: PageSpec; topRated?: { sql: string; params: unknown[] } },
) {
  const page = input.page ? pageSql(input.page) : null;
  // json_group_array(... ORDER BY ...) keeps the page's order explicitly.
  const reviewsSql = page
    ? `(SELECT json_group_array(json_object(
          'id', r."id", 'rating', r."rating", 'title', r."title", 'body', r."body", 'displayName', r."displayName", 'locale', r."locale",
          'verifiedBuyer', r."verifiedBuyer", 'incentivized', r."incentivized", 'helpfulCount', r."helpfulCount",
          'createdAt', r."createdAt", 'publishedAt', r."publishedAt", 'photos', json(r.photos), 'replyBody', r.replyBody, 'replyAt', r.replyAt)
          ORDER BY ${orderBy(input.page!.sort, "rid")})
        FROM (${page.sql}) r)`
    : "NULL";
  const [row] = await (await readerFor(db)).all<{ reviews: string | null; questions: string | null; units: number | bigint | null; whoCanReview: string | null; topRated: string | null }>(
    `SELECT ${reviewsSql} AS reviews,
            (${QUESTIONS_SQL}) AS questions,
            (${UNITS_SQL}) AS units,
            (SELECT "value" FROM "Setting" WHERE "key" = 'reviews.whoCanReview') AS whoCanReview,
            ${input.topRated ? `(${input.topRated.sql})` : "NULL"} AS topRated`,
    [...(page ? page.params : []), input.productId, input.questions, input.productId, input.since, input.until, ...(input.topRated ? input.topRated.params : [])],
  );
  return {
    reviews: row?.reviews ? (JSON.parse(row.reviews) as ReviewRow[]).map(toPublicReview) : [],
    questions: toQuestions(row?.questions ?? "[]"),
    unitsSold: Number(row?.units ?? 0),
    whoCanReview: row?.whoCanReview ?? null,
    topRatedIn: row?.topRated ? (JSON.parse(row.topRated) as { slug: string; title: string }[]) : [],
  };
}

function toQuestions(json: string): PublicQuestion[] {
  const rows = JSON.parse(json) as { id: string; body: string; askerName: string; createdAt: string; answers: { body: string; createdAt: string }[] }[];
  return rows.map((q) => ({
    id: q.id,
    body: q.body,
    askerName: q.askerName,
    createdAt: new Date(q.createdAt),
    answers: q.answers.map((a) => ({ body: a.body, createdAt: new Date(a.createdAt) })),
  }));
}
