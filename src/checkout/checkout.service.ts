import { createHash, randomBytes } from "node:crypto";
import { recordAudit, type Actor } from "../audit/audit.service.js";
import { offerFor } from "../catalog/offer.js";
import { variantLabel } from "../catalog/catalog.service.js";
import type { Prisma } from "../db/client.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { formatMoney } from "../i18n/format.js";
import type { Locale } from "../i18n/translate.js";
import { queueEmail } from "../mail/outbox.service.js";
import { mediaPath } from "../media/media.paths.js";
import type { CheckoutOutcome } from "../payments/gateway.js";
import { findCartByToken } from "./cart.service.js";
import type { FollowerFacts } from "../coupons/coupon-rules.js";
import { cartFacts, commitRedemptionsInTx, releaseRedemptionsInTx, reserveCouponsInTx } from "../coupons/coupons.service.js";
import { scheduleReviewRequestInTx } from "../reviews/requests.service.js";

type Tx = Prisma.TransactionClient;

export type CheckoutDeps = Deps;

export interface Attribution {
  linkId: string | null;
  postId: string | null;
  liveSessionId: string | null;
  channel: string | null;
  visitorId: string | null;
}

/** Byte order, the same on every engine and locale: the lock order of rows. */
const compareIds = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const hashKey = (key: string) => createHash("sha256").update(key).digest("hex");

/**
 * Starts a checkout for the visitor's cart. In ONE transaction: prices every
 * line from the catalog (never from the request), reserves stock with a
 * conditional update per variant, and creates the pending order with a
 * snapshot of each line. Then hands over to the payment gateway; if that
 * fails, the order is cancelled and its holds released (compensation).
 */
