import express, { Router } from "express";
import type Stripe from "stripe";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { outcomeOf, StripeGateway } from "../payments/stripe-gateway.js";
import { cancelOrder, markOrderPaid, recordIgnoredEvent } from "./checkout.service.js";
import { applyRefundedTotalInTx } from "./orders.service.js";

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

/** The order an event is about, if it is one of ours. */
async function ourOrder(deps: Deps, session: Stripe.Checkout.Session) {
  const orderId = session.metadata?.orderId ?? session.client_reference_id;
  if (!orderId) return null;
  const order = await deps.db.order.findUnique({ where: { id: orderId }, select: { id: true, paymentRef: true } });
  // A session id that is not the one we created for the order is not ours either.
  return order && order.paymentRef === session.id ? order : null;
}

const paid: Handler = async (deps, event) => {
  const session = event.data.object as Stripe.Checkout.Session;
  const order = await ourOrder(deps, session);
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
    if (!order) {
      await recordIgnoredEvent(deps, { id: event.id, type: event.type, orderId: null });
      return { status: 200, outcome: "not_our_order" };
    }
    const changed = await cancelOrder(deps, { orderId: order.id, reason, actor: { type: "system" }, eventId: event.id, eventType: event.type });
    return { status: 200, outcome: changed ? "cancelled" : "unchanged" };
  };

const refunded: Handler = async (deps, event) => {
  const charge = event.data.object as Stripe.Charge;
  const paymentIntentId = typeof charge.payment_intent === "string" ? charge.payment_intent : charge.payment_intent?.id;
  const order = paymentIntentId ? await deps.db.order.findFirst({ where: { paymentIntentId }, select: { id: true, status: true } }) : null;
  if (!order) {
    await recordIgnoredEvent(deps, { id: event.id, type: event.type, orderId: null });
    return { status: 200, outcome: "not_our_order" };
  }
  // Out of order: the refund arrived before we saw the payment. Answer 409
  // so Stripe retries later, after checkout.session.completed.
  if (order.status === "pending") return { status: 409, outcome: "order_not_paid_yet" };
  await deps.db.$transaction(async (tx) => {
    const seen = await tx.paymentEvent.findUnique({ where: { id: event.id } });
    if (seen) return;
    await tx.paymentEvent.create({ data: { id: event.id, type: event.type, orderId: order.id, provider: "stripe" } });
    // amount_refunded is the charge's running total, so applying it is
    // idempotent and order-independent (a dashboard refund counts too).
    await applyRefundedTotalInTx(tx, { orderId: order.id, refundedMinor: charge.amount_refunded }, deps);
  });
  return { status: 200, outcome: "refund_recorded" };
};

const HANDLERS: Record<string, Handler> = {
  "checkout.session.completed": paid,
  "checkout.session.async_payment_succeeded": paid,
  "checkout.session.async_payment_failed": cancelled("payment_failed"),
  "checkout.session.expired": cancelled("expired"),
  "charge.refunded": refunded,
};
