import { createHash, createHmac, randomBytes } from "node:crypto";
import { variantLabel } from "../catalog/catalog.service.js";
import { releaseExpiredHoldsInTx, startCheckout, type Attribution } from "../checkout/checkout.service.js";
import { findCartByToken } from "../checkout/cart.service.js";
import { followerRefusal, type FollowerFacts } from "../coupons/coupon-rules.js";
import { normalizeCode } from "../coupons/coupons.schema.js";
import type { Prisma } from "../db/client.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import type { Locale } from "../i18n/translate.js";
import { heldQuantities, recordHoldsInTx, releaseHoldsInTx, reserveStockInTx } from "../inventory/holds.service.js";
import { queueEmail } from "../mail/outbox.service.js";
import { recordLiveAnalytics } from "./live.analytics.js";
import { appendLiveEventInTx } from "./live.events.js";
import { waitlistOfferEmail } from "./live.mail.js";
import { flashData, liveTx, payToken } from "./live.service.js";

type Tx = Prisma.TransactionClient;

/**
 * Claims: a viewer (or a chat handle) takes units of a lineup item on hold,
 * through the inventory holds service, at the price of that moment. What a
 * claim is, is read from its hold: active and unexpired → held; active in
 * an order → in checkout; consumed → paid; released or expired → gone.
 *
 * Exact under concurrency:
 * - stock: the hold's conditional UPDATE on the variant;
 * - the show's quantity cap, per-buyer limits and a flash deal's unit cap and
 *   per-buyer limit: counted inside a transaction that first locks the lineup
 *   item (`UPDATE "LiveItem" SET "lockSeq" = "lockSeq" + 1`), so claims on
 *   one item are counted one at a time on PostgreSQL too (SQLite has one
 *   writer anyway); claims on different items do not wait for each other.
 * - waitlist: offers are made under the same lock, oldest entry first, before
 *   a new claimant is considered.
 */

export type ClaimSource = "web" | "comment" | "waitlist";

/** Who claims: `web:<hash of the viewer cookie>` or `<platform>:<handle>`. */
export const webClaimant = (viewerId: string) => `web:${createHash("sha256").update(viewerId).digest("hex").slice(0, 24)}`;
export const handleClaimant = (platform: string, handle: string) => `${platform}:${handle.trim().replace(/^@+/, "").toLowerCase()}`;

export type ClaimOutcome =
  | { outcome: "claimed"; claim: ClaimView }
  | { outcome: "sold_out"; variantId: string; position: number; waitlisted: boolean }
  | { outcome: "limit_reached"; limit: number; held: number };

export interface ClaimView {
  id: string;
  itemId: string;
  variantId: string;
  quantity: number;
  unitPriceMinor: number;
  currency: string;
  priceKind: string;
  expiresAt: Date;
}

/** Claims that count against limits and caps: paid, or holding stock right now. */
const activeClaimWhere = (now: Date): Prisma.LiveClaimWhereInput => ({
  hold: { is: { OR: [{ status: "consumed" }, { status: "active", expiresAt: { gt: now } }] } },
});

async function unitsClaimed(tx: Tx, now: Date, where: Prisma.LiveClaimWhereInput) {
  const agg = await tx.liveClaim.aggregate({ where: { ...where, ...activeClaimWhere(now) }, _sum: { quantity: true } });
  return agg._sum.quantity ?? 0;
}

type SessionRow = { id: string; code: string; status: string; holdMinutes: number };
type ItemRow = {
  id: string;
  liveSessionId: string;
  productId: string;
  claimCode: string;
  livePriceMinor: number | null;
  perBuyerLimit: number | null;
  quantityCap: number | null;
  followerPriceMinor: number | null;
  followerMinDays: number | null;
  followerVerification: string;
};

interface Claimer {
  claimant: string;
  source: ClaimSource;
  handle?: string | null;
  platform?: string | null;
  email?: string | null;
  locale: Locale;
  follower: FollowerFacts | null;
}