export async function startCheckout(
  deps: CheckoutDeps,
  input: {
    cartToken: string | undefined;
    email?: string | null;
    locale: Locale;
    returnBase: string;
    attribution?: Attribution | null;
    /** The shopper as a follower (signed cookie), for follower-only coupons. */
    follower?: (FollowerFacts & { emailKey: string | null }) | null;
  },
) {
  const cart = input.cartToken ? await findCartByToken(deps, input.cartToken) : null;
  if (!cart || cart.items.length === 0) throw new AppError("cart_empty", 409, "Your cart is empty.");
  await supersedePendingCheckouts(deps, cart.id);

  const now = deps.now();
  const expiresAt = new Date(now.getTime() + deps.checkout.holdMinutes * 60_000);
  const accessKey = randomBytes(24).toString("base64url");

  const order = await deps.db.$transaction(async (tx) => {
    const variantIds = cart.items.map((i) => i.variantId);
    await releaseExpiredHoldsInTx(tx, deps, { variantIds });
    const variants = await tx.variant.findMany({
      where: { id: { in: variantIds } },
      include: { product: { include: { images: { orderBy: [{ position: "asc" }, { id: "asc" }], take: 1, include: { media: true } } } } },
    });
    const lines = cart.items.map((item, index) => {
      const v = variants.find((x) => x.id === item.variantId);
      if (!v || v.archivedAt || v.product.status !== "active") {
        throw new AppError("item_unavailable", 409, `"${v?.product.title ?? "An item"}" is no longer sold. Remove it from your cart.`, [{ field: `items.${index}`, message: "no longer sold" }]);
      }
      if (v.currency !== deps.shop.currency) {
        throw new AppError("currency_mismatch", 409, `"${v.product.title}" is priced in ${v.currency}, but this shop sells in ${deps.shop.currency}.`);
      }
      const offer = offerFor(v, 0);
      return { item, variant: v, unitPriceMinor: offer.priceMinor, totalMinor: offer.priceMinor * item.quantity };
    });

    // The hold itself: reserved goes up only while stock − reserved covers it.
    // Rows are locked in variant-id order, whatever the cart's order, so two
    // carts holding the same variants cannot deadlock each other.
    for (const line of [...lines].sort((a, b) => compareIds(a.variant.id, b.variant.id))) {
      const taken = await tx.$executeRaw`UPDATE "Variant" SET "reserved" = "reserved" + ${line.item.quantity} WHERE "id" = ${line.variant.id} AND "stock" - "reserved" >= ${line.item.quantity}`;
      if (taken !== 1) {
        const fresh = await tx.variant.findUniqueOrThrow({ where: { id: line.variant.id } });
        const left = Math.max(0, fresh.stock - fresh.reserved);
        throw new AppError(
          "out_of_stock",
          409,
          left === 0 ? `"${line.variant.product.title}" just sold out.` : `Only ${left} of "${line.variant.product.title}" left; lower the quantity in your cart.`,
          [{ field: `items.${line.item.variantId}`, message: left === 0 ? "sold out" : `only ${left} left`, available: left }],
        );
      }
    }

    const subtotal = lines.reduce((n, l) => n + l.totalMinor, 0);
    const counter = await tx.counter.upsert({ where: { name: "order" }, create: { name: "order", value: 1001 }, update: { value: { increment: 1 } } });
    const created = await tx.order.create({
      data: {
        number: counter.value,
        status: "pending",
        currency: deps.shop.currency,
        subtotalMinor: subtotal,
        discountMinor: 0,
        shippingMinor: 0,
        taxMinor: 0,
        totalMinor: subtotal,
        email: input.email ?? null,
        locale: input.locale,
        paymentProvider: deps.payments.provider,
        accessKeyHash: hashKey(accessKey),
        cartId: cart.id,
        createdAt: now,
        expiresAt,
        linkId: input.attribution?.linkId ?? null,
        postId: input.attribution?.postId ?? null,
        liveSessionId: input.attribution?.liveSessionId ?? null,
        channel: input.attribution?.channel ?? null,
        visitorId: input.attribution?.visitorId ?? null,
        lines: {
          create: lines.map((l) => ({
            variantId: l.variant.id,
            productId: l.variant.productId,
            title: l.variant.product.title,
            variantTitle: variantLabel(l.variant),
            sku: l.variant.sku,
            unitPriceMinor: l.unitPriceMinor,
            quantity: l.item.quantity,
            totalMinor: l.totalMinor,
          })),
        },
        holds: { create: lines.map((l) => ({ variantId: l.variant.id, quantity: l.item.quantity, createdAt: now, expiresAt })) },
      },
    });
    // Coupons are reserved in the same transaction as the stock: a refused
    // code (limit reached since it was applied) rolls back the holds too.
    let freeShipping = false;
    let order = created;
    const codes = JSON.parse(cart.couponCodes) as string[];
    if (codes.length > 0) {
      const facts = await cartFacts(tx, { currency: deps.shop.currency, lines: lines.map((l) => ({ productId: l.variant.productId, totalMinor: l.totalMinor })) });
      const coupons = await reserveCouponsInTx(tx, deps, { orderId: created.id, codes, cart: facts, follower: input.follower ?? null });
      freeShipping = coupons.freeShipping;
      order = await tx.order.update({
        where: { id: created.id },
        data: { discountMinor: coupons.discountMinor, totalMinor: subtotal - coupons.discountMinor, couponId: coupons.couponId },
      });
    }
    await tx.analyticsEvent.create({
      data: { type: "checkout_start", at: now, orderId: created.id, valueMinor: order.totalMinor, linkId: created.linkId, postId: created.postId, liveSessionId: created.liveSessionId, channel: created.channel, visitorId: created.visitorId },
    });
    return { ...order, lines, freeShipping };
  });

  const successUrl = `${input.returnBase}/orders/${order.id}?key=${accessKey}`;
  const cancelUrl = `${input.returnBase}/checkout/cancel/${order.id}?key=${accessKey}`;
  let hosted;
  try {
    hosted = await deps.payments.createCheckout(
      {
        orderId: order.id,
        orderNumber: order.number,
        currency: order.currency,
        email: order.email,
        locale: input.locale,
        lines: order.lines.map((l) => {
          const image = l.variant.product.images[0];
          return {
            title: [l.variant.product.title, variantLabel(l.variant)].filter(Boolean).join(" – "),
            unitAmountMinor: l.unitPriceMinor,
            quantity: l.item.quantity,
            imageUrl: image ? `${input.returnBase}${mediaPath(image.media.storageKey, "square")}` : null,
          };
        }),
        discountMinor: order.discountMinor,
        discountLabel: order.discountMinor > 0 ? "Coupon" : null,
        shippingOptions: order.freeShipping ? deps.checkout.shippingOptions.map((o) => ({ ...o, amountMinor: 0 })) : deps.checkout.shippingOptions,
        returnBase: input.returnBase,
        successUrl,
        cancelUrl,
        expiresAt,
      },
      `order:${order.id}`,
    );
  } catch (err) {
    deps.logger.error({ err, orderId: order.id }, "payment provider refused the checkout");
    await cancelOrder(deps, { orderId: order.id, reason: "payment_provider_error", actor: { type: "system" } });
    throw new AppError("payment_unavailable", 502, "The payment provider did not answer. Nothing was charged; please try again in a minute.");
  }
  await deps.db.order.update({ where: { id: order.id }, data: { paymentRef: hosted.ref } });
  return { orderId: order.id, orderNumber: order.number, url: hosted.url, accessKey };
}

