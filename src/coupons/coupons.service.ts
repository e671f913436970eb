import { recordAudit, type Actor } from "../audit/audit.service.js";
import type { Prisma } from "../db/client.js";
import { lockInTx } from "../db/dialect.js";
import type { Deps } from "../deps.js";
import { personKeysOf, randomCode } from "../followers/followers.service.js";
import { AppError } from "../http/errors.js";
import { isLocale, translate } from "../i18n/translate.js";
import { queueEmail } from "../mail/outbox.service.js";
import { combineDiscounts, evaluateCoupon, type CartFacts, type CouponFacts, type Evaluation, type FollowerFacts, type Refusal } from "./coupon-rules.js";
import { normalizeCode, type CouponInputT, type IssueCodesInputT } from "./coupons.schema.js";
import { refusalText } from "./refusal-text.js";

type Tx = Prisma.TransactionClient;
type Db = Tx | Deps["db"];
const DAY = 24 * 3600 * 1000;

/** A refusal as an error the cart can show; `details.reason` is machine-readable. */
export class CouponRefused extends AppError {
  constructor(
    readonly couponCode: string,
    readonly refusal: RefusalReason,
    currency = "USD",
  ) {
    super("coupon_refused", 422, refusalText(couponCode, refusal, "en", currency), { code: couponCode, ...refusal });
  }
}

export type RefusalReason = Refusal | { reason: "unknown_code" } | { reason: "does_not_stack"; other: string };

// ───────────── loading what the rules need ─────────────

async function couponByCode(db: Db, code: string) {
  const include = { products: { select: { productId: true } }, collections: { select: { collectionId: true } }, liveSession: { select: { startsAt: true, endsAt: true, status: true } } } as const;
  const coupon = await db.coupon.findUnique({ where: { code }, include });
  if (coupon) return { coupon, personalCode: null };
  const personal = await db.personalCode.findUnique({ where: { code }, include: { coupon: { include } } });
  if (personal) return { coupon: personal.coupon, personalCode: personal };
  return null;
}

type LoadedCoupon = NonNullable<Awaited<ReturnType<typeof couponByCode>>>["coupon"];

function couponFacts(c: LoadedCoupon): CouponFacts {
  return {
    id: c.id, code: c.code, kind: c.kind, percentOff: c.percentOff, amountOffMinor: c.amountOffMinor, currency: c.currency, scope: c.scope,
    productIds: c.products.map((p) => p.productId), collectionIds: c.collections.map((x) => x.collectionId),
    minSubtotalMinor: c.minSubtotalMinor, startsAt: c.startsAt, endsAt: c.endsAt, usageLimit: c.usageLimit, usedCount: c.usedCount,
    perFollowerLimit: c.perFollowerLimit, minFollowDays: c.minFollowDays, followersOnly: c.followersOnly, requiredVerification: c.requiredVerification,
    stackable: c.stackable, status: c.status, live: c.liveSession,
  };
}

async function followerUses(db: Db, couponId: string, follower: (FollowerFacts & { emailKey: string | null }) | null) {
  if (!follower) return 0;
  const keys = await personKeysOf(db, follower);
  return db.redemption.count({ where: { couponId, personKey: { in: keys }, status: { in: ["reserved", "committed"] } } });
}

/** Cart lines with the collections each product is in (for scoped coupons). */
export async function cartFacts(db: Db, input: { currency: string; lines: { productId: string; totalMinor: number }[] }): Promise<CartFacts> {
  const memberships = await db.collectionProduct.findMany({ where: { productId: { in: input.lines.map((l) => l.productId) } } });
  return {
    currency: input.currency,
    lines: input.lines.map((l) => ({ ...l, collectionIds: memberships.filter((m) => m.productId === l.productId).map((m) => m.collectionId) })),
  };
}

