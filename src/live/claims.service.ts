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
import { recordHoldsInTx, releaseHoldsInTx, reserveStockInTx } from "../inventory/holds.service.js";
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

/**
 * The lock and the read in one statement, while the show is live: the item
 * as it is now, or null when the show is no longer live (or the item is gone).
 */
async function lockLiveItem(tx: Tx, itemId: string): Promise<ItemRow | null> {
  const rows = await tx.$queryRaw<Record<string, unknown>[]>`UPDATE "LiveItem" SET "lockSeq" = "lockSeq" + 1
    WHERE "id" = ${itemId} AND EXISTS (SELECT 1 FROM "LiveSession" s WHERE s."id" = "LiveItem"."liveSessionId" AND s."status" = 'live')
    RETURNING "id", "liveSessionId", "productId", "claimCode", "livePriceMinor", "perBuyerLimit", "quantityCap", "followerPriceMinor", "followerMinDays", "followerVerification"`;
  const r = rows[0];
  if (!r) return null;
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: r.id as string,
    liveSessionId: r.liveSessionId as string,
    productId: r.productId as string,
    claimCode: r.claimCode as string,
    livePriceMinor: num(r.livePriceMinor),
    perBuyerLimit: num(r.perBuyerLimit),
    quantityCap: num(r.quantityCap),
    followerPriceMinor: num(r.followerPriceMinor),
    followerMinDays: num(r.followerMinDays),
    followerVerification: (r.followerVerification as string) ?? "any",
  };
}

type Deal = { id: string; itemId: string; priceMinor: number; endsAt: Date; unitCap: number; perBuyerLimit: number; followersOnly: boolean; minFollowDays: number | null; requiredVerification: string };

