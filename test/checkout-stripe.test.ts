import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcilePendingOrders, releaseExpiredHolds } from "../src/checkout/checkout.service.js";
import { refundOrder } from "../src/checkout/orders.service.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { startFakeStripe, type FakeStripe } from "./helpers/fake-stripe.js";
import { load } from "./helpers/html.js";
import { deliverWebhook, newShopper, sessionIdFrom } from "./helpers/shopper.js";

let stripe: FakeStripe;
let t: TestApp;
let clock = Date.parse("2026-11-20T10:00:00Z");

beforeAll(async () => {
  stripe = await startFakeStripe();
  t = await buildTestApp({ payments: stripe.gateway, now: () => new Date(clock) });
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

async function variantState(id: string) {
  const v = await t.db.variant.findUniqueOrThrow({ where: { id } });
  return { stock: v.stock, reserved: v.reserved };
}

/** A shopper with `qty` of the variant in the cart who starts checkout; returns the Stripe session. */
async function startedCheckout(variantId: string, qty = 1) {
  const shopper = await newShopper(t.app);
  await shopper.add(variantId, qty).expect(303);
  const res = await shopper.checkout({ email: "buyer@example.com" }).expect(303);
  const sessionId = sessionIdFrom(res.headers.location);
  const order = await t.db.order.findUniqueOrThrow({ where: { paymentRef: sessionId } });
  return { shopper, sessionId, order };
}

describe("Stripe checkout, paid flow", () => {
  it("creates a pending order with held stock and a Stripe session priced by the server", async () => {
    const p = await createProduct(t.deps, { title: "Mug", variants: [{ priceMinor: 2800, stock: 4 }] });
    const v = p.variants[0]!;
    const shopper = await newShopper(t.app);
    // A tampered price in the request is ignored: prices come from the catalog.
    await shopper.add(v.id, 2, { priceMinor: 1, unitAmount: 1 }).expect(303);
    const before = stripe.requests.length;
    const res = await shopper.checkout({ email: "buyer@example.com", totalMinor: 1, amount: 1 }).expect(303);
    expect(res.headers.location).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);

    const sent = stripe.requests.slice(before);
    const create = sent.find((r) => r.path === "/v1/checkout/sessions")!;
    expect(create.body).toMatchObject({
      mode: "payment",
      customer_email: "buyer@example.com",
      line_items: [{ quantity: "2", price_data: { currency: "usd", unit_amount: "2800" } }],
      shipping_options: [
        { shipping_rate_data: { fixed_amount: { amount: "500" } } },
        { shipping_rate_data: { fixed_amount: { amount: "1500" } } },
      ],
    });
    // Every write to Stripe carries an idempotency key.
    for (const r of sent.filter((x) => x.method === "POST")) expect(r.idempotencyKey).toMatch(/^order:/);

    const order = await t.db.order.findUniqueOrThrow({ where: { paymentRef: sessionIdFrom(res.headers.location) }, include: { lines: true, holds: true } });
    expect(order).toMatchObject({ status: "pending", subtotalMinor: 5600, totalMinor: 5600, paymentProvider: "stripe", currency: "USD" });
    expect(create.body.metadata).toEqual({ orderId: order.id, orderNumber: String(order.number) });
    expect(order.lines.map((l) => [l.sku, l.unitPriceMinor, l.quantity, l.totalMinor])).toEqual([[v.sku, 2800, 2, 5600]]);
    expect(order.holds.map((h) => [h.quantity, h.status])).toEqual([[2, "active"]]);
    expect(await variantState(v.id)).toEqual({ stock: 4, reserved: 2 });
    // The held units are no longer offered to others.
    const page = await request(t.app).get(`/shop/p/${p.slug}`);
    expect(load(page.text)("#stock").text()).toContain("Only 2 left");
  });

  it("marks the order paid once on checkout.session.completed: stock, email, totals, address", async () => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 1000, stock: 3 }] });
    const v = p.variants[0]!;
    const { shopper, sessionId, order } = await startedCheckout(v.id, 2);
    const session = stripe.complete(sessionId, { shippingIndex: 1 });
    const event = stripe.event("checkout.session.completed", session);
    const res = await deliverWebhook(t.app, event).expect(200);
    expect(res.body).toEqual({ received: true, outcome: "paid" });

    const paid = await t.db.order.findUniqueOrThrow({ where: { id: order.id }, include: { holds: true } });
    expect(paid).toMatchObject({ status: "paid", shippingMinor: 1500, shippingOption: "express", totalMinor: 3500, email: "shopper@example.com", customerName: "Sam Shopper", amountMismatch: false });
    expect(JSON.parse(paid.shippingAddress!)).toMatchObject({ city: "Portland", country: "US" });
    expect(paid.paymentIntentId).toMatch(/^pi_test_/);
    expect(paid.holds.map((h) => h.status)).toEqual(["consumed"]);
    expect(await variantState(v.id)).toEqual({ stock: 1, reserved: 0 });
    const emails = await t.db.outboxEmail.findMany({ where: { dedupeKey: `order:${order.id}:confirmation` } });
    expect(emails).toHaveLength(1);
    expect(emails[0]!.text).toContain("Total: $35.00");
    // The cart that was bought is empty now.
    const cart = await shopper.agent.get("/shop/cart").set("Accept", "application/json");
    expect(cart.body.data.count).toBe(0);
  });

  it("changes nothing on duplicate deliveries, sequential or parallel", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 5 }] });
    const v = p.variants[0]!;
    const { sessionId, order } = await startedCheckout(v.id, 1);
    const event = stripe.event("checkout.session.completed", stripe.complete(sessionId));
    await deliverWebhook(t.app, event).expect(200);
    const again = await Promise.all(Array.from({ length: 6 }, () => deliverWebhook(t.app, event)));
    expect(again.every((r) => r.status === 200)).toBe(true);
    // A second, different event for the same payment (async_payment_succeeded) is harmless too.
    await deliverWebhook(t.app, stripe.event("checkout.session.async_payment_succeeded", stripe.sessions.get(sessionId)!.session)).expect(200);
    expect(await variantState(v.id)).toEqual({ stock: 4, reserved: 0 });
    expect(await t.db.outboxEmail.count({ where: { dedupeKey: `order:${order.id}:confirmation` } })).toBe(1);
    expect(await t.db.paymentEvent.count({ where: { id: event.id } })).toBe(1);
    expect(await t.db.auditLog.count({ where: { entityId: order.id, action: "order.paid" } })).toBe(1);
  });

  it("refuses a missing, forged or mismatched signature with 400 and changes nothing", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 2 }] });
    const { sessionId, order } = await startedCheckout(p.variants[0]!.id, 1);
    const event = stripe.event("checkout.session.completed", stripe.complete(sessionId));
    const none = await request(t.app).post("/shop/webhooks/stripe").set("Content-Type", "application/json").send(event.payload).expect(400);
    expect(none.body.error.code).toBe("signature_missing");
    const forged = await deliverWebhook(t.app, { payload: event.payload, signature: "t=1,v1=deadbeef" }).expect(400);
    expect(forged.body.error.code).toBe("signature_invalid");
    const tampered = event.payload.replace('"paid"', '"unpaid"');
    await deliverWebhook(t.app, { payload: tampered, signature: event.signature }).expect(400);
    const malformed = stripe.event("x", {});
    await deliverWebhook(t.app, { payload: "{not json", signature: malformed.signature }).expect(400);
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe("pending");
    expect(await t.db.paymentEvent.count({ where: { id: event.id } })).toBe(0);
  });

  it("answers 200 and ignores events for orders it never created and event types it does not handle", async () => {
    const foreign = stripe.event("checkout.session.completed", { id: "cs_test_foreign", object: "checkout.session", status: "complete", payment_status: "paid", metadata: {}, client_reference_id: null, amount_total: 100, currency: "usd" });
    const res = await deliverWebhook(t.app, foreign).expect(200);
    expect(res.body.outcome).toBe("not_our_order");
    const spoofed = stripe.event("checkout.session.completed", { id: "cs_test_other", object: "checkout.session", status: "complete", payment_status: "paid", metadata: { orderId: "made-up" }, amount_total: 100, currency: "usd" });
    expect((await deliverWebhook(t.app, spoofed).expect(200)).body.outcome).toBe("not_our_order");
    const unknown = stripe.event("customer.created", { id: "cus_1", object: "customer" });
    expect((await deliverWebhook(t.app, unknown).expect(200)).body.outcome).toBe("ignored_type");
    expect((await t.db.paymentEvent.findUniqueOrThrow({ where: { id: unknown.id } })).outcome).toBe("ignored");
  });

  it("flags an order when Stripe charged a different amount than we computed", async () => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 1000, stock: 2 }] });
    const { sessionId, order } = await startedCheckout(p.variants[0]!.id, 1);
    await deliverWebhook(t.app, stripe.event("checkout.session.completed", stripe.complete(sessionId, { amountTotal: 999 }))).expect(200);
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).amountMismatch).toBe(true);
    expect(await t.db.auditLog.count({ where: { entityId: order.id, action: "order.amount_mismatch" } })).toBe(1);
  });
});

