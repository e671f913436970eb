/**
 * Review requests: the only way a review becomes "Verified buyer".
 *
 * When an order is paid (or fulfilled — a shop setting) checkout calls
 * `scheduleReviewRequestInTx` inside its own transaction. If the setting
 * matches that moment, one request per order is written with the SHA-256 of
 * a random 256-bit token, and one email is queued in the outbox, due after
 * the configured delay. The link works for 45 days after it is due. The email
 * reads the same for every buyer: it cannot know the rating (there is none
 * yet) and never asks happy and unhappy customers different things
 * (Trustpilot's and the FTC's neutrality rules).
 */
import { createHash, randomBytes } from "node:crypto";
import { recordAudit } from "../audit/audit.service.js";
import type { Prisma } from "../db/client.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { formatDigits } from "../i18n/format.js";
import { isLocale, translate, type Locale } from "../i18n/translate.js";
import { queueEmail } from "../mail/outbox.service.js";
import { getReviewSettings } from "./settings.js";

type Tx = Prisma.TransactionClient;

export const REQUEST_VALID_DAYS = 45;
const DAY_MS = 24 * 3600 * 1000;
const hashToken = (token: string) => createHash("sha256").update(`review-request:${token}`).digest("hex");

/** The path of a review link (under the shop's mount path). */
export const reviewLinkPath = (token: string) => `/reviews/write/${token}`;

/**
 * Called by checkout when an order is paid (trigger "paid") or fulfilled
 * ("fulfilled"). Acts only when the shop's setting names this trigger, the
 * order has an email, and no request exists yet for it; otherwise returns null.
 */
export async function scheduleReviewRequestInTx(tx: Tx, deps: Pick<Deps, "now" | "shop">, input: { orderId: string; trigger: "paid" | "fulfilled" }) {
  const settings = await getReviewSettings(tx);
  if (!settings.requestsEnabled || settings.requestTrigger !== input.trigger) return null;
  if (await tx.reviewRequest.findUnique({ where: { orderId: input.orderId }, select: { id: true } })) return null;
  const order = await tx.order.findUnique({ where: { id: input.orderId }, include: { lines: { select: { title: true, variantTitle: true }, orderBy: { id: "asc" } } } });
  if (!order || !order.email || order.lines.length === 0) return null;

  const now = deps.now();
  const token = randomBytes(32).toString("base64url");
  const sendAfter = new Date(now.getTime() + settings.requestDelayDays * DAY_MS);
  const expiresAt = new Date(sendAfter.getTime() + REQUEST_VALID_DAYS * DAY_MS);
  const request = await tx.reviewRequest.create({ data: { orderId: order.id, tokenHash: hashToken(token), sendAfter, expiresAt, createdAt: now } });
  const locale: Locale = isLocale(order.locale) ? order.locale : deps.shop.locale;
  const link = `${deps.shop.publicUrl ?? ""}${reviewLinkPath(token)}`;
  await queueEmail(tx, {
    to: order.email,
    template: "review_request",
    dedupeKey: reviewRequestEmailKey(order.id),
    subject: translate(locale, "reviews.request.subject", { shop: deps.shop.name, number: formatDigits(order.number, locale) }),
    text: reviewRequestText({ locale, shop: deps.shop.name, name: order.customerName, orderNumber: order.number, lines: order.lines, link, expiresAt, incentive: settings.incentive }),
    sendAfter,
    toName: order.customerName,
    locale,
    linkBase: deps.shop.publicUrl ?? "",
    // The same words as reviewRequestText, as views/emails/review_request.{text,html}.hbs.
    data: {
      shopName: deps.shop.name,
      firstName: order.customerName ? order.customerName.split(" ")[0] : null,
      numberText: formatDigits(order.number, locale),
      lines: order.lines,
      link,
      incentive: settings.incentive,
      expiresText: new Intl.DateTimeFormat(locale === "fa" ? "fa-IR" : "en-US", { dateStyle: "long", timeZone: "UTC" }).format(expiresAt),
    },
  });
  await recordAudit(tx, { actor: { type: "system" }, action: "review_request.schedule", entityType: "order", entityId: order.id, rule: input.trigger, details: { sendAfter, expiresAt } });
  return request;
}

/** The request email's outbox key: one per order, so retries never queue it twice. */
export function reviewRequestEmailKey(orderId: string): string {
  return `order:${orderId}:review-request`;
}

/**
 * The request email. Its wording depends on the language and on the shop's
 * incentive (offered for ANY review), never on anything about the buyer's
 * opinion: there is no "if you were unhappy, contact us instead".
 */