/** The heart of a claim, run under the item lock. Does not write a waitlist entry itself. */
async function claimUnderLock(
  tx: Tx,
  deps: Deps,
  input: { session: SessionRow; item: ItemRow; variant: { id: string; priceMinor: number; currency: string }; quantity: number; who: Claimer; mayBeWaiting?: boolean },
): Promise<ClaimOutcome & { deal?: { row: Deal; claimed: number } | null }> {
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
  let dealState: { row: Deal; claimed: number } | null | undefined;
  if (who.source !== "waitlist") {
    const deal = await tx.liveFlashDeal.findFirst({ where: { itemId: item.id, startsAt: { lte: now }, endsAt: { gt: now } }, orderBy: [{ startsAt: "desc" }, { id: "asc" }] });
    dealState = null;
    if (deal) {
      const dealUnits = await unitsClaimed(tx, now, { flashDealId: deal.id });
      const buyerUnits = dealUnits === 0 ? 0 : await unitsClaimed(tx, now, { flashDealId: deal.id, claimant: who.claimant });
      flash = { ...deal, open: dealUnits + quantity <= deal.unitCap && buyerUnits + quantity <= deal.perBuyerLimit };
      dealState = { row: deal, claimed: dealUnits };
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
  // If this person was waiting for the variant, they are not any more (the caller marks a waitlist offer itself).
  if (who.source !== "waitlist" && input.mayBeWaiting !== false) {
    await tx.liveWaitlist.updateMany({ where: { liveSessionId: session.id, variantId: variant.id, claimant: who.claimant, status: "waiting" }, data: { status: "offered", offeredClaimId: claim.id, offeredAt: now } });
  }
  recordLiveAnalytics(deps, { type: "live_claim", sessionId: session.id, productId: item.productId, valueMinor: price.priceMinor * quantity, meta: { claimId: claim.id, source: who.source, priceKind: price.kind } });
  return {
    outcome: "claimed",
    claim: { id: claim.id, itemId: item.id, variantId: variant.id, quantity, unitPriceMinor: price.priceMinor, currency: variant.currency, priceKind: price.kind, expiresAt },
    // What the stock event needs to say about a running deal, without asking again.
    deal: dealState === undefined ? undefined : dealState && { row: dealState.row, claimed: dealState.claimed + (price.flashDealId ? quantity : 0) },
  };
}

/**
 * Units left of each variant of the item (stock minus live holds, within the
 * show's cap), and of a running flash deal, written to the event log. The
 * host console refreshes its counters on it too. `deal` is what the claim
 * already read (null: none running); undefined reads it.
 */
async function appendStockEvent(tx: Tx, deps: Deps, input: { sessionId: string; item: ItemRow; deal?: { row: Deal; claimed: number } | null }) {
  const now = deps.now();
  const variants = await tx.$queryRaw<{ id: string; free: number | bigint }[]>`
    SELECT v."id" AS "id", v."stock" - COALESCE((SELECT SUM(h."quantity") FROM "StockHold" h WHERE h."variantId" = v."id" AND h."status" = 'active' AND h."expiresAt" > ${now}), 0) AS "free"
    FROM "Variant" v WHERE v."productId" = ${input.item.productId} AND v."archivedAt" IS NULL ORDER BY v."position" ASC, v."id" ASC`;
  const capLeft = input.item.quantityCap === null ? null : Math.max(0, input.item.quantityCap - (await unitsClaimed(tx, now, { itemId: input.item.id })));
  const rows = variants.map((v) => {
    const free = Math.max(0, Number(v.free));
    return { id: v.id, left: capLeft === null ? free : Math.min(free, capLeft) };
  });
  const total = rows.reduce((n, r) => n + r.left, 0);
  const data: Record<string, unknown> = { itemId: input.item.id, left: capLeft === null ? total : Math.min(total, capLeft), variants: rows };
  let deal = input.deal;
  if (deal === undefined) {
    const row = await tx.liveFlashDeal.findFirst({ where: { itemId: input.item.id, startsAt: { lte: now }, endsAt: { gt: now } }, orderBy: [{ startsAt: "desc" }, { id: "asc" }] });
    deal = row ? { row, claimed: await unitsClaimed(tx, now, { flashDealId: row.id }) } : null;
  }
  if (deal) data.flash = flashData(deal.row, Math.max(0, deal.row.unitCap - deal.claimed));
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

interface ClaimLookup {
  session: SessionRow;
  item: ItemRow | null;
  variant: { id: string; priceMinor: number; currency: string; forSale: boolean } | null;
  /** Units free now: stock minus holds that are active and unexpired. */
  free: number;
  /** Expired holds of any variant of the item not yet released, and people waiting for the item. */
  stale: number;
  waiting: number;
}

/**
 * Everything a claim needs to know before it writes, in ONE statement (a
 * crowd claims at once; each query costs more than the work it does): the
 * show, the lineup item, the variant and whether it is for sale, the units
 * free right now, and whether expired holds or a waitlist need settling.
 */
async function lookupClaim(deps: Deps, input: { sessionId?: string; code?: string; itemId: string; variantId: string }): Promise<ClaimLookup | null> {
  const now = deps.now();
  const rows = await deps.db.$queryRaw<Record<string, unknown>[]>`
    SELECT s."id" AS "sessionId", s."code" AS "code", s."status" AS "status", s."holdMinutes" AS "holdMinutes",
      i."id" AS "itemId", i."productId" AS "productId", i."claimCode" AS "claimCode", i."livePriceMinor" AS "livePriceMinor",
      i."perBuyerLimit" AS "perBuyerLimit", i."quantityCap" AS "quantityCap", i."followerPriceMinor" AS "followerPriceMinor",
      i."followerMinDays" AS "followerMinDays", i."followerVerification" AS "followerVerification",
      v."id" AS "variantId", v."priceMinor" AS "priceMinor", v."currency" AS "currency", v."stock" AS "stock",
      v."archivedAt" AS "variantArchivedAt", p."status" AS "productStatus",
      (SELECT SUM(h."quantity") FROM "StockHold" h WHERE h."variantId" = v."id" AND h."status" = 'active' AND h."expiresAt" > ${now}) AS "held",
      (SELECT COUNT(*) FROM "StockHold" h JOIN "Variant" v2 ON v2."id" = h."variantId" WHERE v2."productId" = i."productId" AND h."status" = 'active' AND h."expiresAt" <= ${now}) AS "stale",
      (SELECT COUNT(*) FROM "LiveWaitlist" w WHERE w."itemId" = i."id" AND w."status" = 'waiting') AS "waiting"
    FROM "LiveSession" s
    LEFT JOIN "LiveItem" i ON i."liveSessionId" = s."id" AND i."id" = ${input.itemId}
    LEFT JOIN "Variant" v ON v."id" = ${input.variantId} AND v."productId" = i."productId"
    LEFT JOIN "Product" p ON p."id" = v."productId"
    WHERE s."id" = ${input.sessionId ?? null} OR s."code" = ${input.code ?? null}`;
  const r = rows[0];
  if (!r) return null;
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const session = { id: r.sessionId as string, code: r.code as string, status: r.status as string, holdMinutes: Number(r.holdMinutes) };
  const item: ItemRow | null = r.itemId
    ? {
        id: r.itemId as string,
        liveSessionId: session.id,
        productId: r.productId as string,
        claimCode: r.claimCode as string,
        livePriceMinor: num(r.livePriceMinor),
        perBuyerLimit: num(r.perBuyerLimit),
        quantityCap: num(r.quantityCap),
        followerPriceMinor: num(r.followerPriceMinor),
        followerMinDays: num(r.followerMinDays),
        followerVerification: (r.followerVerification as string) ?? "any",
      }
    : null;
  const variant = r.variantId
    ? { id: r.variantId as string, priceMinor: Number(r.priceMinor), currency: r.currency as string, forSale: r.variantArchivedAt === null && r.productStatus === "active" }
    : null;
  return { session, item, variant, free: Number(r.stock ?? 0) - Number(r.held ?? 0), stale: Number(r.stale ?? 0), waiting: Number(r.waiting ?? 0) };
}

/**
 * A claim from the viewer page or a chat comment. Sold out (stock or the
 * show's cap) puts the claimant on the variant's waitlist. Refused with a 4xx
 * when the show does not exist or is not live, the item or variant is not in
 * the lineup, or the quantity is out of range; a per-buyer limit answers
 * "limit_reached".
 */
export async function claimLiveItem(
  deps: Deps,
  input: { sessionId?: string; sessionCode?: string; itemId: string; variantId: string; quantity: number; who: Claimer; linkBase: string },
): Promise<ClaimOutcome & { sessionId: string }> {
  const { who } = input;
  const found = await lookupClaim(deps, { sessionId: input.sessionId, code: input.sessionCode, itemId: input.itemId, variantId: input.variantId });
  if (!found) throw new AppError("not_found", 404, "There is no live show at this address. Check the link the host shared.");
  const { session, item, variant } = found;
  if (session.status !== "live") throw new AppError("not_live", 409, session.status === "scheduled" ? "The show has not started yet; claims open when it goes live." : "The show has ended; claims are closed.");
  if (!item) throw new AppError("not_found", 404, "This item is not in the show's lineup.", [{ field: "itemId", message: "not in the lineup" }]);
  if (!variant || !variant.forSale) throw AppError.validation("variantId: choose one of this item's options.", [{ field: "variantId", message: "not an option of this item" }]);
  const done = (outcome: ClaimOutcome) => ({ ...outcome, sessionId: session.id });
  if (item.perBuyerLimit !== null && input.quantity > item.perBuyerLimit) return done({ outcome: "limit_reached", limit: item.perBuyerLimit, held: 0 });

  // The crowd that arrives after the last unit went: the lookup said no unit
  // is free right now, no hold has run out unreleased, and nobody waits to be
  // offered one — so it is sold out at that instant, and only the waitlist
  // entry needs writing (two statements, no transaction).
  if (found.free < input.quantity && found.stale === 0) {
    return done({ outcome: "sold_out", variantId: variant.id, position: await joinWaitlist(deps.db, deps, { sessionId: session.id, itemId: item.id, variantId: variant.id, who }), waitlisted: true });
  }

  const result = await liveTx(deps, session.id, async (tx): Promise<ClaimOutcome> => {
    const lockedItem = await lockLiveItem(tx, item.id);
    if (!lockedItem) throw new AppError("not_live", 409, "The show has ended; claims are closed.");
    // Holds that ran out, and people waiting, come before a new claimant.
    const settled = found.stale > 0 || found.waiting > 0 ? await settleUnderLock(tx, deps, { session, item: lockedItem, linkBase: input.linkBase }) : { expired: 0, offers: 0 };
    const { deal, ...outcome } = await claimUnderLock(tx, deps, { session, item: lockedItem, variant, quantity: input.quantity, who, mayBeWaiting: found.waiting > 0 });
    if (outcome.outcome === "sold_out") {
      const position = await joinWaitlist(tx, deps, { sessionId: session.id, itemId: item.id, variantId: variant.id, who });
      if (settled.expired || settled.offers) await appendStockEvent(tx, deps, { sessionId: session.id, item: lockedItem });
      return { ...outcome, position, waitlisted: true };
    }
    if (outcome.outcome === "claimed" || settled.expired || settled.offers) await appendStockEvent(tx, deps, { sessionId: session.id, item: lockedItem, deal: settled.offers ? undefined : deal });
    return outcome;
  });
  return done(result);
}

/**
 * Waitlist ids sort in the order they were made in this process (the queue is
 * ordered by createdAt, then id): two viewers in the same millisecond keep
 * their order.
 */
let waitlistCounter = 0n;
const waitlistId = () => `w${(process.hrtime.bigint() * 1000n + (waitlistCounter++ % 1000n)).toString(36).padStart(16, "0")}${randomBytes(4).toString("hex")}`;

/**
 * Puts the claimant on the variant's waitlist and returns their place
 * (1-based), in one statement: INSERT … ON CONFLICT … RETURNING the number
 * of people ahead. Joining again while waiting keeps the place (and adds an
 * email if one is given now); joining again after an offer or after leaving
 * goes to the back. The queue's order is exact everywhere (createdAt, then a
 * process-monotonic id); the place told is exact on SQLite, which writes one
 * statement at a time — on PostgreSQL two people joining in the same instant
 * may be told the same number, while their order stays right.
 */
async function joinWaitlist(db: Tx | Deps["db"], deps: Deps, input: { sessionId: string; itemId: string; variantId: string; who: Claimer }) {
  const rows = await db.$queryRaw<{ place: number | bigint }[]>`INSERT INTO "LiveWaitlist" ("id", "liveSessionId", "itemId", "variantId", "claimant", "handle", "platform", "email", "locale", "status", "createdAt")
    VALUES (${waitlistId()}, ${input.sessionId}, ${input.itemId}, ${input.variantId}, ${input.who.claimant}, ${input.who.handle ?? null}, ${input.who.platform ?? null}, ${input.who.email ?? null}, ${input.who.locale}, 'waiting', ${deps.now()})
    ON CONFLICT ("liveSessionId", "variantId", "claimant") DO UPDATE SET
      "createdAt" = CASE WHEN "LiveWaitlist"."status" = 'waiting' THEN "LiveWaitlist"."createdAt" ELSE EXCLUDED."createdAt" END,
      "status" = 'waiting',
      "email" = COALESCE(EXCLUDED."email", "LiveWaitlist"."email")
    RETURNING (SELECT COUNT(*) FROM "LiveWaitlist" w
      WHERE w."liveSessionId" = "LiveWaitlist"."liveSessionId" AND w."variantId" = "LiveWaitlist"."variantId" AND w."status" = 'waiting'
        AND (w."createdAt" < "LiveWaitlist"."createdAt" OR (w."createdAt" = "LiveWaitlist"."createdAt" AND w."id" < "LiveWaitlist"."id"))) + 1 AS "place"`;
  return Number(rows[0]?.place ?? 1);
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