/** A new checkout from the same cart replaces an unfinished one, so a double click never holds stock twice. */
async function supersedePendingCheckouts(deps: CheckoutDeps, cartId: string) {
  const pending = await deps.db.order.findMany({ where: { cartId, status: "pending" }, select: { id: true } });
  for (const p of pending) await cancelOrder(deps, { orderId: p.id, reason: "superseded", actor: { type: "shopper" } });
}

/**
 * Pays an order exactly once: the pending → paid change is a conditional
 * update, the held units become sold units in the same transaction, and the
 * confirmation email is queued under a dedupe key. A second delivery of the
 * same payment finds the order already paid and changes nothing.
 * With `eventId`, the provider event is written to the ledger in the same
 * transaction, so the event counts as processed only if its effects committed.
 */
export async function markOrderPaid(deps: CheckoutDeps, input: { orderId: string; outcome: CheckoutOutcome; eventId?: string; eventType?: string }) {
  return deps.db.$transaction(async (tx) => {
    if (input.eventId && !(await recordEvent(tx, { id: input.eventId, type: input.eventType ?? "payment", orderId: input.orderId, provider: deps.payments.provider }))) {
      return { changed: false, reason: "duplicate_event" as const };
    }
    // Holds in variant-id order: the same lock order as checkout (no deadlock).
    const order = await tx.order.findUnique({ where: { id: input.orderId }, include: { holds: { where: { status: "active" }, orderBy: [{ variantId: "asc" }, { id: "asc" }] }, lines: { orderBy: { id: "asc" } } } });
    if (!order) return { changed: false, reason: "unknown_order" as const };
    if (order.status === "cancelled" && input.outcome.paid) {
      // Money arrived for an order whose hold was already given back (it can
      // only happen if the provider accepted a payment after expiry): flag it
      // for a refund rather than sell stock we may no longer have.
      await recordAudit(tx, { actor: { type: "system" }, action: "order.paid_after_cancel", entityType: "order", entityId: order.id, rule: "refund_needed", details: { paymentIntentId: input.outcome.paymentIntentId } });
    }
    if (order.status !== "pending") return { changed: false, reason: "not_pending" as const, status: order.status };

    const shippingMinor = input.outcome.shippingMinor ?? 0;
    const totalMinor = order.subtotalMinor - order.discountMinor + shippingMinor + order.taxMinor;
    const mismatch = input.outcome.amountTotalMinor !== null && input.outcome.amountTotalMinor !== totalMinor;
    const shippingOption = deps.checkout.shippingOptions.find((o) => o.amountMinor === shippingMinor)?.id ?? null;
    const paid = await tx.order.updateMany({
      where: { id: order.id, status: "pending" },
      data: {
        status: "paid",
        paidAt: deps.now(),
        shippingMinor,
        shippingOption,
        totalMinor,
        amountMismatch: mismatch,
        email: input.outcome.email ?? order.email,
        customerName: input.outcome.name,
        shippingAddress: input.outcome.address ? JSON.stringify(input.outcome.address) : null,
        paymentIntentId: input.outcome.paymentIntentId,
      },
    });
    if (paid.count !== 1) return { changed: false, reason: "not_pending" as const };
    await scheduleReviewRequestInTx(tx, deps, { orderId: order.id, trigger: "paid" });

    for (const hold of order.holds) {
      // Sold: the held units leave stock and the reservation together.
      const sold = await tx.$executeRaw`UPDATE "Variant" SET "stock" = "stock" - ${hold.quantity}, "reserved" = "reserved" - ${hold.quantity} WHERE "id" = ${hold.variantId} AND "stock" >= ${hold.quantity} AND "reserved" >= ${hold.quantity}`;
      if (sold !== 1) throw new Error(`Stock invariant broken for variant ${hold.variantId} while paying order ${order.id}`);
      await tx.stockHold.update({ where: { id: hold.id }, data: { status: "consumed", releasedAt: deps.now() } });
    }
    await commitRedemptionsInTx(tx, deps, { orderId: order.id });
    // The cart that was bought is emptied with the payment, not before: a
    // shopper who abandons Stripe comes back to a full cart.
    if (order.cartId) {
      await tx.cartItem.deleteMany({ where: { cartId: order.cartId } });
      await tx.cart.update({ where: { id: order.cartId }, data: { couponCodes: "[]" } });
    }
    if (mismatch) {
      await recordAudit(tx, { actor: { type: "system" }, action: "order.amount_mismatch", entityType: "order", entityId: order.id, details: { charged: input.outcome.amountTotalMinor, computed: totalMinor } });
    }
    const email = input.outcome.email ?? order.email;
    if (email) {
      await queueEmail(tx, {
        to: email,
        template: "order_confirmation",
        dedupeKey: `order:${order.id}:confirmation`,
        subject: `Order #${order.number} confirmed`,
        text: confirmationText(order, totalMinor, shippingMinor),
      });
    }
    await tx.analyticsEvent.create({
      data: { type: "order_paid", at: deps.now(), orderId: order.id, valueMinor: totalMinor, linkId: order.linkId, postId: order.postId, liveSessionId: order.liveSessionId, channel: order.channel, visitorId: order.visitorId },
    });
    await recordAudit(tx, { actor: { type: "system" }, action: "order.paid", entityType: "order", entityId: order.id, details: { provider: deps.payments.provider, eventId: input.eventId ?? null } });
    return { changed: true as const, reason: "paid" as const };
  });
}