describe("expiry, cancellation and failures", () => {
  it("releases the hold when the session expires (webhook), and a late completed event cannot revive it", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 1 }] });
    const v = p.variants[0]!;
    const { sessionId, order } = await startedCheckout(v.id, 1);
    expect(await variantState(v.id)).toEqual({ stock: 1, reserved: 1 });
    await deliverWebhook(t.app, stripe.event("checkout.session.expired", stripe.expire(sessionId))).expect(200);
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe("cancelled");
    expect(await variantState(v.id)).toEqual({ stock: 1, reserved: 0 });
    // Someone else can buy it now.
    await startedCheckout(v.id, 1);
  });

  it("releases holds whose time is up when no webhook comes, and tells Stripe", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 2 }] });
    const v = p.variants[0]!;
    const { order } = await startedCheckout(v.id, 2);
    clock += 31 * 60_000;
    expect(await releaseExpiredHolds(t.deps)).toBeGreaterThanOrEqual(1);
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe("cancelled");
    expect(await variantState(v.id)).toEqual({ stock: 2, reserved: 0 });
  });

  it("expired holds never block a new checkout even before the sweep runs", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 1 }] });
    const v = p.variants[0]!;
    const first = await startedCheckout(v.id, 1);
    clock += 31 * 60_000;
    const second = await startedCheckout(v.id, 1);
    expect((await t.db.order.findUniqueOrThrow({ where: { id: first.order.id } })).status).toBe("cancelled");
    expect(second.order.status).toBe("pending");
    expect(await variantState(v.id)).toEqual({ stock: 1, reserved: 1 });
  });

  it("the shopper backing out of Stripe cancels the order and keeps the cart", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 3 }] });
    const v = p.variants[0]!;
    const { shopper, sessionId, order } = await startedCheckout(v.id, 2);
    const cancelUrl = new URL(String(stripe.sessions.get(sessionId)!.session.cancel_url));
    const back = await shopper.agent.get(cancelUrl.pathname + cancelUrl.search).expect(303);
    expect(back.headers.location).toBe("/shop/cart?cancelled=1");
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe("cancelled");
    expect(stripe.sessions.get(sessionId)!.session.status).toBe("expired");
    expect(await variantState(v.id)).toEqual({ stock: 3, reserved: 0 });
    const cart = await shopper.agent.get("/shop/cart?cancelled=1");
    expect(load(cart.text)(".alert--ok").text()).toContain("Checkout was cancelled");
    expect(load(cart.text)(".cart-line")).toHaveLength(1);
    // A forged key does nothing.
    await shopper.agent.get(`/shop/checkout/cancel/${order.id}?key=wrong-key-123`).expect(404);
  });

  it("a second checkout from the same cart replaces the first instead of holding stock twice", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 2 }] });
    const v = p.variants[0]!;
    const shopper = await newShopper(t.app);
    await shopper.add(v.id, 2).expect(303);
    const first = sessionIdFrom((await shopper.checkout().expect(303)).headers.location);
    const second = sessionIdFrom((await shopper.checkout().expect(303)).headers.location);
    expect(first).not.toBe(second);
    expect(stripe.sessions.get(first)!.session.status).toBe("expired");
    expect(await variantState(v.id)).toEqual({ stock: 2, reserved: 2 });
  });

  it("cancels the order and frees the stock when Stripe is down (compensation)", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 1 }] });
    const v = p.variants[0]!;
    const shopper = await newShopper(t.app);
    await shopper.add(v.id, 1).expect(303);
    stripe.failNext(/^\/v1\/checkout\/sessions$/, 500, 3);
    const res = await shopper.checkout().set("Accept", "application/json").expect(502);
    expect(res.body.error.message).toContain("Nothing was charged");
    const order = await t.db.order.findFirstOrThrow({ where: { lines: { some: { variantId: v.id } } } });
    expect(order.status).toBe("cancelled");
    expect(await variantState(v.id)).toEqual({ stock: 1, reserved: 0 });
  });

  it("settles a payment whose webhook never arrived (reconcile)", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 2 }] });
    const v = p.variants[0]!;
    const paid = await startedCheckout(v.id, 1);
    const abandoned = await startedCheckout(v.id, 1);
    stripe.complete(paid.sessionId);
    stripe.expire(abandoned.sessionId);
    clock += 10 * 60_000;
    const report = await reconcilePendingOrders(t.deps, { olderThanMinutes: 5 });
    expect(report.paid).toContain(paid.order.number);
    expect(report.cancelled).toContain(abandoned.order.number);
    expect((await t.db.order.findUniqueOrThrow({ where: { id: paid.order.id } })).status).toBe("paid");
    expect(await variantState(v.id)).toEqual({ stock: 1, reserved: 0 });
    // A webhook arriving after reconcile changes nothing.
    await deliverWebhook(t.app, stripe.event("checkout.session.completed", stripe.sessions.get(paid.sessionId)!.session)).expect(200);
    expect(await variantState(v.id)).toEqual({ stock: 1, reserved: 0 });
  });
});