/**
 * The price a claimant gets now, lowest of what applies: the live price
 * (while live, or for a waitlist entry made during the show), the follower
 * price (follower rules of the coupon engine), a running flash deal with
 * units left for this buyer. Never above the regular price.
 */
function priceFor(input: {
  session: SessionRow;
  item: ItemRow;
  variant: { priceMinor: number };
  follower: FollowerFacts | null;
  now: Date;
  source: ClaimSource;
  flash: { id: string; priceMinor: number; followersOnly: boolean; minFollowDays: number | null; requiredVerification: string; open: boolean } | null;
}) {
  const options: { priceMinor: number; kind: string; flashDealId: string | null }[] = [{ priceMinor: input.variant.priceMinor, kind: "regular", flashDealId: null }];
  const live = input.session.status === "live" || input.source === "waitlist";
  if (live && input.item.livePriceMinor !== null) options.push({ priceMinor: input.item.livePriceMinor, kind: "live", flashDealId: null });
  if (live && input.item.followerPriceMinor !== null) {
    const refused = followerRefusal({ requiredVerification: input.item.followerVerification, minFollowDays: input.item.followerMinDays }, input.follower, input.now);
    if (!refused) options.push({ priceMinor: input.item.followerPriceMinor, kind: "follower", flashDealId: null });
  }
  if (input.flash?.open) {
    const refused = input.flash.followersOnly ? followerRefusal(input.flash, input.follower, input.now) : null;
    if (!refused) options.push({ priceMinor: input.flash.priceMinor, kind: "flash", flashDealId: input.flash.id });
  }
  return options.reduce((best, o) => (o.priceMinor < best.priceMinor ? o : best));
}

/** Takes the item's lock: from here to commit, claims of this item are counted one at a time. */
async function lockItem(tx: Tx, itemId: string) {
  const n = await tx.$executeRaw`UPDATE "LiveItem" SET "lockSeq" = "lockSeq" + 1 WHERE "id" = ${itemId}`;
  if (n !== 1) throw AppError.notFound("lineup item");
}

/** The heart of a claim, run under the item lock. Does not write a waitlist entry itself. */
async function claimUnderLock(tx: Tx, deps: Deps, input: { session: SessionRow; item: ItemRow; variant: { id: string; priceMinor: number; currency: string }; quantity: number; who: Claimer }): Promise<ClaimOutcome> {
  const { session, item, variant, quantity, who } = input;
  const now = deps.now();
  if (item.perBuyerLimit !== null) {
    const held = await unitsClaimed(tx, now, { itemId: item.id, claimant: who.claimant });
    if (held + quantity > item.perBuyerLimit) return { outcome: "limit_reached", limit: item.perBuyerLimit, held };
  }
  if (item.quantityCap !== null) {
    const claimed = await unitsClaimed(tx, now, { itemId: item.id });
    if (claimed + quantity > item.quantityCap) return { outcome: "sold_out", variantId: variant.id, position: 0, waitlisted: false };
  }
  let flash: Parameters<typeof priceFor>[0]["flash"] = null;
  if (who.source !== "waitlist") {
    const deal = await tx.liveFlashDeal.findFirst({ where: { itemId: item.id, startsAt: { lte: now }, endsAt: { gt: now } }, orderBy: [{ startsAt: "desc" }, { id: "asc" }] });
    if (deal) {
      const dealUnits = await unitsClaimed(tx, now, { flashDealId: deal.id });
      const buyerUnits = dealUnits === 0 ? 0 : await unitsClaimed(tx, now, { flashDealId: deal.id, claimant: who.claimant });
      flash = { ...deal, open: dealUnits + quantity <= deal.unitCap && buyerUnits + quantity <= deal.perBuyerLimit };
    }
  }
  const price = priceFor({ session, item, variant, follower: who.follower, now, source: who.source, flash });
  const shortfall = await reserveStockInTx(tx, [{ variantId: variant.id, quantity }]);
  if (shortfall) return { outcome: "sold_out", variantId: variant.id, position: 0, waitlisted: false };

  const expiresAt = new Date(now.getTime() + session.holdMinutes * 60_000);
  const claim = await tx.liveClaim.create({
    data: {
      liveSessionId: session.id,
      itemId: item.id,
      variantId: variant.id,
      claimant: who.claimant,
      quantity,
      source: who.source,
      status: "held",
      expiresAt,
      createdAt: now,
      unitPriceMinor: price.priceMinor,
      priceKind: price.kind,
      flashDealId: price.flashDealId,
      handle: who.handle ?? null,
      platform: who.platform ?? null,
      email: who.email ?? null,
    },
  });
  await recordHoldsInTx(tx, deps, { lines: [{ variantId: variant.id, quantity }], expiresAt, liveClaimId: claim.id });
  // If this person was waiting for the variant, they are not any more.
  await tx.liveWaitlist.updateMany({ where: { liveSessionId: session.id, variantId: variant.id, claimant: who.claimant, status: "waiting" }, data: { status: "offered", offeredClaimId: claim.id, offeredAt: now } });
  await recordLiveAnalytics(tx, deps, { type: "live_claim", sessionId: session.id, visitorId: who.claimant, productId: item.productId, valueMinor: price.priceMinor * quantity, meta: { claimId: claim.id, source: who.source, priceKind: price.kind } });
  await appendLiveEventInTx(tx, deps, { sessionId: session.id, type: "claim", data: { claimId: claim.id, itemId: item.id, source: who.source }, audience: "host" });
  return {
    outcome: "claimed",
    claim: { id: claim.id, itemId: item.id, variantId: variant.id, quantity, unitPriceMinor: price.priceMinor, currency: variant.currency, priceKind: price.kind, expiresAt },
  };
}