function confirmationText(order: { number: number; currency: string; locale: string; subtotalMinor: number; discountMinor: number; lines: { title: string; variantTitle: string; quantity: number; totalMinor: number }[] }, totalMinor: number, shippingMinor: number) {
  const locale = order.locale === "fa" ? "fa" : "en";
  const money = (n: number) => formatMoney(n, order.currency, locale);
  return [
    `Thank you for your order #${order.number}.`,
    "",
    ...order.lines.map((l) => `${l.quantity} × ${l.title}${l.variantTitle ? ` (${l.variantTitle})` : ""}: ${money(l.totalMinor)}`),
    "",
    `Subtotal: ${money(order.subtotalMinor)}`,
    ...(order.discountMinor ? [`Discount: −${money(order.discountMinor)}`] : []),
    `Shipping: ${money(shippingMinor)}`,
    `Total: ${money(totalMinor)}`,
  ].join("\n");
}

/**
 * Cancels a pending order and gives its held units back. Only a pending order
 * can be cancelled this way (a paid one is refunded instead); the conditional
 * update makes a second cancel, or a cancel racing a payment, a no-op.
 */
export async function cancelOrder(deps: CheckoutDeps, input: { orderId: string; reason: string; actor: Actor; eventId?: string; eventType?: string }) {
  const result = await deps.db.$transaction(async (tx) => {
    if (input.eventId && !(await recordEvent(tx, { id: input.eventId, type: input.eventType ?? "cancel", orderId: input.orderId, provider: deps.payments.provider }))) {
      return { changed: false, paymentRef: null };
    }
    const changed = await cancelOrderInTx(tx, deps, input);
    const order = await tx.order.findUnique({ where: { id: input.orderId }, select: { paymentRef: true } });
    return { changed, paymentRef: order?.paymentRef ?? null };
  });
  // Stop the provider from taking money for an order we no longer hold stock for.
  if (result.changed && result.paymentRef && input.reason !== "expired") {
    await deps.payments.expireCheckout(result.paymentRef).catch((err) => deps.logger.warn({ err, orderId: input.orderId }, "could not expire checkout"));
  }
  return result.changed;
}

async function cancelOrderInTx(tx: Tx, deps: Deps, input: { orderId: string; reason: string; actor: Actor }) {
  const cancelled = await tx.order.updateMany({ where: { id: input.orderId, status: "pending" }, data: { status: "cancelled", cancelledAt: deps.now() } });
  if (cancelled.count !== 1) return false;
  await releaseHoldsInTx(tx, deps, { orderId: input.orderId });
  await releaseRedemptionsInTx(tx, deps, { orderId: input.orderId });
  await recordAudit(tx, { actor: input.actor, action: "order.cancel", entityType: "order", entityId: input.orderId, rule: input.reason });
  return true;
}