describe("refunds", () => {
  it("refunds part through Stripe, then the charge.refunded webhook does not count it twice; a dashboard refund completes it", async () => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 2000, stock: 2 }] });
    const { sessionId, order } = await startedCheckout(p.variants[0]!.id, 1);
    const session = stripe.complete(sessionId);
    await deliverWebhook(t.app, stripe.event("checkout.session.completed", session)).expect(200);
    const pi = String(session.payment_intent);

    const after = await refundOrder(t.deps, { orderId: order.id, amountMinor: 1000, reason: "damaged", actor: { type: "admin", id: "x" } });
    expect(after).toMatchObject({ status: "partially_refunded", refundedMinor: 1000 });
    const call = stripe.requests.filter((r) => r.path === "/v1/refunds").at(-1)!;
    expect(call.body).toMatchObject({ payment_intent: pi, amount: "1000" });
    expect(call.idempotencyKey).toBe(`refund:${order.id}:0:1000`);

    await deliverWebhook(t.app, stripe.event("charge.refunded", stripe.charge(pi, 1000, 2500))).expect(200);
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).refundedMinor).toBe(1000);
    const full = stripe.event("charge.refunded", stripe.charge(pi, 2500, 2500));
    await deliverWebhook(t.app, full).expect(200);
    await deliverWebhook(t.app, full).expect(200);
    expect(await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).toMatchObject({ status: "refunded", refundedMinor: 2500 });
    await expect(refundOrder(t.deps, { orderId: order.id, amountMinor: 1, reason: "", actor: { type: "admin" } })).rejects.toThrow(/only paid orders/);
  });

  it("asks Stripe to retry a refund that arrives before the payment it refunds, without recording it, and applies the redelivery", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 2 }] });
    const { sessionId } = await startedCheckout(p.variants[0]!.id, 1);
    const session = stripe.complete(sessionId);
    const pi = String(session.payment_intent);
    const early = stripe.event("charge.refunded", stripe.charge(pi, 500, 3000));
    const first = await deliverWebhook(t.app, early);
    expect(first.status).toBe(409);
    expect(first.body.outcome).toBe("order_not_paid_yet");
    // Not in the ledger, not even as "ignored": the redelivery must be processed.
    expect(await t.db.paymentEvent.count({ where: { id: early.id } })).toBe(0);
    await deliverWebhook(t.app, stripe.event("checkout.session.completed", session)).expect(200);
    expect((await deliverWebhook(t.app, early).expect(200)).body.outcome).toBe("refund_recorded");
    expect(await t.db.order.findFirstOrThrow({ where: { paymentRef: sessionId } })).toMatchObject({ status: "partially_refunded", refundedMinor: 500 });
    expect((await t.db.paymentEvent.findUniqueOrThrow({ where: { id: early.id } })).outcome).toBe("processed");
  });

  it("ignores a refund for a payment that is not ours, however often it comes", async () => {
    const foreign = stripe.event("charge.refunded", stripe.charge("pi_test_not_ours", 500, 3000));
    const results = await Promise.all(Array.from({ length: 5 }, () => deliverWebhook(t.app, foreign)));
    expect(results.map((r) => [r.status, r.body.outcome])).toEqual(Array.from({ length: 5 }, () => [200, "not_our_order"]));
    expect((await t.db.paymentEvent.findUniqueOrThrow({ where: { id: foreign.id } })).outcome).toBe("ignored");
  });
});

