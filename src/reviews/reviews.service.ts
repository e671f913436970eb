import { lazyModule } from "../lazy.js";
import type Sharp from "sharp";
import { recordAudit, type Actor } from "../audit/audit.service.js";
import type { Prisma } from "../db/client.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import type { Locale } from "../i18n/translate.js";
import { mediaPath } from "../media/media.paths.js";
import { storeImage } from "../media/media.service.js";
import { contentHashOf, flagSummary, moderateContent, type ModerationContent, type RejectReason } from "./moderation.js";
import { readProductSocial, type PublicReview } from "./reviews.queries.js";
import { REVIEW_LIMITS, REVIEW_SORTS, ReviewListQuery, type ModerateInput, type ReviewInput, type ReviewStatus } from "./reviews.schema.js";
import { getReviewSettings, parseSetting } from "./settings.js";
import { describeSummary, getRatingPrior, moveReviewInTx, TOP_RATED_MIN_REVIEWS, topRatedCollectionsSql, type SummaryCounts } from "./summary.js";

const loadSharp = lazyModule<typeof Sharp>("sharp");

export const REVIEWS_PER_PAGE = 10;
const QUESTIONS_ON_PAGE = 5;
const WEEK_MS = 7 * 24 * 3600 * 1000;

/** Where a review came from. Only a review-request link can make a verified buyer. */
export type ReviewOrigin =
  | { kind: "web" }
  | { kind: "request"; requestId: string; orderId: string; orderLineId: string; variantId: string | null; incentive: boolean };

/**
 * The words of a submission, in the shape moderation reads. The stars are
 * left out here, on purpose and in one place, so no filter can see them.
 */
export function toModerationContent(input: Pick<ReviewInput, "title" | "body" | "displayName">, isDuplicate: boolean): ModerationContent {
  return { fields: { title: input.title, body: input.body, displayName: input.displayName }, isDuplicate };
}

/**
 * Saves a shopper's review. Everything that can refuse it (product, who may
 * review, the variant, the photos, a second review of the same order line)
 * is checked before anything is written; photos are re-encoded next; then the
 * review, its photos, its moderation record and — when the filters let it
 * through and auto-publish is on — its place in the rating summary are written
 * in one transaction.
 */
