import { createHash, randomBytes } from "node:crypto";
import { recordAudit, type Actor } from "../audit/audit.service.js";
import { offerFor } from "../catalog/offer.js";
import { variantLabel } from "../catalog/catalog.service.js";
import type { Prisma } from "../db/client.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { formatDigits, formatMoney } from "../i18n/format.js";
import { translate, type Locale } from "../i18n/translate.js";
import { queueEmail } from "../mail/outbox.service.js";
import { recordEvent as recordAnalyticsEvent } from "../analytics/events.js";
import { mediaPath } from "../media/media.paths.js";
import type { CheckoutOutcome } from "../payments/gateway.js";
import { readCheckoutCart, readOrderForPayment } from "./checkout.queries.js";
import type { FollowerFacts } from "../coupons/coupon-rules.js";
import { cartFacts, commitRedemptionsInTx, releaseRedemptionsInTx, reserveCouponsInTx } from "../coupons/coupons.service.js";
import { scheduleReviewRequestInTx } from "../reviews/requests.service.js";
import { readReviewSettings } from "../reviews/settings.js";
import type { ReviewSettings } from "../reviews/reviews.schema.js";
import { sql } from "../db/dialect.js";
import { adoptHoldsInTx, consumeOrderHoldsInTx, expireHoldsInTx, recordHoldsInTx, releaseOrderHoldsInTx, reserveStockInTx, type Shortfall } from "../inventory/holds.service.js";
import { asWriter, writeTransaction, type Writer } from "../db/writer.js";
import { emptyCart, hasExpiredHolds, insertPaymentEvent, insertPendingOrder, markPaidIf, nextOrderNumber, setPaymentRef, type NewOrder, type NewOrderLine } from "./checkout.writes.js";

type Tx = Prisma.TransactionClient;

/** Thrown out of the hot-path transaction (rolling it back) when the checkout needs the Prisma one: expired holds to release. */
class NeedsPrisma extends Error {}

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
 * Units the shopper already holds (a live claim): the order takes the hold
 * over instead of taking a second one, at the price locked in when it was
 * taken. Cart lines of that variant are covered by these first.
 */
export interface PreHeldLine {
  holdId: string;
  variantId: string;
  quantity: number;
  unitPriceMinor: number;
}