describe("cart and checkout input", () => {
  it("refuses quantities of 0, negative, fractional, too large or beyond stock, and unknown variants", async () => {
    const p = await createProduct(t.deps, { title: "Scarce", variants: [{ stock: 2 }] });
    const v = p.variants[0]!;
    const shopper = await newShopper(t.app);
    for (const quantity of [0, -1, 1.5, 100, "two"]) {
      const res = await shopper.add(v.id, quantity as number).set("Accept", "application/json");
      expect(res.status, String(quantity)).toBe(400);
      expect(res.body.error.details[0].field).toBe("quantity");
    }
    const tooMany = await shopper.add(v.id, 3).set("Accept", "application/json").expect(409);
    expect(tooMany.body.error.message).toBe('Only 2 of "Scarce" available.');
    const html = await shopper.add(v.id, 3).expect(409);
    expect(load(html.text)("#cart-error").text()).toBe('Only 2 of "Scarce" available.');
    const unknown = await shopper.add("no-such-variant", 1).set("Accept", "application/json").expect(400);
    expect(unknown.body.error.details[0].field).toBe("variantId");
    await shopper.checkout().set("Accept", "application/json").expect(409);
    expect(await t.db.cart.count({ where: { items: { some: { variantId: v.id } } } })).toBe(0);
  });

  it("refuses a checkout with a product priced in another currency", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 2, currency: "EUR" }] });
    const shopper = await newShopper(t.app);
    await shopper.add(p.variants[0]!.id, 1).expect(303);
    const res = await shopper.checkout().set("Accept", "application/json").expect(409);
    expect(res.body.error.code).toBe("currency_mismatch");
    expect(await variantState(p.variants[0]!.id)).toEqual({ stock: 2, reserved: 0 });
  });

  it("refuses checkout of a product archived after it was put in the cart, holding nothing", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 2 }] });
    const other = await createProduct(t.deps, { variants: [{ stock: 2 }] });
    const shopper = await newShopper(t.app);
    await shopper.add(other.variants[0]!.id, 1).expect(303);
    await shopper.add(p.variants[0]!.id, 1).expect(303);
    await t.db.product.update({ where: { id: p.id }, data: { status: "archived" } });
    await shopper.checkout().set("Accept", "application/json").expect(409);
    expect(await variantState(other.variants[0]!.id)).toEqual({ stock: 2, reserved: 0 });
  });
});