async function evaluateCode(db: Db, deps: Deps, input: { code: string; cart: CartFacts; follower: (FollowerFacts & { emailKey: string | null }) | null }) {
  const found = await couponByCode(db, input.code);
  if (!found) return { found: null, evaluation: null };
  const evaluation = evaluateCoupon({
    coupon: couponFacts(found.coupon),
    cart: input.cart,
    follower: input.follower,
    followerUses: await followerUses(db, found.coupon.id, input.follower),
    personalCode: found.personalCode ? { usedAt: found.personalCode.usedAt, followerId: found.personalCode.followerId } : null,
    now: deps.now(),
  });
  return { found, evaluation };
}

// ───────────── the cart ─────────────

/**
 * Applies a typed code to the cart after checking it against the cart and
 * the shopper, and saves it only if it applies. A code that does not stack
 * with one already applied is refused, naming the other code.
 */
export async function applyCouponToCart(deps: Deps, input: { cartId: string; code: string; cart: CartFacts; follower: (FollowerFacts & { emailKey: string | null }) | null }) {
  const code = normalizeCode(input.code);
  const { found, evaluation } = await evaluateCode(deps.db, deps, { code, cart: input.cart, follower: input.follower });
  if (!found || !evaluation) throw new CouponRefused(code, { reason: "unknown_code" }, deps.shop.currency);
  if (!evaluation.ok) throw new CouponRefused(code, evaluation, deps.shop.currency);
  const cart = await deps.db.cart.findUniqueOrThrow({ where: { id: input.cartId } });
  const codes = (JSON.parse(cart.couponCodes) as string[]).filter((c) => c !== code);
  for (const other of codes) {
    const o = await couponByCode(deps.db, other);
    if (o && (!o.coupon.stackable || !found.coupon.stackable)) throw new CouponRefused(code, { reason: "does_not_stack", other }, deps.shop.currency);
  }
  await deps.db.cart.update({ where: { id: cart.id }, data: { couponCodes: JSON.stringify([...codes, code]) } });
  return { code, discountMinor: evaluation.discountMinor, freeShipping: evaluation.freeShipping };
}

export async function removeCouponFromCart(deps: Deps, input: { cartId: string; code: string }) {
  const cart = await deps.db.cart.findUniqueOrThrow({ where: { id: input.cartId } });
  const codes = (JSON.parse(cart.couponCodes) as string[]).filter((c) => c !== normalizeCode(input.code));
  await deps.db.cart.update({ where: { id: cart.id }, data: { couponCodes: JSON.stringify(codes) } });
}

/** The cart's codes as they stand now (a code can expire while it sits in a cart). */
export async function priceCartCoupons(deps: Deps, input: { codes: string[]; cart: CartFacts; follower: (FollowerFacts & { emailKey: string | null }) | null }) {
  const results: { code: string; evaluation: Evaluation | null; stackable: boolean }[] = [];
  for (const code of input.codes) {
    const { found, evaluation } = await evaluateCode(deps.db, deps, { code, cart: input.cart, follower: input.follower });
    results.push({ code, evaluation, stackable: found?.coupon.stackable ?? false });
  }
  const valid = results.filter((r) => r.evaluation?.ok).map((r) => ({ code: r.code, stackable: r.stackable, discountMinor: (r.evaluation as { discountMinor: number }).discountMinor, freeShipping: (r.evaluation as { freeShipping: boolean }).freeShipping }));
  const subtotal = input.cart.lines.reduce((n, l) => n + l.totalMinor, 0);
  const combined = combineDiscounts(valid, subtotal);
  return {
    applied: results.map((r) => ({
      code: r.code,
      ok: r.evaluation?.ok ?? false,
      discountMinor: r.evaluation?.ok ? r.evaluation.discountMinor : 0,
      freeShipping: r.evaluation?.ok ? r.evaluation.freeShipping : false,
      refusal: r.evaluation && !r.evaluation.ok ? (r.evaluation as Refusal) : r.evaluation ? null : ({ reason: "unknown_code" } as const),
    })),
    discountMinor: combined.ok ? combined.discountMinor : 0,
    freeShipping: combined.ok ? combined.freeShipping : false,
    allValid: results.every((r) => r.evaluation?.ok) && combined.ok,
  };
}