/** Units left of each variant of the item (stock minus live holds, within the show's cap), written to the event log. */
async function appendStockEvent(tx: Tx, deps: Deps, input: { sessionId: string; item: ItemRow }) {
  const now = deps.now();
  const variants = await tx.variant.findMany({ where: { productId: input.item.productId, archivedAt: null }, select: { id: true, stock: true }, orderBy: [{ position: "asc" }, { id: "asc" }] });
  const held = await heldQuantities(tx, now, variants.map((v) => v.id));
  const capLeft = input.item.quantityCap === null ? null : Math.max(0, input.item.quantityCap - (await unitsClaimed(tx, now, { itemId: input.item.id })));
  const rows = variants.map((v) => {
    const free = Math.max(0, v.stock - (held.get(v.id) ?? 0));
    return { id: v.id, left: capLeft === null ? free : Math.min(free, capLeft) };
  });
  const total = rows.reduce((n, r) => n + r.left, 0);
  const data: Record<string, unknown> = { itemId: input.item.id, left: capLeft === null ? total : Math.min(total, capLeft), variants: rows };
  const deal = await tx.liveFlashDeal.findFirst({ where: { itemId: input.item.id, startsAt: { lte: now }, endsAt: { gt: now } }, orderBy: [{ startsAt: "desc" }, { id: "asc" }] });
  if (deal) data.flash = flashData(deal, Math.max(0, deal.unitCap - (await unitsClaimed(tx, now, { flashDealId: deal.id }))));
  await appendLiveEventInTx(tx, deps, { sessionId: input.sessionId, type: "stock", data });
}

/**
 * Gives units that became free to the item's waitlist, oldest entry first:
 * each offer is a claim (with its hold) for that person, so nobody else can
 * take the unit between "freed" and "offered". Offers are emailed when the
 * entry has an address. Returns the number of offers made.
 */