export async function submitReview(deps: Deps, input: { productId: string; review: ReviewInput; photos: Buffer[]; locale: Locale; origin: ReviewOrigin }) {
  const product = await deps.db.product.findUnique({ where: { id: input.productId }, include: { variants: { select: { id: true } } } });
  if (!product || product.status !== "active") throw AppError.notFound("product");
  const settings = await getReviewSettings(deps.db);
  const r = input.review;

  if (input.origin.kind === "web" && settings.whoCanReview === "verified") {
    throw new AppError("reviews_verified_only", 403, "This shop publishes reviews from buyers only: use the review link in your order email.");
  }
  let variantId: string | null = null;
  if (input.origin.kind === "request") {
    variantId = input.origin.variantId;
    const done = await deps.db.review.findUnique({ where: { orderLineId: input.origin.orderLineId }, select: { id: true } });
    if (done) throw alreadyReviewed();
  } else if (r.variantId) {
    if (!product.variants.some((v) => v.id === r.variantId)) {
      throw AppError.validation("variantId: not an option of this product.", [{ field: "variantId", message: "not an option of this product" }]);
    }
    variantId = r.variantId;
  }
  if (input.photos.length > REVIEW_LIMITS.photos) {
    throw AppError.validation(`photos: at most ${REVIEW_LIMITS.photos} photos.`, [{ field: "photos", message: `at most ${REVIEW_LIMITS.photos}` }]);
  }
  await assertReadableImages(input.photos);

  const contentHash = contentHashOf(r);
  const isDuplicate = contentHash !== "" && (await deps.db.review.count({ where: { contentHash } })) > 0;
  const decision = moderateContent(toModerationContent(r, isDuplicate), settings);

  const media: { id: string }[] = [];
  for (const [i, bytes] of input.photos.entries()) {
    media.push(await storeImage(deps, { bytes, alt: `${decision.fields.displayName}: ${product.title}`.slice(0, 300), field: `photos.${i}` }));
  }

  const origin = input.origin;
  try {
    return await deps.db.$transaction(async (tx) => {
      const created = await tx.review.create({
        data: {
          productId: product.id,
          variantId,
          orderId: origin.kind === "request" ? origin.orderId : null,
          orderLineId: origin.kind === "request" ? origin.orderLineId : null,
          rating: r.rating,
          title: decision.fields.title!,
          body: decision.fields.body!,
          displayName: decision.fields.displayName!,
          email: r.email ?? null,
          locale: r.locale ?? input.locale,
          status: "pending",
          verifiedBuyer: origin.kind === "request",
          incentivized: r.incentivized || (origin.kind === "request" && origin.incentive),
          source: origin.kind,
          contentHash,
          hasPhotos: media.length > 0,
          flags: flagSummary(decision.flags),
          createdAt: deps.now(),
          photos: { create: media.map((m, position) => ({ mediaId: m.id, position })) },
        },
      });
      if (decision.flags.length > 0) {
        await recordAudit(tx, {
          actor: { type: "system" },
          action: decision.status === "pending" ? "review.hold" : "review.censor",
          entityType: "review",
          entityId: created.id,
          rule: flagSummary(decision.flags),
          details: { flags: decision.flags },
        });
      }
      if (decision.status === "published") await moveReviewInTx(tx, deps, { reviewId: created.id, to: "published" });
      if (origin.kind === "request") await tx.reviewRequest.updateMany({ where: { id: origin.requestId, usedAt: null }, data: { usedAt: deps.now() } });
      return { id: created.id, status: decision.status, flags: decision.flags };
    });
  } catch (err) {
    // Two submissions of the same order line at once: the unique index decides.
    if ((err as { code?: string }).code === "P2002") throw alreadyReviewed();
    throw err;
  }
}

function alreadyReviewed() {
  return new AppError("already_reviewed", 409, "This item from your order already has a review. Each item bought can be reviewed once.", [{ field: "orderLineId", message: "already reviewed" }]);
}

/** Refuses the whole submission before any photo is stored if one of them is not an image. */
async function assertReadableImages(photos: Buffer[]) {
  for (const [i, bytes] of photos.entries()) {
    const field = `photos.${i}`;
    let ok = false;
    try {
      const meta = await loadSharp()(bytes, { limitInputPixels: 40_000_000 }).metadata();
      ok = !!meta.width && !!meta.height;
    } catch {
      ok = false;
    }
    if (!ok) throw AppError.validation(`${field}: this file is not an image we can read (use JPEG, PNG, WebP or AVIF).`, [{ field, message: "not an image" }]);
  }
}

/**
 * Publishes, rejects or unpublishes a review. Rejecting and unpublishing need
 * a reason from the fixed list of content rules; the audit log records who,
 * when and which rule. Repeating an action changes nothing and is not an error.
 */
export async function moderateReview(deps: Deps, input: { reviewId: string; action: ModerateInput["action"]; reason?: RejectReason; note?: string; actor: Actor }) {
  if (input.action !== "publish" && !input.reason) {
    throw AppError.validation("reason: choose the rule this review breaks.", [{ field: "reason", message: "required to reject or unpublish" }]);
  }
  return deps.db.$transaction(async (tx) => {
    const current = await tx.review.findUnique({ where: { id: input.reviewId }, select: { status: true } });
    if (!current) throw AppError.notFound("review");
    if (input.action === "unpublish" && current.status !== "published") {
      throw AppError.conflict(`This review is ${current.status}, not published; nothing to unpublish.`);
    }
    const to: ReviewStatus = input.action === "publish" ? "published" : "rejected";
    const moved = await moveReviewInTx(tx, deps, { reviewId: input.reviewId, to });
    if (moved.changed) {
      await recordAudit(tx, {
        actor: input.actor,
        action: input.action === "publish" ? "review.publish" : moved.from === "published" ? "review.unpublish" : "review.reject",
        entityType: "review",
        entityId: input.reviewId,
        rule: input.action === "publish" ? undefined : input.reason,
        details: { from: moved.from, to, ...(input.note ? { note: input.note } : {}) },
      });
    }
    return { changed: moved.changed, status: to };
  });
}