// ───────────── checkout: reserve, commit, release ─────────────

/**
 * Reserves every code on the order inside the checkout transaction, with
 * the rules checked again on fresh counts:
 * - the total limit by a conditional update (usedCount < usageLimit),
 * - a personal code by a conditional update (usedAt IS NULL),
 * - the per-follower limit by inserting the redemption and counting this
 *   person's reserved + committed uses under a lock on (coupon, person):
 *   pg_advisory_xact_lock on PostgreSQL, where concurrent transactions would
 *   each count only their own insert; SQLite lets one writer in at a time,
 *   which serialises the same way. A count over the limit rolls the whole
 *   checkout back.
 * A limit of 10 therefore never becomes 11, however many checkouts race, in
 * however many processes. Coupons are locked in id order first, so carts
 * with the same codes in another order cannot deadlock.
 */
export async function reserveCouponsInTx(tx: Tx, deps: Deps, input: { orderId: string; codes: string[]; cart: CartFacts; follower: (FollowerFacts & { emailKey: string | null }) | null }) {
  const applied: { code: string; couponId: string; stackable: boolean; discountMinor: number; freeShipping: boolean }[] = [];
  const couponIds = new Set<string>();
  for (const code of input.codes) {
    const found = await couponByCode(tx, code);
    if (found) couponIds.add(found.coupon.id);
  }
  for (const id of [...couponIds].sort()) await lockInTx(tx, "coupon", id);
  for (const code of input.codes) {
    const { found, evaluation } = await evaluateCode(tx, deps, { code, cart: input.cart, follower: input.follower });
    if (!found || !evaluation) throw new CouponRefused(code, { reason: "unknown_code" }, deps.shop.currency);
    if (!evaluation.ok) throw new CouponRefused(code, evaluation, deps.shop.currency);
    const taken = await tx.$executeRaw`UPDATE "Coupon" SET "usedCount" = "usedCount" + 1 WHERE "id" = ${found.coupon.id} AND "status" = 'active' AND ("usageLimit" IS NULL OR "usedCount" < "usageLimit")`;
    if (taken !== 1) throw new CouponRefused(code, { reason: "limit_reached" }, deps.shop.currency);
    if (found.personalCode) {
      const used = await tx.personalCode.updateMany({ where: { id: found.personalCode.id, usedAt: null }, data: { usedAt: deps.now() } });
      if (used.count !== 1) throw new CouponRefused(code, { reason: "already_used" }, deps.shop.currency);
    }
    const personKeys = input.follower ? (await personKeysOf(tx, input.follower)).sort() : [];
    for (const key of personKeys) await lockInTx(tx, "coupon-person", found.coupon.id, key);
    await tx.redemption.create({
      data: {
        couponId: found.coupon.id,
        personalCodeId: found.personalCode?.id ?? null,
        followerId: input.follower?.id ?? null,
        personKey: input.follower?.personKey ?? null,
        orderId: input.orderId,
        status: "reserved",
        discountMinor: evaluation.discountMinor,
        reservedAt: deps.now(),
      },
    });
    if (input.follower) {
      const uses = await followerUses(tx, found.coupon.id, input.follower);
      if (uses > found.coupon.perFollowerLimit) throw new CouponRefused(code, { reason: "already_used" }, deps.shop.currency);
    }
    applied.push({ code, couponId: found.coupon.id, stackable: found.coupon.stackable, discountMinor: evaluation.discountMinor, freeShipping: evaluation.freeShipping });
  }
  const subtotal = input.cart.lines.reduce((n, l) => n + l.totalMinor, 0);
  const combined = combineDiscounts(applied, subtotal);
  if (!combined.ok) throw new CouponRefused(combined.loner, { reason: "does_not_stack", other: applied.find((a) => a.code !== combined.loner)?.code ?? "" }, deps.shop.currency);
  // Stored per redemption so the report adds up to the order's discount.
  if (applied.length > 0 && combined.discountMinor < applied.reduce((n, a) => n + a.discountMinor, 0)) {
    let left = combined.discountMinor;
    for (const a of applied) {
      const share = Math.min(a.discountMinor, left);
      left -= share;
      await tx.redemption.updateMany({ where: { orderId: input.orderId, couponId: a.couponId }, data: { discountMinor: share } });
    }
  }
  return { discountMinor: combined.discountMinor, freeShipping: combined.freeShipping, couponId: applied[0]?.couponId ?? null, codes: applied.map((a) => a.code) };
}