async function offerWaitlistUnderLock(tx: Tx, deps: Deps, input: { session: SessionRow; item: ItemRow; linkBase: string }) {
  const waiting = await tx.liveWaitlist.findMany({ where: { itemId: input.item.id, status: "waiting" }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], take: 25 });
  if (waiting.length === 0) return 0;
  const variants = await tx.variant.findMany({ where: { id: { in: [...new Set(waiting.map((w) => w.variantId))] }, archivedAt: null }, select: { id: true, priceMinor: true, currency: true, option1: true, option2: true, option3: true, product: { select: { title: true } } } });
  const soldOut = new Set<string>();
  let offers = 0;
  for (const entry of waiting) {
    const variant = variants.find((v) => v.id === entry.variantId);
    if (!variant) {
      await tx.liveWaitlist.update({ where: { id: entry.id }, data: { status: "left" } });
      continue;
    }
    if (soldOut.has(variant.id)) continue;
    const result = await claimUnderLock(tx, deps, {
      session: input.session,
      item: input.item,
      variant,
      quantity: 1,
      who: { claimant: entry.claimant, source: "waitlist", handle: entry.handle, platform: entry.platform, email: entry.email, locale: entry.locale === "fa" ? "fa" : "en", follower: null },
    });
    if (result.outcome === "sold_out") {
      soldOut.add(variant.id);
      continue;
    }
    if (result.outcome === "limit_reached") {
      await tx.liveWaitlist.update({ where: { id: entry.id }, data: { status: "left" } });
      continue;
    }
    offers += 1;
    await tx.liveWaitlist.update({ where: { id: entry.id }, data: { status: "offered", offeredClaimId: result.claim.id, offeredAt: deps.now() } });
    if (entry.email) {
      const link = `${input.linkBase}/live/${input.session.code}/pay/${await payToken(deps, input.session.id, entry.claimant)}`;
      const mail = waitlistOfferEmail({
        locale: entry.locale,
        product: [variant.product.title, variantLabel(variant)].filter(Boolean).join(" – "),
        minutes: input.session.holdMinutes,
        url: link,
      });
      await queueEmail(tx, { to: entry.email, template: "live.waitlist", dedupeKey: `live-waitlist:${result.claim.id}`, subject: mail.subject, text: mail.text });
    }
    await appendLiveEventInTx(tx, deps, { sessionId: input.session.id, type: "waitlist", data: { itemId: input.item.id, variantId: variant.id } });
  }
  return offers;
}

/**
 * Before a claim, and from the job: holds of this item that ran out are
 * released (checkout's expiry: expired orders are cancelled too), their
 * claims marked expired, and the freed units offered to the waitlist.
 */
async function settleUnderLock(tx: Tx, deps: Deps, input: { session: SessionRow; item: ItemRow; linkBase: string }) {
  const now = deps.now();
  const variantIds = (await tx.variant.findMany({ where: { productId: input.item.productId }, select: { id: true } })).map((v) => v.id);
  await releaseExpiredHoldsInTx(tx, deps, { variantIds });
  const expired = await tx.liveClaim.updateMany({
    where: { itemId: input.item.id, status: "held", hold: { is: { OR: [{ status: "released" }, { status: "active", orderId: null, expiresAt: { lte: now } }] } } },
    data: { status: "expired" },
  });
  const offers = await offerWaitlistUnderLock(tx, deps, input);
  return { expired: expired.count, offers };
}

async function loadItem(db: Tx | Deps["db"], sessionId: string, itemId: string) {
  return db.liveItem.findFirst({ where: { id: itemId, liveSessionId: sessionId } });
}

/**
 * A claim from the viewer page or a chat comment. Sold out (stock or the
 * show's cap) puts the claimant on the variant's waitlist. Refused with a 4xx
 * when the show is not live, the item or variant is not in the lineup, or the
 * quantity is out of range; a per-buyer limit answers "limit_reached".
 */