/** Sets, replaces or (with an empty body) removes the merchant's public reply. */
export async function replyToReview(deps: Deps, input: { reviewId: string; body: string; actor: Actor }) {
  return deps.db.$transaction(async (tx) => {
    const review = await tx.review.findUnique({ where: { id: input.reviewId }, select: { id: true } });
    if (!review) throw AppError.notFound("review");
    if (input.body === "") {
      await tx.reviewReply.deleteMany({ where: { reviewId: review.id } });
    } else {
      await tx.reviewReply.upsert({ where: { reviewId: review.id }, create: { reviewId: review.id, body: input.body, createdAt: deps.now() }, update: { body: input.body } });
    }
    await recordAudit(tx, { actor: input.actor, action: input.body === "" ? "review.reply_remove" : "review.reply", entityType: "review", entityId: review.id });
    return tx.reviewReply.findUnique({ where: { reviewId: review.id } });
  });
}

/** Adds the "incentivized" label. There is no way to remove it: a disclosure is never taken back. */
export async function markReviewIncentivized(deps: Deps, input: { reviewId: string; actor: Actor }) {
  return deps.db.$transaction(async (tx) => {
    const changed = await tx.review.updateMany({ where: { id: input.reviewId, incentivized: false }, data: { incentivized: true } });
    if (changed.count === 0 && !(await tx.review.findUnique({ where: { id: input.reviewId }, select: { id: true } }))) throw AppError.notFound("review");
    if (changed.count === 1) await recordAudit(tx, { actor: input.actor, action: "review.incentivized", entityType: "review", entityId: input.reviewId });
    return { changed: changed.count === 1 };
  });
}

/**
 * One helpful vote per visitor per review: the (review, voter) primary key
 * refuses a second one, and the counter moves only with a new vote row.
 */
export async function voteReviewHelpful(deps: Deps, input: { reviewId: string; voterKey: string }) {
  try {
    return await deps.db.$transaction(async (tx) => {
      const review = await tx.review.findUnique({ where: { id: input.reviewId }, select: { status: true, product: { select: { slug: true } } } });
      if (!review || review.status !== "published") throw AppError.notFound("review");
      await tx.reviewVote.create({ data: { reviewId: input.reviewId, voterKey: input.voterKey, createdAt: deps.now() } });
      const updated = await tx.review.update({ where: { id: input.reviewId }, data: { helpfulCount: { increment: 1 } }, select: { helpfulCount: true } });
      return { helpfulCount: updated.helpfulCount, productSlug: review.product.slug };
    });
  } catch (err) {
    if ((err as { code?: string }).code === "P2002") throw new AppError("already_voted", 409, "You have already marked this review as helpful.");
    throw err;
  }
}

/**
 * Everything the product page shows below the product: the summary and
 * histogram (read from RatingSummary, never counted), one page of reviews,
 * answered questions, and the real-data signals. `query` is the raw page
 * query string; bad values fall back to the defaults.
 */