/** The order is paid: its reserved redemptions become final (once). */
export async function commitRedemptionsInTx(tx: Tx, deps: Deps, input: { orderId: string }) {
  await tx.redemption.updateMany({ where: { orderId: input.orderId, status: "reserved" }, data: { status: "committed", committedAt: deps.now() } });
}

/** The order is cancelled or expired: the uses go back to the coupon and the personal codes can be used again. */
export async function releaseRedemptionsInTx(tx: Tx, deps: Deps, input: { orderId: string }) {
  // Coupon rows in id order, as reserveCouponsInTx locks them.
  const reserved = await tx.redemption.findMany({ where: { orderId: input.orderId, status: "reserved" }, orderBy: [{ couponId: "asc" }, { id: "asc" }] });
  for (const r of reserved) {
    const released = await tx.redemption.updateMany({ where: { id: r.id, status: "reserved" }, data: { status: "released", releasedAt: deps.now() } });
    if (released.count !== 1) continue;
    await tx.$executeRaw`UPDATE "Coupon" SET "usedCount" = "usedCount" - 1 WHERE "id" = ${r.couponId} AND "usedCount" > 0`;
    if (r.personalCodeId) await tx.personalCode.updateMany({ where: { id: r.personalCodeId }, data: { usedAt: null } });
  }
}

// ───────────── admin ─────────────

async function couponData(db: Db, input: CouponInputT, currency: string) {
  const collections = await db.collection.findMany({ where: { slug: { in: input.collectionSlugs } } });
  const missing = input.collectionSlugs.filter((s) => !collections.some((c) => c.slug === s));
  if (missing.length) throw AppError.validation(`collectionSlugs: no collection named ${missing.join(", ")}.`, [{ field: "collectionSlugs", message: "unknown collection" }]);
  const products = await db.product.count({ where: { id: { in: input.productIds } } });
  if (products !== new Set(input.productIds).size) throw AppError.validation("productIds: a product was not found.", [{ field: "productIds", message: "unknown product" }]);
  if (input.liveSessionId && !(await db.liveSession.findUnique({ where: { id: input.liveSessionId } }))) {
    throw AppError.validation("liveSessionId: no such live session.", [{ field: "liveSessionId", message: "unknown live session" }]);
  }
  const { collectionSlugs: _s, productIds: _p, ...fields } = input;
  // Only the amount of the coupon's own kind is kept: an edit that switches the kind leaves no stale amount behind.
  const amounts = { percentOff: input.kind === "percent" ? input.percentOff : null, amountOffMinor: input.kind === "fixed" ? input.amountOffMinor : null };
  return { fields: { ...fields, ...amounts, currency: input.kind === "fixed" ? currency : null }, collectionIds: collections.map((c) => c.id), productIds: [...new Set(input.productIds)] };
}

export async function createCoupon(deps: Deps, input: { coupon: CouponInputT; actor: Actor }) {
  return deps.db.$transaction(async (tx) => {
    if (await couponByCode(tx, input.coupon.code)) throw AppError.conflict(`The code ${input.coupon.code} already exists.`, [{ field: "code", message: "already exists" }]);
    const { fields, collectionIds, productIds } = await couponData(tx, input.coupon, deps.shop.currency);
    const coupon = await tx.coupon.create({
      data: { ...fields, products: { create: productIds.map((productId) => ({ productId })) }, collections: { create: collectionIds.map((collectionId) => ({ collectionId })) } },
    });
    await recordAudit(tx, { actor: input.actor, action: "coupon.create", entityType: "coupon", entityId: coupon.id, details: { code: coupon.code } });
    return coupon;
  });
}