export async function claimLiveItem(
  deps: Deps,
  input: { session: SessionRow; itemId: string; variantId: string; quantity: number; who: Claimer; linkBase: string },
): Promise<ClaimOutcome> {
  const { session, who } = input;
  if (session.status !== "live") throw new AppError("not_live", 409, session.status === "scheduled" ? "The show has not started yet; claims open when it goes live." : "The show has ended; claims are closed.");
  const item = await loadItem(deps.db, session.id, input.itemId);
  if (!item) throw new AppError("not_found", 404, "This item is not in the show's lineup.", [{ field: "itemId", message: "not in the lineup" }]);
  const variant = await deps.db.variant.findFirst({ where: { id: input.variantId, productId: item.productId }, include: { product: { select: { status: true } } } });
  if (!variant || variant.archivedAt || variant.product.status !== "active") {
    throw AppError.validation("variantId: choose one of this item's options.", [{ field: "variantId", message: "not an option of this item" }]);
  }
  if (item.perBuyerLimit !== null && input.quantity > item.perBuyerLimit) {
    return { outcome: "limit_reached", limit: item.perBuyerLimit, held: 0 };
  }

  // Fast answer for the crowd that arrives after the last unit went: one
  // read says no unit is free right now (stock minus live holds), nobody's
  // hold has run out, and nobody is queued ahead — so it is sold out at that
  // instant, and only the waitlist entry needs writing.
  if (await definitelySoldOut(deps, variant.id, input.quantity)) {
    return joinWaitlist(deps, { session, item, variantId: variant.id, who });
  }

  const result = await liveTx(deps, session.id, async (tx) => {
    await lockItem(tx, item.id);
    const fresh = await tx.liveSession.findUniqueOrThrow({ where: { id: session.id }, select: { id: true, code: true, status: true, holdMinutes: true } });
    if (fresh.status !== "live") throw new AppError("not_live", 409, "The show has ended; claims are closed.");
    const lockedItem = (await loadItem(tx, session.id, item.id))!;
    const settled = await settleUnderLock(tx, deps, { session: fresh, item: lockedItem, linkBase: input.linkBase });
    const outcome = await claimUnderLock(tx, deps, { session: fresh, item: lockedItem, variant, quantity: input.quantity, who });
    if (outcome.outcome === "sold_out") {
      const position = await waitlistInTx(tx, deps, { sessionId: session.id, itemId: item.id, variantId: variant.id, who });
      if (settled.expired || settled.offers) await appendStockEvent(tx, deps, { sessionId: session.id, item: lockedItem });
      return { ...outcome, position, waitlisted: true };
    }
    if (outcome.outcome === "claimed" || settled.expired || settled.offers) await appendStockEvent(tx, deps, { sessionId: session.id, item: lockedItem });
    return outcome;
  });
  return result;
}

/** One statement: no free unit now, no expired hold of the variant waiting to be released. */
async function definitelySoldOut(deps: Deps, variantId: string, quantity: number) {
  const now = deps.now();
  const rows = await deps.db.$queryRaw<{ stock: number | bigint; held: number | bigint | null; stale: number | bigint | null }[]>`
    SELECT v."stock" AS "stock",
      (SELECT SUM(h."quantity") FROM "StockHold" h WHERE h."variantId" = v."id" AND h."status" = 'active' AND h."expiresAt" > ${now}) AS "held",
      (SELECT COUNT(*) FROM "StockHold" h WHERE h."variantId" = v."id" AND h."status" = 'active' AND h."expiresAt" <= ${now}) AS "stale"
    FROM "Variant" v WHERE v."id" = ${variantId}`;
  const row = rows[0];
  if (!row) return false;
  return Number(row.stale ?? 0) === 0 && Number(row.stock) - Number(row.held ?? 0) < quantity;
}

/**
 * Waitlist ids sort in the order they were made in this process (the queue is
 * ordered by createdAt, then id): two viewers in the same millisecond keep
 * their order.
 */
let waitlistCounter = 0n;
const waitlistId = () => `w${(process.hrtime.bigint() * 1000n + (waitlistCounter++ % 1000n)).toString(36).padStart(16, "0")}${randomBytes(4).toString("hex")}`;