export async function getProductReviewsBlock(deps: Deps, input: { productId: string; summary: SummaryCounts | null; query?: unknown }) {
  const options = ReviewListQuery.parse(input.query ?? {});
  const summary = describeSummary(input.summary);
  const total = options.rstar ? summary.histogram.find((h) => h.stars === options.rstar)!.count : summary.count;
  const pages = Math.max(1, Math.ceil(total / REVIEWS_PER_PAGE));
  const page = Math.min(options.rpage, pages);
  const now = deps.now();
  // The shop-wide mean is cached (summary.ts); everything else is one statement.
  const prior = summary.count >= TOP_RATED_MIN_REVIEWS ? await getRatingPrior(deps) : null;
  const social = await readProductSocial(deps.db, {
    productId: input.productId,
    questions: QUESTIONS_ON_PAGE,
    since: new Date(now.getTime() - WEEK_MS),
    until: now,
    page: total > 0 ? { productId: input.productId, sort: options.rsort, star: options.rstar, limit: REVIEWS_PER_PAGE, offset: (page - 1) * REVIEWS_PER_PAGE } : undefined,
    topRated: prior ? topRatedCollectionsSql({ productId: input.productId, prior }) : undefined,
  });
  const { reviews, topRatedIn } = social;
  const soldThisWeek = social.unitsSold;
  const whoCanReview = parseSetting("whoCanReview", social.whoCanReview);
  return {
    summary,
    reviews,
    sort: options.rsort,
    /** The sort for links: empty when it is the default, so URLs stay short. */
    sortParam: options.rsort === "newest" ? "" : options.rsort,
    star: options.rstar ?? null,
    notice: options.review ? `reviews.notice.${options.review}` : options.question ? "questions.notice.asked" : options.voted ? "reviews.notice.voted" : null,
    page,
    pages,
    paged: pages > 1,
    prevPage: page > 1 ? page - 1 : null,
    nextPage: page < pages ? page + 1 : null,
    filtered: total,
    sorts: REVIEW_SORTS.map((value) => ({ value, selected: value === options.rsort })),
    starFilters: [5, 4, 3, 2, 1].map((value) => ({ value, selected: value === options.rstar })),
    questions: social.questions,
    soldThisWeek,
    topRatedIn,
    hasSignals: soldThisWeek > 0 || topRatedIn.length > 0,
    canReview: whoCanReview === "anyone",
  };
}

export type ProductReviewsBlock = Awaited<ReturnType<typeof getProductReviewsBlock>>;

