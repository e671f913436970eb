/**
 * Raw SQL for the product page's reviews block. The page runs on every view,
 * so each list is one query (photos and replies folded in with JSON), each
 * ordering is served by an index on Review (productId, status, <sort key>,
 * createdAt), and no count is taken: totals come from RatingSummary.
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

const ORDER_BY: Record<ReviewSort, string> = {
  newest: `r."createdAt" DESC, r."id" DESC`,
  highest: `r."rating" DESC, r."createdAt" DESC, r."id" DESC`,
  lowest: `r."rating" ASC, r."createdAt" DESC, r."id" DESC`,
  helpful: `r."helpfulCount" DESC, r."createdAt" DESC, r."id" DESC`,
  photos: `r."hasPhotos" DESC, r."createdAt" DESC, r."id" DESC`,
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

/** Answered, published questions of a product, newest first, with their answers. */
export async function readAnsweredQuestions(db: Db, input: { productId: string; limit: number }): Promise<PublicQuestion[]> {
  const rows = await db.$queryRawUnsafe<{ id: string; body: string; askerName: string; createdAt: Date | string; answers: string }[]>(
    `SELECT q."id", q."body", q."askerName", q."createdAt",
            (SELECT json_group_array(json_object('body', a."body", 'createdAt', a."createdAt"))
               FROM (SELECT "body", "createdAt" FROM "Answer" WHERE "questionId" = q."id" ORDER BY "createdAt", "id") a) AS answers
       FROM "Question" q
      WHERE q."productId" = ? AND q."status" = 'published' AND q."answeredAt" IS NOT NULL
      ORDER BY q."answeredAt" DESC, q."id" DESC
      LIMIT ?`,
    input.productId,
    input.limit,
  );
  return rows.map((q) => ({
    id: q.id,
    body: q.body,
    askerName: q.askerName,
    createdAt: new Date(q.createdAt),
    answers: (JSON.parse(q.answers) as { body: string; createdAt: string }[]).map((a) => ({ body: a.body, createdAt: new Date(a.createdAt) })),
  }));
}

/** Units of a product on orders paid in [since, until): refunded and cancelled orders do not count. */
export async function readUnitsSold(db: Db, input: { productId: string; since: Date; until: Date }): Promise<number> {
  const [row] = await db.$queryRawUnsafe<{ units: number | bigint | null }[]>(
    `SELECT SUM(ol."quantity") AS units
       FROM "OrderLine" ol JOIN "Order" o ON o."id" = ol."orderId"
      WHERE ol."productId" = ? AND o."paidAt" >= ? AND o."paidAt" < ? AND o."status" IN ('paid', 'fulfilled', 'partially_refunded')`,
    input.productId,
    input.since,
    input.until,
  );
  return Number(row?.units ?? 0);
}