describe("concurrency", () => {
  it("50 parallel checkouts for 5 in stock: exactly 5 orders, then exactly 5 paid, stock 0, never negative", async () => {
    const p = await createProduct(t.deps, { title: "Limited print", variants: [{ stock: 5, priceMinor: 4000 }] });
    const v = p.variants[0]!;
    const shoppers = await Promise.all(Array.from({ length: 50 }, () => newShopper(t.app)));
    for (const s of shoppers) await s.add(v.id, 1).expect(303);
    const results = await Promise.all(shoppers.map((s) => s.checkout().set("Accept", "application/json")));
    const ok = results.filter((r) => r.status === 201);
    expect(ok).toHaveLength(5);
    expect(results.filter((r) => r.status === 409)).toHaveLength(45);
    expect(await variantState(v.id)).toEqual({ stock: 5, reserved: 5 });

    // Every winner pays; each webhook is delivered twice, all at once.
    const events = ok.map((r) => stripe.event("checkout.session.completed", stripe.complete(sessionIdFrom(r.body.data.url))));
    const deliveries = await Promise.all([...events, ...events].map((e) => deliverWebhook(t.app, e)));
    expect(deliveries.every((d) => d.status === 200)).toBe(true);
    expect(await t.db.order.count({ where: { status: "paid", lines: { some: { variantId: v.id } } } })).toBe(5);
    expect(await variantState(v.id)).toEqual({ stock: 0, reserved: 0 });
    const page = await request(t.app).get(`/shop/p/${p.slug}`);
    expect(load(page.text)("#stock").text()).toContain("Sold out");
  });
});