/** Position (1-based) on the variant's waitlist; joining twice keeps the first place. */
async function waitlistInTx(tx: Tx, deps: Deps, input: { sessionId: string; itemId: string; variantId: string; who: Claimer }) {
  const id = waitlistId();
  await tx.$executeRaw`INSERT INTO "LiveWaitlist" ("id", "liveSessionId", "itemId", "variantId", "claimant", "handle", "platform", "email", "locale", "status", "createdAt")
    VALUES (${id}, ${input.sessionId}, ${input.itemId}, ${input.variantId}, ${input.who.claimant}, ${input.who.handle ?? null}, ${input.who.platform ?? null}, ${input.who.email ?? null}, ${input.who.locale}, 'waiting', ${deps.now()})
    ON CONFLICT ("liveSessionId", "variantId", "claimant") DO UPDATE SET "status" = 'waiting', "email" = COALESCE(EXCLUDED."email", "LiveWaitlist"."email")
    WHERE "LiveWaitlist"."status" <> 'waiting'`;
  const mine = await tx.liveWaitlist.findUniqueOrThrow({ where: { liveSessionId_variantId_claimant: { liveSessionId: input.sessionId, variantId: input.variantId, claimant: input.who.claimant } } });
  if (input.who.email && !mine.email) await tx.liveWaitlist.update({ where: { id: mine.id }, data: { email: input.who.email } });
  const ahead = await tx.liveWaitlist.count({
    where: { variantId: input.variantId, liveSessionId: input.sessionId, status: "waiting", OR: [{ createdAt: { lt: mine.createdAt } }, { createdAt: mine.createdAt, id: { lt: mine.id } }] },
  });
  return ahead + 1;
}

async function joinWaitlist(deps: Deps, input: { session: SessionRow; item: ItemRow; variantId: string; who: Claimer }): Promise<ClaimOutcome> {
  const position = await deps.db.$transaction((tx) => waitlistInTx(tx, deps, { sessionId: input.session.id, itemId: input.item.id, variantId: input.variantId, who: input.who }), { maxWait: 30_000, timeout: 30_000 });
  return { outcome: "sold_out", variantId: input.variantId, position, waitlisted: true };
}

/** A viewer lets go of a claim that is still only held (not in checkout, not paid). */
export async function releaseLiveClaim(deps: Deps, input: { sessionId: string; claimId: string; claimant: string; linkBase: string }) {
  const claim = await deps.db.liveClaim.findFirst({ where: { id: input.claimId, liveSessionId: input.sessionId, claimant: input.claimant }, include: { hold: true } });
  if (!claim || !claim.itemId) throw AppError.notFound("claim");
  return liveTx(deps, input.sessionId, async (tx) => {
    await lockItem(tx, claim.itemId!);
    const session = await tx.liveSession.findUniqueOrThrow({ where: { id: input.sessionId }, select: { id: true, code: true, status: true, holdMinutes: true } });
    const item = (await loadItem(tx, input.sessionId, claim.itemId!))!;
    const hold = await tx.stockHold.findUnique({ where: { liveClaimId: claim.id } });
    if (!hold || hold.status !== "active" || hold.orderId) throw AppError.conflict("This claim is no longer only held (it is in checkout, paid or expired).");
    await releaseHoldsInTx(tx, deps, { holdIds: [hold.id] });
    await tx.liveClaim.update({ where: { id: claim.id }, data: { status: "cancelled" } });
    await offerWaitlistUnderLock(tx, deps, { session, item, linkBase: input.linkBase });
    await appendStockEvent(tx, deps, { sessionId: input.sessionId, item });
  });
}

/**
 * Every item of every session with a claim hold that ran out or a waitlist
 * that could be served: settled under the item's lock. Run by the job; the
 * same happens lazily before any claim of the item, so correctness never
 * waits for it. Returns counts.
 */