export async function updateCoupon(deps: Deps, input: { id: string; coupon: CouponInputT; actor: Actor }) {
  return deps.db.$transaction(async (tx) => {
    const existing = await tx.coupon.findUnique({ where: { id: input.id } });
    if (!existing) throw AppError.notFound("coupon");
    if (input.coupon.code !== existing.code) {
      if (await couponByCode(tx, input.coupon.code)) throw AppError.conflict(`The code ${input.coupon.code} already exists.`, [{ field: "code", message: "already exists" }]);
      if (existing.usedCount > 0) throw AppError.conflict("A code that has been used cannot be renamed; disable it and create a new one.", [{ field: "code", message: "in use" }]);
    }
    if (input.coupon.usageLimit !== null && input.coupon.usageLimit < existing.usedCount) {
      throw AppError.validation(`usageLimit: already used ${existing.usedCount} times; the limit cannot be lower.`, [{ field: "usageLimit", message: `at least ${existing.usedCount}` }]);
    }
    const { fields, collectionIds, productIds } = await couponData(tx, input.coupon, deps.shop.currency);
    await tx.couponProduct.deleteMany({ where: { couponId: existing.id } });
    await tx.couponCollection.deleteMany({ where: { couponId: existing.id } });
    const coupon = await tx.coupon.update({
      where: { id: existing.id },
      data: { ...fields, products: { create: productIds.map((productId) => ({ productId })) }, collections: { create: collectionIds.map((collectionId) => ({ collectionId })) } },
    });
    await recordAudit(tx, { actor: input.actor, action: "coupon.update", entityType: "coupon", entityId: coupon.id });
    return coupon;
  });
}

export async function setCouponStatus(deps: Deps, input: { id: string; status: "active" | "disabled"; actor: Actor }) {
  return deps.db.$transaction(async (tx) => {
    const found = await tx.coupon.findUnique({ where: { id: input.id } });
    if (!found) throw AppError.notFound("coupon");
    const coupon = await tx.coupon.update({ where: { id: input.id }, data: { status: input.status } });
    await recordAudit(tx, { actor: input.actor, action: `coupon.${input.status === "disabled" ? "disable" : "enable"}`, entityType: "coupon", entityId: coupon.id });
    return coupon;
  });
}

/** Redemptions by state and the revenue of paid orders that used the coupon. */
export async function getCouponReport(deps: Deps, input: { id: string }) {
  const coupon = await deps.db.coupon.findUnique({ where: { id: input.id }, include: { collections: { include: { collection: true }, orderBy: [{ collection: { position: "asc" } }, { collectionId: "asc" }] }, products: { include: { product: { select: { id: true, title: true } } }, orderBy: [{ product: { title: "asc" } }, { productId: "asc" }] }, _count: { select: { personalCodes: true } } } });
  if (!coupon) return null;
  const byStatus = await deps.db.redemption.groupBy({ by: ["status"], where: { couponId: coupon.id }, _count: { _all: true }, _sum: { discountMinor: true } });
  const committedOrders = await deps.db.redemption.findMany({ where: { couponId: coupon.id, status: "committed", orderId: { not: null } }, select: { orderId: true } });
  const revenue = await deps.db.order.aggregate({ where: { id: { in: committedOrders.map((r) => r.orderId!) } }, _sum: { totalMinor: true, refundedMinor: true } });
  const count = (s: string) => byStatus.find((b) => b.status === s)?._count._all ?? 0;
  return {
    coupon,
    reserved: count("reserved"),
    committed: count("committed"),
    released: count("released"),
    discountGivenMinor: byStatus.find((b) => b.status === "committed")?._sum.discountMinor ?? 0,
    revenueMinor: (revenue._sum.totalMinor ?? 0) - (revenue._sum.refundedMinor ?? 0),
    personalCodes: coupon._count.personalCodes,
  };
}