/** Admin queue: one status (or all), newest first, with what the filters flagged. */
export async function listReviewsForAdmin(deps: Deps, input: { status: ReviewStatus | "all"; q?: string; productId?: string; cursor?: string; limit: number }) {
  const q = input.q?.trim();
  const rows = await deps.db.review.findMany({
    where: {
      ...(input.status === "all" ? {} : { status: input.status }),
      ...(input.productId ? { productId: input.productId } : {}),
      ...(q ? { OR: [{ body: { contains: q } }, { title: { contains: q } }, { displayName: { contains: q } }, { email: { contains: q } }] } : {}),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit + 1,
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
    include: {
      product: { select: { id: true, slug: true, title: true } },
      photos: { orderBy: [{ position: "asc" }, { id: "asc" }], include: { media: { select: { storageKey: true, width: true, height: true } } } },
      reply: true,
    },
  });
  const counts = await deps.db.review.groupBy({ by: ["status"], _count: { _all: true } });
  const page = rows.slice(0, input.limit);
  return {
    items: page.map(toAdminReview),
    nextCursor: rows.length > input.limit ? page[page.length - 1]?.id : undefined,
    counts: Object.fromEntries(counts.map((c) => [c.status, c._count._all])) as Record<string, number>,
  };
}

type AdminRow = Prisma.ReviewGetPayload<{ include: { product: { select: { id: true; slug: true; title: true } }; photos: { include: { media: { select: { storageKey: true; width: true; height: true } } } }; reply: true } }>;

function toAdminReview(r: AdminRow) {
  return {
    id: r.id,
    product: r.product,
    variantId: r.variantId,
    orderId: r.orderId,
    rating: r.rating,
    title: r.title,
    body: r.body,
    displayName: r.displayName,
    email: r.email,
    locale: r.locale,
    status: r.status as ReviewStatus,
    verifiedBuyer: r.verifiedBuyer,
    incentivized: r.incentivized,
    source: r.source,
    flags: r.flags ? r.flags.split(",") : [],
    helpfulCount: r.helpfulCount,
    createdAt: r.createdAt,
    publishedAt: r.publishedAt,
    photos: r.photos.map((p) => p.media),
    reply: r.reply ? { body: r.reply.body, createdAt: r.reply.createdAt, updatedAt: r.reply.updatedAt } : null,
  };
}

/** One review with its moderation history (oldest first). */
export async function getReviewForAdmin(deps: Deps, input: { reviewId: string }) {
  const review = await deps.db.review.findUnique({
    where: { id: input.reviewId },
    include: {
      product: { select: { id: true, slug: true, title: true } },
      photos: { orderBy: [{ position: "asc" }, { id: "asc" }], include: { media: { select: { storageKey: true, width: true, height: true } } } },
      reply: true,
    },
  });
  if (!review) return null;
  const history = await deps.db.auditLog.findMany({ where: { entityType: "review", entityId: review.id }, orderBy: [{ at: "asc" }, { id: "asc" }] });
  return { ...toAdminReview(review), history: history.map(toAuditEntry) };
}

export function toAuditEntry(a: { id: string; at: Date; actorType: string; actorId: string | null; action: string; entityType: string; entityId: string | null; rule: string | null; details: string }) {
  let details: Record<string, unknown> = {};
  try {
    details = JSON.parse(a.details) as Record<string, unknown>;
  } catch {
    details = {};
  }
  return { id: a.id, at: a.at, actorType: a.actorType, actorId: a.actorId, action: a.action, entityType: a.entityType, entityId: a.entityId, rule: a.rule, details };
}

/**
 * The moderation audit log: every hold, publish, reject, unpublish, reply and
 * settings change of reviews and questions, newest first, with the admin's
 * email when an admin did it.
 */
export async function listModerationAudit(deps: Deps, input: { cursor?: string; limit: number; entityId?: string }) {
  const rows = await deps.db.auditLog.findMany({
    where: {
      OR: [{ entityType: { in: ["review", "question"] } }, { entityType: "settings", entityId: "reviews" }],
      ...(input.entityId ? { entityId: input.entityId } : {}),
    },
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: input.limit + 1,
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
  });
  const page = rows.slice(0, input.limit);
  const adminIds = [...new Set(page.filter((r) => r.actorType === "admin" && r.actorId).map((r) => r.actorId!))];
  const admins = adminIds.length ? await deps.db.adminUser.findMany({ where: { id: { in: adminIds } }, select: { id: true, email: true } }) : [];
  const emails = new Map(admins.map((a) => [a.id, a.email]));
  return {
    items: page.map((r) => ({ ...toAuditEntry(r), actorEmail: r.actorId ? (emails.get(r.actorId) ?? null) : null })),
    nextCursor: rows.length > input.limit ? page[page.length - 1]?.id : undefined,
  };
}

/** Public JSON of one page of reviews (the embed widget and the product page's JSON). */
export function toPublicReviewJson(r: PublicReview, absolute: (p: string) => string) {
  return {
    id: r.id,
    rating: r.rating,
    title: r.title,
    body: r.body,
    displayName: r.displayName,
    locale: r.locale,
    verifiedBuyer: r.verifiedBuyer,
    incentivized: r.incentivized,
    helpfulCount: r.helpfulCount,
    createdAt: r.createdAt.toISOString(),
    photos: r.photos.map((p) => ({ url: absolute(mediaPath(p.storageKey, 640)), width: p.width, height: p.height })),
    reply: r.reply ? { body: r.reply.body, createdAt: r.reply.createdAt.toISOString() } : null,
  };
}

