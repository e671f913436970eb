import express, { Router } from "express";
import type Stripe from "stripe";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { assertWellFormed } from "../http/well-formed.js";
import { outcomeOf, StripeGateway } from "../payments/stripe-gateway.js";
import { readOrderRef } from "./checkout.queries.js";
import { cancelOrder, markOrderPaid, recordIgnoredEvent } from "./checkout.service.js";
import { recordProviderRefund } from "./orders.service.js";

type Handler = (deps: Deps, event: Stripe.Event) => Promise<{ status: number; outcome: string }>;

/**
 * POST /webhooks/stripe. The signature is checked on the raw bytes, so this
 * router is mounted before any JSON body parser (which would re-serialise the
 * body and break the signature). Each event id is written to the ledger in
 * the same transaction as its effects: a redelivery changes nothing, and an
 * event whose handling failed is retried by Stripe because it answered 5xx.
 * See src/checkout/README.md for the sequence.
 */
export function stripeWebhookRoutes(deps: Deps) {
  const router = Router();
  router.post("/webhooks/stripe", express.raw({ type: () => true, limit: "1mb" }), async (req, res) => {
    if (!(deps.payments instanceof StripeGateway)) throw AppError.notFound("webhook endpoint");
    const signature = req.get("stripe-signature");
    if (!signature) throw new AppError("signature_missing", 400, "Missing Stripe-Signature header.");
    let event: Stripe.Event;
    try {
      event = deps.payments.parseWebhook(Buffer.isBuffer(req.body) ? req.body : Buffer.from(""), signature);
    } catch {
      throw new AppError("signature_invalid", 400, "The Stripe-Signature does not match this body and the webhook secret.");
    }
    // Signed, but still text from outside: a lone surrogate would fail deep in a handler.
    assertWellFormed("webhook", event);
    const handler = HANDLERS[event.type];
    if (!handler) {
      await recordIgnoredEvent(deps, { id: event.id, type: event.type, orderId: null });
      return res.json({ received: true, outcome: "ignored_type" });
    }
    const { status, outcome } = await handler(deps, event);
    res.status(status).json({ received: status < 300, outcome });
  });
  return router;
}

/**
 * The order a session event is about, if it is one of ours. An order whose
 * session id is not stored yet (the event overtook the end of startCheckout)
 * is "not yet": the event is answered 409 and not recorded, so Stripe sends
 * it again.
 */
async function ourOrder(deps: Deps, session: Stripe.Checkout.Session): Promise<{ id: string } | "not_yet" | null> {
  const orderId = session.metadata?.orderId ?? session.client_reference_id;
  if (!orderId) return null;
  const order = await readOrderRef(deps.db, orderId);
  if (order && order.paymentRef === null && order.paymentProvider === "stripe" && order.status === "pending") return "not_yet";
  // A session id that is not the one we created for the order is not ours either.
  return order && order.paymentRef === session.id ? order : null;
}

const NOT_YET = { status: 409, outcome: "order_not_ready_yet" };

const paid: Handler = async (deps, event) => {
  const session = event.data.object as Stripe.Checkout.Session;
  const order = await ourOrder(deps, session);
  if (order === "not_yet") return NOT_YET;
  if (!order) {
    await recordIgnoredEvent(deps, { id: event.id, type: event.type, orderId: null });
    return { status: 200, outcome: "not_our_order" };
  }
  const outcome = outcomeOf(session);
  if (!outcome.paid) {
    // Delayed payment methods (bank debits): completed now, paid later by
    // checkout.session.async_payment_succeeded. The hold stays until then.
    await recordIgnoredEvent(deps, { id: event.id, type: event.type, orderId: order.id });
    return { status: 200, outcome: "awaiting_async_payment" };
  }
  if (outcome.currency && outcome.currency !== deps.shop.currency) {
    deps.logger.warn({ orderId: order.id, currency: outcome.currency }, "payment in another currency");
  }
  const result = await markOrderPaid(deps, { orderId: order.id, outcome, eventId: event.id, eventType: event.type });
  return { status: 200, outcome: result.reason };
};

const cancelled =
  (reason: string): Handler =>
  async (deps, event) => {
    const session = event.data.object as Stripe.Checkout.Session;
    const order = await ourOrder(deps, session);
    if (order === "not_yet") return NOT_YET;
    if (!order) {
      await recordIgnoredEvent(deps, { id: event.id, type: event.type, orderId: null });
      return { status: 200, outcome: "not_our_order" };
    }
    const changed = await cancelOrder(deps, { orderId: order.id, reason, actor: { type: "system" }, eventId: event.id, eventType: event.type });
    return { status: 200, outcome: changed ? "cancelled" : "unchanged" };
  };

/**
 * charge.refunded. The order is found by its payment; a refund that
 * overtook the payment (no order has that payment id yet) is traced to its
 * order through Stripe, and answered 409 without touching the ledger, so the
 * redelivery after checkout.session.completed is processed. amount_refunded
 * is the charge's running total, so applying it is idempotent and
 * order-independent (a dashboard refund counts too).
 */
const refunded: Handler = async (deps, event) => {
  const charge = event.data.object as Stripe.Charge;
  const paymentIntentId = typeof charge.payment_intent === "string" ? charge.payment_intent : charge.payment_intent?.id;
  const order = paymentIntentId ? await orderForPayment(deps, paymentIntentId) : null;
  if (!order) {
    await recordIgnoredEvent(deps, { id: event.id, type: event.type, orderId: null });
    return { status: 200, outcome: "not_our_order" };
  }
  if (!order.paymentIntentId || order.status === "pending") return { status: 409, outcome: "order_not_paid_yet" };
  const outcome = await recordProviderRefund(deps, { eventId: event.id, eventType: event.type, orderId: order.id, refundedMinor: charge.amount_refunded });
  return { status: 200, outcome };
};

async function orderForPayment(deps: Deps, paymentIntentId: string) {
  const select = { id: true, paymentIntentId: true, paymentProvider: true, status: true } as const;
  const known = await deps.db.order.findFirst({ where: { paymentIntentId }, orderBy: { id: "asc" }, select });
  if (known) return known;
  const orderId = await (deps.payments as StripeGateway).orderIdForPayment(paymentIntentId);
  if (!orderId) return null;
  const order = await deps.db.order.findUnique({ where: { id: orderId }, select });
  // Ours, and not already paid by another payment.
  return order && order.paymentProvider === "stripe" && order.paymentIntentId === null ? order : null;
}

const HANDLERS: Record<string, Handler> = {
  "checkout.session.completed": paid,
  "checkout.session.async_payment_succeeded": paid,
  "checkout.session.async_payment_failed": cancelled("payment_failed"),
  "checkout.session.expired": cancelled("expired"),
  "charge.refunded": refunded,
};