export async function settleLiveClaims(deps: Deps, opts: { linkBase?: string; limit?: number } = {}) {
  const now = deps.now();
  const linkBase = opts.linkBase ?? deps.shop.publicUrl ?? "";
  const expiredHolds = await deps.db.stockHold.findMany({
    where: { status: "active", orderId: null, expiresAt: { lte: now }, liveClaimId: { not: null } },
    select: { liveClaim: { select: { itemId: true } } },
    take: opts.limit ?? 500,
  });
  const released = await deps.db.liveClaim.findMany({ where: { status: "held", hold: { is: { status: "released" } } }, select: { itemId: true }, take: opts.limit ?? 500 });
  const waiting = await deps.db.liveWaitlist.findMany({ where: { status: "waiting" }, distinct: ["itemId"], select: { itemId: true }, take: opts.limit ?? 500 });
  const itemIds = [...new Set([...expiredHolds.map((h) => h.liveClaim?.itemId), ...released.map((c) => c.itemId), ...waiting.map((w) => w.itemId)].filter((id): id is string => !!id))].sort();
  let expired = 0;
  let offers = 0;
  for (const itemId of itemIds) {
    const item = await deps.db.liveItem.findUnique({ where: { id: itemId } });
    if (!item) continue;
    const r = await liveTx(deps, item.liveSessionId, async (tx) => {
      await lockItem(tx, item.id);
      const session = await tx.liveSession.findUniqueOrThrow({ where: { id: item.liveSessionId }, select: { id: true, code: true, status: true, holdMinutes: true } });
      const locked = (await loadItem(tx, session.id, item.id))!;
      const settled = await settleUnderLock(tx, deps, { session, item: locked, linkBase });
      if (settled.expired || settled.offers) await appendStockEvent(tx, deps, { sessionId: session.id, item: locked });
      return settled;
    });
    expired += r.expired;
    offers += r.offers;
  }
  return { items: itemIds.length, expired, offers };
}

// ───────────── what the claimant sees ─────────────

export type ClaimState = "held" | "checkout" | "paid" | "expired" | "cancelled";

export function claimState(claim: { status: string; hold: { status: string; orderId: string | null; expiresAt: Date } | null }, now: Date): ClaimState {
  const hold = claim.hold;
  if (claim.status === "cancelled") return "cancelled";
  if (!hold) return "expired";
  if (hold.status === "consumed") return "paid";
  if (hold.status === "active" && hold.orderId) return hold.expiresAt > now ? "checkout" : "expired";
  if (hold.status === "active" && hold.expiresAt > now) return "held";
  return "expired";
}

