/**
 * Raw SQL for the product page's reviews block. The page runs on every view,
 * so it reads in at most two round trips (the page of reviews with photos and
 * replies folded in as JSON; everything else in one more), each ordering is
 * read straight off an index on Review, and no count is taken: totals come
 * from RatingSummary.
 */
import type { Db } from "../db/client.js";
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

// The last key is the rowid, which every index carries as its hidden last
// column: with it each ordering is read straight off an index (no sort step),
// even 400 pages deep. "lowest" has its own index with createdAt descending.
const ORDER_BY: Record<ReviewSort, string> = {
  newest: `r."createdAt" DESC, r.rowid DESC`,
  highest: `r."rating" DESC, r."createdAt" DESC, r.rowid DESC`,
  lowest: `r."rating" ASC, r."createdAt" DESC, r.rowid ASC`,
  helpful: `r."helpfulCount" DESC, r."createdAt" DESC, r.rowid DESC`,
  photos: `r."hasPhotos" DESC, r."createdAt" DESC, r.rowid DESC`,
};

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
  photos: string | null;
  replyBody: string | null;
  replyAt: Date | string | null;
}

/** One page of a product's published reviews, with photos and the merchant's reply. */
export async function readPublishedReviews(db: Db, input: { productId: string; sort: ReviewSort; star?: number; limit: number; offset: number }): Promise<PublicReview[]> {
  const rows = await db.$queryRawUnsafe<ReviewRow[]>(
    `SELECT r."id", r."rating", r."title", r."body", r."displayName", r."locale", r."verifiedBuyer", r."incentivized",
            r."helpfulCount", r."createdAt", r."publishedAt",
            CASE WHEN r."hasPhotos" THEN (
              SELECT json_group_array(json_object('storageKey', m."storageKey", 'width', m."width", 'height', m."height"))
                FROM (SELECT rp."mediaId" FROM "ReviewPhoto" rp WHERE rp."reviewId" = r."id" ORDER BY rp."position", rp."id") ph
                JOIN "Media" m ON m."id" = ph."mediaId"
            ) END AS photos,
            rr."body" AS replyBody, rr."createdAt" AS replyAt
       FROM "Review" r LEFT JOIN "ReviewReply" rr ON rr."reviewId" = r."id"
      WHERE r."productId" = ? AND r."status" = 'published' ${input.star ? `AND r."rating" = ?` : ""}
      ORDER BY ${ORDER_BY[input.sort]}
      LIMIT ? OFFSET ?`,
    input.productId,
    ...(input.star ? [input.star] : []),
    input.limit,
    input.offset,
  );
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
    photos: r.photos ? (JSON.parse(r.photos) as ReviewPhotoView[]) : [],
    reply: r.replyBody ? { body: r.replyBody, createdAt: new Date(r.replyAt!) } : null,
  };
}

export interface PublicQuestion {
  id: string;
  body: string;
  askerName: string;
  createdAt: Date;
  answers: { body: string; createdAt: Date }[];
}

const QUESTIONS_SQL = `SELECT json_group_array(json_object('id', q."id", 'body', q."body", 'askerName', q."askerName", 'createdAt', q."createdAt",
           'answers', (SELECT json_group_array(json_object('body', a."body", 'createdAt', a."createdAt"))
                         FROM (SELECT "body", "createdAt" FROM "Answer" WHERE "questionId" = q."id" ORDER BY "createdAt", "id") a)))
      FROM (SELECT * FROM "Question" q0
             WHERE q0."productId" = ? AND q0."status" = 'published' AND q0."answeredAt" IS NOT NULL
             ORDER BY q0."answeredAt" DESC, q0."id" DESC LIMIT ?) q`;

const UNITS_SQL = `SELECT SUM(ol."quantity")
      FROM "OrderLine" ol JOIN "Order" o ON o."id" = ol."orderId"
     WHERE ol."productId" = ? AND o."paidAt" >= ? AND o."paidAt" < ? AND o."status" IN ('paid', 'fulfilled', 'partially_refunded')`;

/**
 * What the product page shows besides the reviews, in one round trip:
 * answered questions (newest answer first, with their answers), units sold
 * on orders paid in [since, until) (refunded and cancelled orders do not
 * count), and the stored "who can review" setting (raw JSON, or null).
 */
export async function readProductSocial(db: Db, input: { productId: string; questions: number; since: Date; until: Date }) {
  const [row] = await db.$queryRawUnsafe<{ questions: string; units: number | bigint | null; whoCanReview: string | null }[]>(
    `SELECT (${QUESTIONS_SQL}) AS questions, (${UNITS_SQL}) AS units,
            (SELECT "value" FROM "Setting" WHERE "key" = 'reviews.whoCanReview') AS whoCanReview`,
    input.productId,
    input.questions,
    input.productId,
    input.since,
    input.until,
  );
  return {
    questions: toQuestions(row?.questions ?? "[]"),
    unitsSold: Number(row?.units ?? 0),
    whoCanReview: row?.whoCanReview ?? null,
  };
}

export interface PublicQuestion {
  id: string;
  body: string;
  askerName: string;
  createdAt: Date;
  answers: { body: string; createdAt: Date }[];
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