export function reviewRequestText(input: {
  locale: Locale;
  shop: string;
  name: string | null;
  orderNumber: number;
  lines: { title: string; variantTitle: string }[];
  link: string;
  expiresAt: Date;
  incentive: string;
}) {
  const t = (key: string, vars: Record<string, unknown> = {}) => translate(input.locale, key, vars);
  const date = new Intl.DateTimeFormat(input.locale === "fa" ? "fa-IR" : "en-US", { dateStyle: "long", timeZone: "UTC" }).format(input.expiresAt);
  return [
    input.name ? t("reviews.request.greetingName", { name: input.name.split(" ")[0] }) : t("reviews.request.greeting"),
    "",
    t("reviews.request.intro", { shop: input.shop, number: formatDigits(input.orderNumber, input.locale) }),
    ...input.lines.map((l) => `- ${l.title}${l.variantTitle ? ` (${l.variantTitle})` : ""}`),
    "",
    t("reviews.request.cta"),
    input.link,
    "",
    t("reviews.request.rules"),
    ...(input.incentive ? [t("reviews.request.incentive", { incentive: input.incentive })] : []),
    t("reviews.request.expires", { date }),
  ].join("\n");
}

/**
 * The request behind a link, with its order lines and which of them are
 * reviewed. A token that matches nothing is a 404 (forged or mistyped); one
 * past its 45 days is a 410.
 */
export async function getReviewRequestByToken(deps: Deps, input: { token: string }) {
  const request = await deps.db.reviewRequest.findUnique({
    where: { tokenHash: hashToken(input.token) },
    include: {
      order: {
        include: {
          lines: { orderBy: { id: "asc" } },
          reviews: { select: { orderLineId: true, status: true } },
        },
      },
    },
  });
  if (!request) throw new AppError("review_link_invalid", 404, "This review link is not valid. Use the link from your order email.");
  if (request.expiresAt.getTime() <= deps.now().getTime()) {
    throw new AppError("review_link_expired", 410, `This review link expired on ${request.expiresAt.toISOString().slice(0, 10)}. Review links work for ${REQUEST_VALID_DAYS} days.`);
  }
  if (request.order.status === "pending" || request.order.status === "cancelled") {
    throw new AppError("review_link_invalid", 404, "This review link is not valid. Use the link from your order email.");
  }
  const productIds = request.order.lines.map((l) => l.productId).filter((id): id is string => !!id);
  const products = await deps.db.product.findMany({
    where: { id: { in: productIds } },
    select: { id: true, slug: true, title: true, status: true, images: { orderBy: [{ position: "asc" }, { id: "asc" }], take: 1, include: { media: { select: { storageKey: true } } } } },
  });
  const reviewed = new Set(request.order.reviews.map((r) => r.orderLineId));
  return {
    id: request.id,
    orderId: request.orderId,
    orderNumber: request.order.number,
    customerName: request.order.customerName,
    email: request.order.email,
    expiresAt: request.expiresAt,
    lines: request.order.lines.map((l) => {
      const product = products.find((p) => p.id === l.productId);
      return {
        id: l.id,
        title: l.title,
        variantTitle: l.variantTitle,
        variantId: l.variantId,
        productId: product && product.status === "active" ? product.id : null,
        productSlug: product?.slug ?? null,
        image: product?.images[0]?.media.storageKey ?? null,
        reviewed: reviewed.has(l.id),
      };
    }),
  };
}

export type ReviewRequestView = Awaited<ReturnType<typeof getReviewRequestByToken>>;

/** Suggested display name from the order: "Sam S." — the buyer can change it. */
export function suggestedDisplayName(customerName: string | null): string {
  const parts = (customerName ?? "").trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return "";
  return parts.length === 1 ? parts[0]! : `${parts[0]} ${[...parts[parts.length - 1]!][0]}.`;
}

/** Admin list of requests: scheduled, due, used, expired. */
export async function listReviewRequests(deps: Deps, input: { limit: number }) {
  const rows = await deps.db.reviewRequest.findMany({
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit,
    include: { order: { select: { id: true, number: true, email: true, _count: { select: { reviews: true, lines: true } } } } },
  });
  // The outbox is the one record of what was sent: each request's email is
  // found by its dedupe key, so the list says "sent", "waiting" or "failed"
  // from what the mail worker really did, not from the schedule.
  const emails = await deps.db.outboxEmail.findMany({
    where: { dedupeKey: { in: rows.map((r) => reviewRequestEmailKey(r.order.id)) } },
    select: { dedupeKey: true, status: true, sentAt: true, attempts: true },
  });
  const emailByKey = new Map(emails.map((e) => [e.dedupeKey, e]));
  const now = deps.now().getTime();
  return rows.map((r) => ({
    id: r.id,
    orderId: r.order.id,
    orderNumber: r.order.number,
    email: r.order.email,
    sendAfter: r.sendAfter,
    expiresAt: r.expiresAt,
    usedAt: r.usedAt,
    reviews: r.order._count.reviews,
    lines: r.order._count.lines,
    state: r.expiresAt.getTime() <= now ? "expired" : r.sendAfter.getTime() > now ? "scheduled" : "due",
    emailStatus: (emailByKey.get(reviewRequestEmailKey(r.order.id))?.status ?? "missing") as "queued" | "sent" | "failed" | "missing",
    emailSentAt: emailByKey.get(reviewRequestEmailKey(r.order.id))?.sentAt ?? null,
  }));
}