async function releaseHoldsInTx(tx: Tx, deps: Deps, where: { orderId?: string; holdIds?: string[] }) {
  const holds = await tx.stockHold.findMany({
    where: { status: "active", ...(where.orderId ? { orderId: where.orderId } : {}), ...(where.holdIds ? { id: { in: where.holdIds } } : {}) },
    // Variant rows are locked in id order everywhere (see startCheckout).
    orderBy: [{ variantId: "asc" }, { id: "asc" }],
  });
  for (const hold of holds) {
    const released = await tx.stockHold.updateMany({ where: { id: hold.id, status: "active" }, data: { status: "released", releasedAt: deps.now() } });
    if (released.count === 1) {
      await tx.$executeRaw`UPDATE "Variant" SET "reserved" = "reserved" - ${hold.quantity} WHERE "id" = ${hold.variantId} AND "reserved" >= ${hold.quantity}`;
    }
  }
}

/**
 * Holds past their expiry: released, and their pending orders cancelled.
 * Runs inside checkout (for the variants being bought, so an expired hold
 * never blocks a shopper) and from the periodic sweep.
 */
export async function releaseExpiredHoldsInTx(tx: Tx, deps: Deps, scope: { variantIds?: string[] } = {}) {
  const expired = await tx.stockHold.findMany({
    where: { status: "active", expiresAt: { lte: deps.now() }, ...(scope.variantIds ? { variantId: { in: scope.variantIds } } : {}) },
    select: { id: true, orderId: true },
  });
  const orderIds = [...new Set(expired.map((h) => h.orderId).filter((id): id is string => !!id))].sort(compareIds);
  for (const orderId of orderIds) await cancelOrderInTx(tx, deps, { orderId, reason: "expired", actor: { type: "system" } });
  // Holds without an order (live claims) are released on their own.
  await releaseHoldsInTx(tx, deps, { holdIds: expired.filter((h) => !h.orderId).map((h) => h.id) });
  return orderIds.length;
}

export async function releaseExpiredHolds(deps: CheckoutDeps) {
  return deps.db.$transaction((tx) => releaseExpiredHoldsInTx(tx, deps));
}

/** Writes a provider event id to the ledger; false when it was already there. */
async function recordEvent(tx: Tx, event: { id: string; type: string; orderId: string | null; provider: string }) {
  const existing = await tx.paymentEvent.findUnique({ where: { id: event.id } });
  if (existing) return false;
  await tx.paymentEvent.create({ data: { id: event.id, type: event.type, orderId: event.orderId, provider: event.provider } });
  return true;
}

/** Ledger entry for an event that needed no change (unknown order, unhandled type). */
export async function recordIgnoredEvent(deps: CheckoutDeps, event: { id: string; type: string; orderId: string | null }) {
  await deps.db.paymentEvent.upsert({
    where: { id: event.id },
    create: { id: event.id, type: event.type, orderId: event.orderId, provider: deps.payments.provider, outcome: "ignored" },
    update: {},
  });
}

/** Looks up an order for its confirmation page; the key in the link is the only credential. */
export async function getOrderForShopper(deps: Deps, input: { orderId: string; key: string }) {
  const order = await deps.db.order.findUnique({ where: { id: input.orderId }, include: { lines: { orderBy: { id: "asc" } } } });
  if (!order || !order.accessKeyHash || order.accessKeyHash !== hashKey(input.key)) throw AppError.notFound("order");
  return order;
}

/**
 * Finds pending orders whose payment went through at the provider but whose
 * webhook never arrived, and settles them the same way the webhook would.
 */
export async function reconcilePendingOrders(deps: CheckoutDeps, input: { olderThanMinutes?: number } = {}) {
  const cutoff = new Date(deps.now().getTime() - (input.olderThanMinutes ?? 5) * 60_000);
  const pending = await deps.db.order.findMany({
    where: { status: "pending", paymentProvider: deps.payments.provider, paymentRef: { not: null }, createdAt: { lte: cutoff } },
    select: { id: true, paymentRef: true, number: true },
  });
  const report = { checked: pending.length, paid: [] as number[], cancelled: [] as number[], open: [] as number[] };
  for (const order of pending) {
    const outcome = await deps.payments.getCheckout(order.paymentRef!);
    if (outcome.status === "complete" && outcome.paid) {
      const r = await markOrderPaid(deps, { orderId: order.id, outcome, eventId: `reconcile:${outcome.ref}:paid`, eventType: "reconcile.paid" });
      if (r.changed) report.paid.push(order.number);
    } else if (outcome.status === "expired") {
      if (await cancelOrder(deps, { orderId: order.id, reason: "expired", actor: { type: "system" } })) report.cancelled.push(order.number);
    } else {
      report.open.push(order.number);
    }
  }
  return report;
}