/** A claimant's claims and waitlist places in one show, newest first. */
export async function claimantState(deps: Deps, input: { sessionId: string; claimant: string; locale: string }) {
  const now = deps.now();
  const claims = await deps.db.liveClaim.findMany({
    where: { liveSessionId: input.sessionId, claimant: input.claimant },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: 50,
    include: {
      hold: { select: { status: true, orderId: true, expiresAt: true } },
      variant: { select: { id: true, option1: true, option2: true, option3: true, currency: true, product: { select: { slug: true, title: true, translations: { where: { locale: input.locale }, select: { title: true } } } } } },
    },
  });
  const waitlist = await deps.db.liveWaitlist.findMany({
    where: { liveSessionId: input.sessionId, claimant: input.claimant, status: "waiting" },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const positions = await Promise.all(
    waitlist.map(async (w) => 1 + (await deps.db.liveWaitlist.count({ where: { variantId: w.variantId, liveSessionId: input.sessionId, status: "waiting", OR: [{ createdAt: { lt: w.createdAt } }, { createdAt: w.createdAt, id: { lt: w.id } }] } }))),
  );
  const variantsWaited = await deps.db.variant.findMany({ where: { id: { in: waitlist.map((w) => w.variantId) } }, select: { id: true, option1: true, option2: true, option3: true, product: { select: { title: true, translations: { where: { locale: input.locale }, select: { title: true } } } } } });
  return {
    claims: claims.map((c) => {
      const state = claimState(c, now);
      return {
        id: c.id,
        itemId: c.itemId,
        variantId: c.variantId,
        title: c.variant.product.translations[0]?.title || c.variant.product.title,
        variantTitle: variantLabel(c.variant),
        quantity: c.quantity,
        unitPriceMinor: c.unitPriceMinor ?? 0,
        currency: c.variant.currency,
        priceKind: c.priceKind,
        source: c.source,
        state,
        held: state === "held",
        inCheckout: state === "checkout",
        expiresAt: state === "checkout" ? c.hold!.expiresAt : c.expiresAt,
        secondsLeft: Math.max(0, Math.round(((state === "checkout" ? c.hold!.expiresAt : c.expiresAt).getTime() - now.getTime()) / 1000)),
      };
    }),
    waitlist: waitlist.map((w, i) => {
      const v = variantsWaited.find((x) => x.id === w.variantId);
      return { id: w.id, itemId: w.itemId, variantId: w.variantId, position: positions[i]!, title: v ? v.product.translations[0]?.title || v.product.title : "", variantTitle: v ? variantLabel(v) : "", email: w.email };
    }),
  };
}

// ───────────── paying for claims ─────────────

/**
 * Checkout for everything a claimant holds in a show. The claimant's cart
 * (one per claimant and show, its token derived from the app secret) gets
 * exactly the held items; checkout takes the claims' holds over at the
 * claim's price — also after the show ended, as long as the hold runs. A
 * second "pay" replaces the first checkout (its holds go back to the claims
 * while their time runs, and this checkout takes them again).
 */
export async function startClaimCheckout(
  deps: Deps,
  input: {
    session: { id: string; code: string };
    claimant: string;
    email: string | null;
    coupon: string | null;
    locale: Locale;
    returnBase: string;
    attribution: Attribution | null;
    follower: (FollowerFacts & { emailKey: string | null }) | null;
  },
) {
  const now = deps.now();
  const cartToken = createHmac("sha256", await deps.appSecret()).update(`live-cart:${input.session.id}:${input.claimant}`).digest("base64url");
  const cart = await findCartByToken(deps, cartToken);
  const claims = await deps.db.liveClaim.findMany({
    where: {
      liveSessionId: input.session.id,
      claimant: input.claimant,
      status: "held",
      expiresAt: { gt: now },
      hold: {
        is: {
          status: "active",
          // Held, or in this claimant's unfinished checkout (which the new one replaces).
          OR: [{ orderId: null, expiresAt: { gt: now } }, ...(cart ? [{ order: { is: { cartId: cart.id, status: "pending" } } }] : [])],
        },
      },
    },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    include: { hold: { select: { id: true } } },
  });
  if (claims.length === 0) throw new AppError("nothing_held", 409, "Nothing is held for you in this show any more: the hold ran out or it was paid.");
  const items = new Map<string, number>();
  for (const c of claims) items.set(c.variantId, (items.get(c.variantId) ?? 0) + c.quantity);
  const codes = input.coupon ? [normalizeCode(input.coupon)] : [];
  // The claimant's cart holds exactly what is held, and the code typed with it.
  await deps.db.$transaction(async (tx) => {
    const tokenHash = createHash("sha256").update(cartToken).digest("hex");
    const cartId = cart?.id ?? (await tx.cart.upsert({ where: { tokenHash }, create: { tokenHash, currency: deps.shop.currency }, update: {} })).id;
    await tx.cartItem.deleteMany({ where: { cartId } });
    await tx.cartItem.createMany({ data: [...items].map(([variantId, quantity]) => ({ cartId, variantId, quantity })) });
    await tx.cart.update({ where: { id: cartId }, data: { couponCodes: JSON.stringify(codes) } });
  });
  return startCheckout(deps, {
    cartToken,
    email: input.email ?? claims.find((c) => c.email)?.email ?? null,
    locale: input.locale,
    returnBase: input.returnBase,
    attribution: { linkId: input.attribution?.linkId ?? null, postId: input.attribution?.postId ?? null, channel: input.attribution?.channel ?? null, visitorId: input.attribution?.visitorId ?? null, liveSessionId: input.session.id },
    follower: input.follower,
    preHeld: claims.map((c) => ({ holdId: c.hold!.id, variantId: c.variantId, quantity: c.quantity, unitPriceMinor: c.unitPriceMinor ?? 0 })),
    backPath: `/live/${input.session.code}`,
  });
}