/**
 * Starts a checkout for the visitor's cart. The cart and the catalog rows it
 * names are read first, in one statement (prices come from the catalog, never
 * from the request). Then ONE short transaction: stock is reserved with a
 * conditional update per variant (the only check of stock that counts), and
 * the pending order is created with a snapshot of each line. Expired holds
 * are released in it only when stock falls short, since only then can they
 * matter (the sweep releases the rest). Then the payment gateway is called,
 * outside the transaction; if that fails, the order is cancelled and its
 * holds released (compensation).
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
    /** Holds taken earlier (live claims) that this order takes over. */
    preHeld?: PreHeldLine[];
    /** Where "back out of payment" returns to instead of the cart (a shop path, e.g. the live page). */
    backPath?: string;
  },
) {
  const cart = input.cartToken ? await readCheckoutCart(deps.db, hashKey(input.cartToken)) : null;
  if (!cart || cart.items.length === 0) throw new AppError("cart_empty", 409, "Your cart is empty.");
  if (cart.pendingOrders > 0) await supersedePendingCheckouts(deps, cart.id);

  const now = deps.now();
  const expiresAt = new Date(now.getTime() + deps.checkout.holdMinutes * 60_000);
  const accessKey = randomBytes(24).toString("base64url");

  // Priced and checked before the transaction: a price edited in between is
  // the same as the shopper clicking a moment earlier; stock is checked by
  // the conditional update inside.
  const lines = cart.items.flatMap((item, index) => {
    const v = item.variant;
    if (!v || v.archived || v.product.status !== "active") {
      throw new AppError("item_unavailable", 409, `"${v?.product.title ?? "An item"}" is no longer sold. Remove it from your cart.`, [{ field: `items.${index}`, message: "no longer sold", title: v?.product.title ?? "" }]);
    }
    if (v.currency !== deps.shop.currency) {
      throw new AppError("currency_mismatch", 409, `"${v.product.title}" is priced in ${v.currency}, but this shop sells in ${deps.shop.currency}.`, [{ field: `items.${index}`, message: "other currency", title: v.product.title }]);
    }
    const offer = offerFor(v, 0);
    const held = (input.preHeld ?? []).filter((p) => p.variantId === item.variantId);
    const rest = item.quantity - held.reduce((n, p) => n + p.quantity, 0);
    return [
      ...held.map((p) => ({ item: { variantId: p.variantId, quantity: p.quantity }, variant: v, unitPriceMinor: p.unitPriceMinor, totalMinor: p.unitPriceMinor * p.quantity, holdId: p.holdId as string | null })),
      ...(rest > 0 ? [{ item: { variantId: item.variantId, quantity: rest }, variant: v, unitPriceMinor: offer.priceMinor, totalMinor: offer.priceMinor * rest, holdId: null as string | null }] : []),
    ];
  });
  const subtotal = lines.reduce((n, l) => n + l.totalMinor, 0);
  const toHold = lines.filter((l) => !l.holdId);
  const adopt = lines.flatMap((l) => (l.holdId ? [l.holdId] : []));
  const codes = JSON.parse(cart.couponCodes) as string[];

  const newOrder: NewOrder = {
    number: 0,
    currency: deps.shop.currency,
    subtotalMinor: subtotal,
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
  };
  const orderLines: NewOrderLine[] = lines.map((l) => ({
    variantId: l.variant.id,
    productId: l.variant.productId,
    title: l.variant.product.title,
    variantTitle: variantLabel(l.variant),
    sku: l.variant.sku,
    unitPriceMinor: l.unitPriceMinor,
    quantity: l.item.quantity,
    totalMinor: l.totalMinor,
  }));
  const soldOut = (shortfall: Shortfall) => {
    const line = toHold.find((l) => l.variant.id === shortfall.variantId)!;
    const left = shortfall.available;
    return new AppError(
      "out_of_stock",
      409,
      left === 0 ? `"${line.variant.product.title}" just sold out.` : `Only ${left} of "${line.variant.product.title}" left; lower the quantity in your cart.`,
      [{ field: `items.${line.item.variantId}`, message: left === 0 ? "sold out" : `only ${left} left`, available: left, title: line.variant.product.title }],
    );
  };

  /**
   * The transaction. `tx` is the Prisma transaction behind `w` when there is
   * one: coupons, taking over live claims' holds and releasing expired
   * holds are Prisma code. Without it (the common checkout: no coupon, no
   * claim, enough stock) everything runs through the hot-path writer.
   */
  const place = async (w: Writer, tx: Tx | null) => {
    // Stock first: a sold-out burst fails here, before any insert, and the order counter is locked only by checkouts that go ahead.
    let shortfall = await reserveStockInTx(w, toHold.map((l) => l.item));
    if (shortfall && !tx) {
      // Expired holds (still counted in `reserved`) can only be released in the Prisma transaction: go there only if there are any.
      if (await hasExpiredHolds(w, { variantIds: cart.items.map((i) => i.variantId), now })) throw new NeedsPrisma();
      throw soldOut(shortfall);
    }
    if (shortfall && tx) {
      // Units in holds that ran out still count as reserved until released: release them (and cancel their orders), then try once more.
      const expired = await expireHoldsInTx(tx, deps, { variantIds: cart.items.map((i) => i.variantId) });
      for (const orderId of expired.orderIds) await cancelOrderInTx(tx, deps, { orderId, reason: "expired", actor: { type: "system" } });
      if (expired.orderIds.length > 0 || expired.releasedHoldIds.length > 0) shortfall = await reserveStockInTx(w, toHold.map((l) => l.item));
      if (shortfall) throw soldOut(shortfall);
    }
    const number = await nextOrderNumber(w);
    const id = await insertPendingOrder(w, { ...newOrder, number }, orderLines);
    // The hold rows for the units just reserved (see src/inventory): reserved and holds change together.
    if (toHold.length > 0) await recordHoldsInTx(w, deps, { lines: toHold.map((l) => l.item), expiresAt, orderId: id });
    const order = { id, number, currency: newOrder.currency, email: newOrder.email, totalMinor: subtotal, discountMinor: 0, couponId: null as string | null, linkId: newOrder.linkId, postId: newOrder.postId, liveSessionId: newOrder.liveSessionId, channel: newOrder.channel, freeShipping: false };
    if (!tx) return order;
    if (!(await adoptHoldsInTx(tx, deps, { holdIds: adopt, orderId: id, expiresAt }))) {
      throw new AppError("hold_expired", 409, "Your hold has run out, so the item is no longer set aside for you.", [{ field: "holds", message: "expired or already in another checkout" }]);
    }
    // Coupons are reserved in the same transaction as the stock: a refused
    // code (limit reached since it was applied) rolls back the holds too.
    if (codes.length > 0) {
      const facts = await cartFacts(tx, { currency: deps.shop.currency, lines: lines.map((l) => ({ productId: l.variant.productId, totalMinor: l.totalMinor })) });
      const coupons = await reserveCouponsInTx(tx, deps, { orderId: id, codes, cart: facts, follower: input.follower ?? null });
      await tx.order.update({ where: { id }, data: { discountMinor: coupons.discountMinor, totalMinor: subtotal - coupons.discountMinor, couponId: coupons.couponId }, select: { id: true } });
      return { ...order, discountMinor: coupons.discountMinor, totalMinor: subtotal - coupons.discountMinor, couponId: coupons.couponId, freeShipping: coupons.freeShipping };
    }
    return order;
  };
  const viaPrisma = () => deps.db.$transaction((tx) => place(asWriter(tx), tx));
  let order;
  if (codes.length > 0 || adopt.length > 0) order = await viaPrisma();
  else {
    try {
      order = await writeTransaction(deps.db, (w) => place(w, null));
    } catch (err) {
      if (!(err instanceof NeedsPrisma)) throw err;
      order = await viaPrisma();
    }
  }
  // Buffered, after the commit: analytics counts checkouts from Order rows, so this event is the log, not the figure.
  recordAnalyticsEvent(deps, { type: "checkout_start", orderId: order.id, valueMinor: order.totalMinor, couponId: order.couponId, linkId: order.linkId, postId: order.postId, liveSessionId: order.liveSessionId, channel: order.channel });

  const successUrl = `${input.returnBase}/orders/${order.id}?key=${accessKey}`;
  const cancelUrl = `${input.returnBase}/checkout/cancel/${order.id}?key=${accessKey}${input.backPath ? `&back=${encodeURIComponent(input.backPath)}` : ""}`;
  let hosted;
  try {
    hosted = await deps.payments.createCheckout(
      {
        orderId: order.id,
        orderNumber: order.number,
        currency: order.currency,
        email: order.email,
        locale: input.locale,
        lines: lines.map((l) => {
          const imageKey = l.variant.product.imageKey;
          return {
            title: [l.variant.product.title, variantLabel(l.variant)].filter(Boolean).join(" – "),
            unitAmountMinor: l.unitPriceMinor,
            quantity: l.item.quantity,
            imageUrl: imageKey ? `${input.returnBase}${mediaPath(imageKey, "square")}` : null,
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
  await writeTransaction(deps.db, (w) => setPaymentRef(w, { orderId: order.id, ref: hosted.ref, now: deps.now() }));
  return { orderId: order.id, orderNumber: order.number, url: hosted.url, accessKey };
}

/** A new checkout from the same cart replaces an unfinished one, so a double click never holds stock twice. */
async function supersedePendingCheckouts(deps: CheckoutDeps, cartId: string) {
  const pending = await deps.db.order.findMany({ where: { cartId, status: "pending" }, select: { id: true } });
  for (const p of pending) await cancelOrder(deps, { orderId: p.id, reason: "superseded", actor: { type: "shopper" } });
}

/**
 * Cancellations that no person decided: the payment window ran out (our hold
 * or Stripe's session) or the bank debit failed. Money that arrives for such
 * an order anyway still buys it, if the stock is still there (see markOrderPaid).
 */
const UNDECIDED_CANCELS = new Set(["expired", "payment_failed"]);

/** Thrown inside the payment transaction to roll the revival back; the order is then flagged instead. */
class NotRevivable extends Error {}

/**
 * Pays an order exactly once: the pending → paid change is a conditional
 * update, the held units become sold units in the same transaction, and the
 * confirmation email is queued under a dedupe key. A second delivery of the
 * same payment finds the order already paid and changes nothing.
 * With `eventId`, the provider event is written to the ledger in the same
 * transaction, so the event counts as processed only if its effects committed.
 *
 * Out of order: a payment for an order that was cancelled only because its
 * payment window ran out (or a debit failed) still pays it when every unit
 * can be taken from stock again and no coupon was involved, so "paid" wins
 * over "expired" whichever event comes first. Otherwise (sold out since, a
 * coupon use given back, or a person cancelled it) the order stays
 * cancelled, keeps the payment id for the refund, and the admin page says
 * to refund it.
 */
export async function markOrderPaid(deps: CheckoutDeps, input: { orderId: string; outcome: CheckoutOutcome; eventId?: string; eventType?: string }) {
  try {
    return await payInTx(deps, input, { revive: true });
  } catch (err) {
    if (!(err instanceof NotRevivable)) throw err;
    return payInTx(deps, input, { revive: false });
  }
}

async function payInTx(deps: CheckoutDeps, input: { orderId: string; outcome: CheckoutOutcome; eventId?: string; eventType?: string }, mode: { revive: boolean }) {
  // Read before the transaction, in one statement: every change below is
  // conditional on the status read here, so an order that changed since
  // (paid by a racing delivery, cancelled) is left alone.
  const order = await readOrderForPayment(deps.db, input.orderId);
  // The common payment (a pending order, no coupon, no review request on
  // payment) runs entirely through the hot-path writer; the rest needs Prisma
  // code in the same transaction (coupon uses, review requests, revival).
  const hot = order?.status === "pending" && order.reservedRedemptions === 0 && !reviewRequestOnPayment(await readReviewSettings(deps.db));
  const pay = async (w: Writer, tx: Tx | null) => {
    if (input.eventId && !(await insertPaymentEvent(w, { id: input.eventId, provider: deps.payments.provider, type: input.eventType ?? "payment", orderId: input.orderId, receivedAt: deps.now(), outcome: "processed" }))) {
      return { changed: false, reason: "duplicate_event" as const };
    }
    if (!order) return { changed: false, reason: "unknown_order" as const };
    const reviving = order.status === "cancelled" && input.outcome.paid;
    if (reviving && !tx) throw new Error("a revival runs in the Prisma transaction");
    if (reviving && !(mode.revive && UNDECIDED_CANCELS.has(order.cancelReason ?? "") && (await tx!.redemption.count({ where: { orderId: order.id } })) === 0)) {
      // Money arrived for an order whose stock was given back and which we
      // will not sell after all: keep the payment id (its refund will match
      // it) and flag it for a refund rather than sell stock we may not have.
      await tx!.order.updateMany({ where: { id: order.id, status: "cancelled", paymentIntentId: null }, data: { paymentIntentId: input.outcome.paymentIntentId } });
      await recordAudit(w, { actor: { type: "system" }, action: "order.paid_after_cancel", entityType: "order", entityId: order.id, rule: "refund_needed", details: { paymentIntentId: input.outcome.paymentIntentId } });
      return { changed: false, reason: "not_pending" as const, status: order.status };
    }
    if (order.status !== "pending" && !reviving) return { changed: false, reason: "not_pending" as const, status: order.status };

    const shippingMinor = input.outcome.shippingMinor ?? 0;
    const totalMinor = order.subtotalMinor - order.discountMinor + shippingMinor + order.taxMinor;
    const mismatch = input.outcome.amountTotalMinor !== null && input.outcome.amountTotalMinor !== totalMinor;
    const shippingOption = deps.checkout.shippingOptions.find((o) => o.amountMinor === shippingMinor)?.id ?? null;
    const paid = await markPaidIf(w, {
      orderId: order.id,
      fromStatus: order.status,
      reviving,
      fields: {
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
    if (!paid) return { changed: false, reason: "not_pending" as const };
    // Off the hot path only: it runs when the setting asks for a request on payment.
    if (tx) await scheduleReviewRequestInTx(tx, deps, { orderId: order.id, trigger: "paid" });

    if (reviving) {
      // Its holds were released: the units are taken from what is free now,
      // each with a conditional update; one short and the whole revival rolls back.
      // Variant rows are locked in id order everywhere (see src/inventory), so no deadlock with a checkout.
      for (const line of [...order.lines].sort((a, b) => compareIds(a.variantId ?? "", b.variantId ?? ""))) {
        if (!line.variantId) throw new NotRevivable();
        const taken = await w.run(sql`UPDATE "Variant" SET "stock" = "stock" - ${line.quantity} WHERE "id" = ${line.variantId} AND "stock" - "reserved" >= ${line.quantity}`);
        if (taken !== 1) throw new NotRevivable();
      }
    }
    // Sold: the held units leave stock and the reservation together.
    await consumeOrderHoldsInTx(w, deps, { orderId: order.id });
    if (order.reservedRedemptions > 0) await commitRedemptionsInTx(tx!, deps, { orderId: order.id });
    // The cart that was bought is emptied with the payment, not before: a
    // shopper who abandons Stripe comes back to a full cart.
    if (order.cartId) await emptyCart(w, { cartId: order.cartId, now: deps.now() });
    if (mismatch) {
      await recordAudit(w, { actor: { type: "system" }, action: "order.amount_mismatch", entityType: "order", entityId: order.id, details: { charged: input.outcome.amountTotalMinor, computed: totalMinor } });
    }
    const email = input.outcome.email ?? order.email;
    if (email) {
      const locale: Locale = order.locale === "fa" ? "fa" : "en";
      await queueEmail(w, {
        to: email,
        toName: input.outcome.name ?? order.customerName,
        template: "order_confirmation",
        dedupeKey: `order:${order.id}:confirmation`,
        subject: translate(locale, "email.order.subject", { number: formatDigits(order.number, locale) }),
        text: confirmationText(order, totalMinor, shippingMinor),
        locale,
        linkBase: deps.shop.publicUrl ?? "",
        data: {
          shopName: deps.shop.name,
          number: order.number,
          currency: order.currency,
          lines: order.lines.map((l) => ({ quantity: l.quantity, title: l.title, variantTitle: l.variantTitle, totalMinor: l.totalMinor })),
          subtotalMinor: order.subtotalMinor,
          discountMinor: order.discountMinor,
          shippingMinor,
          totalMinor,
        },
      });
    }
    // Buffered, off the transaction: analytics counts paid orders and revenue from Order rows, so this event is the log, not the figure.
    recordAnalyticsEvent(deps, { type: "order_paid", orderId: order.id, valueMinor: totalMinor, couponId: order.couponId, linkId: order.linkId, postId: order.postId, liveSessionId: order.liveSessionId, channel: order.channel });
    await recordAudit(w, { actor: { type: "system" }, action: "order.paid", entityType: "order", entityId: order.id, details: { provider: deps.payments.provider, eventId: input.eventId ?? null, ...(reviving ? { after: order.cancelReason } : {}) } });
    return { changed: true as const, reason: "paid" as const };
  };
  return hot ? writeTransaction(deps.db, (w) => pay(w, null)) : deps.db.$transaction((tx) => pay(asWriter(tx), tx));
}

const reviewRequestOnPayment = (settings: ReviewSettings) => settings.requestsEnabled && settings.requestTrigger === "paid";

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
    if (input.eventId && !(await recordEvent(tx, deps, { id: input.eventId, type: input.eventType ?? "cancel", orderId: input.orderId }))) {
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
  const cancelled = await tx.order.updateMany({ where: { id: input.orderId, status: "pending" }, data: { status: "cancelled", cancelledAt: deps.now(), cancelReason: input.reason } });
  if (cancelled.count !== 1) return false;
  await releaseOrderHoldsInTx(tx, deps, { orderId: input.orderId });
  await releaseRedemptionsInTx(tx, deps, { orderId: input.orderId });
  await recordAudit(tx, { actor: input.actor, action: "order.cancel", entityType: "order", entityId: input.orderId, rule: input.reason });
  return true;
}

/**
 * Holds past their expiry: released, and their pending orders cancelled.
 * Runs inside checkout (for the variants being bought, so an expired hold
 * never blocks a shopper) and from the periodic sweep.
 */
export async function releaseExpiredHoldsInTx(tx: Tx, deps: Deps, scope: { variantIds?: string[] } = {}) {
  // Holds without an order (live claims) are released by the inventory service itself.
  const { orderIds } = await expireHoldsInTx(tx, deps, scope);
  for (const orderId of orderIds) await cancelOrderInTx(tx, deps, { orderId, reason: "expired", actor: { type: "system" } });
  return orderIds.length;
}

export async function releaseExpiredHolds(deps: CheckoutDeps) {
  return deps.db.$transaction((tx) => releaseExpiredHoldsInTx(tx, deps));
}

/**
 * Writes a provider event id to the ledger; false when it was there already.
 * One statement that relies on the primary key (no read before the insert,
 * which two deliveries racing on PostgreSQL would both pass). ON CONFLICT …
 * DO NOTHING is the same in SQLite (3.24+) and PostgreSQL; inside a
 * PostgreSQL transaction it also avoids the error that would abort it.
 */
async function recordEvent(tx: Tx | Deps["db"], deps: Deps, event: { id: string; type: string; orderId: string | null; outcome?: "processed" | "ignored" }) {
  return insertPaymentEvent(asWriter(tx), { ...event, provider: deps.payments.provider, receivedAt: deps.now(), outcome: event.outcome ?? "processed" });
}

/** Ledger entry for an event that needed no change (unknown order, unhandled type); false when it was there already. */
export async function recordIgnoredEvent(deps: CheckoutDeps, event: { id: string; type: string; orderId: string | null }) {
  return recordEvent(deps.db, deps, { ...event, outcome: "ignored" });
}

/** The ledger write for callers that keep their own effects in the same transaction (refund events). */
export function recordEventInTx(tx: Tx, deps: Deps, event: { id: string; type: string; orderId: string | null }) {
  return recordEvent(tx, deps, event);
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