export async function listCoupons(deps: Deps) {
  return deps.db.coupon.findMany({ orderBy: [{ status: "asc" }, { createdAt: "desc" }, { id: "desc" }], include: { _count: { select: { personalCodes: true } } } });
}

/**
 * Issues one single-use personal code per chosen follower (skipping those who
 * already have one for this coupon) and emails it to those with a confirmed
 * email. The code is the follower's credential, so it is long and random.
 */
export async function issuePersonalCodes(deps: Deps, input: { couponId: string; filter: IssueCodesInputT; actor: Actor }) {
  const coupon = await deps.db.coupon.findUnique({ where: { id: input.couponId } });
  if (!coupon) throw AppError.notFound("coupon");
  const now = deps.now();
  const f = input.filter;
  type Issued = { followerId: string; handle: string; code: string; emailQueued: boolean; emailed: boolean };
  const issued: Issued[] = [];
  // Bounded chunks, one short transaction each: issuing 10,000 codes must not
  // hold the database's writer (SQLite) for seconds while shoppers check out.
  // Each code stands alone, so a chunk that fails leaves the earlier ones valid.
  while (issued.length < f.limit) {
    const chunk = await deps.db.$transaction(async (tx) => {
      // One issue run per coupon at a time: "followers without a code yet" is
      // read and written under the lock, so two runs cannot both issue to one follower.
      await lockInTx(tx, "coupon-codes", coupon.id);
      const followers = await tx.follower.findMany({
        where: {
          status: "active",
          ...(f.followerIds ? { id: { in: f.followerIds } } : {}),
          ...(f.platform ? { platform: f.platform } : {}),
          ...(f.verification === "email" ? { emailConfirmedAt: { not: null } } : {}),
          ...(f.verification === "imported" ? { importedAt: { not: null } } : {}),
          ...(f.verification === "both" ? { emailConfirmedAt: { not: null }, importedAt: { not: null } } : {}),
          ...(f.minFollowDays ? { followedAt: { lte: new Date(now.getTime() - f.minFollowDays * DAY) } } : {}),
          personalCodes: { none: { couponId: coupon.id } },
        },
        take: Math.min(ISSUE_CHUNK, f.limit - issued.length),
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      });
      const rows: Issued[] = [];
      for (const follower of followers) {
        const code = `${coupon.code.slice(0, 12)}-${randomCode()}`;
        await tx.personalCode.create({ data: { couponId: coupon.id, followerId: follower.id, code, createdAt: now } });
        // `emailQueued`: the code's email is in the outbox. `emailed` only when a
        // sender is configured too: without one nothing leaves the shop, and the
        // answer must not say otherwise.
        const emailQueued = f.notify && !!follower.email && !!follower.emailConfirmedAt;
        if (emailQueued) {
          const locale = isLocale(follower.locale) ? follower.locale : deps.shop.locale;
          // Marketing mail: it carries a one-click unsubscribe (List-Unsubscribe).
          await queueEmail(tx, {
            to: follower.email!,
            template: "personal_code",
            dedupeKey: `personal-code:${coupon.id}:${follower.id}`,
            subject: translate(locale, "email.code.subject", { shop: deps.shop.name }),
            locale,
            linkBase: deps.shop.publicUrl ?? "",
            data: { shopName: deps.shop.name, handle: follower.handle, code, description: coupon.description, shopUrl: `${deps.shop.publicUrl ?? ""}/` },
          });
        }
        rows.push({ followerId: follower.id, handle: follower.handle, code, emailQueued, emailed: emailQueued && !!deps.mail });
      }
      if (rows.length > 0) await recordAudit(tx, { actor: input.actor, action: "coupon.issue_codes", entityType: "coupon", entityId: coupon.id, details: { count: rows.length } });
      return rows;
    });
    issued.push(...chunk);
    if (chunk.length < ISSUE_CHUNK) break;
  }
  return issued;
}

/** Codes issued per transaction. */
const ISSUE_CHUNK = 200;
