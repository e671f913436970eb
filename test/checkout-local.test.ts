import { flushEvents } from "../src/analytics/events.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalGateway } from "../src/payments/local-gateway.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { startFakeStripe } from "./helpers/fake-stripe.js";
import { load } from "./helpers/html.js";
import { newShopper, type Shopper } from "./helpers/shopper.js";

/**
 * The embedded default: no Stripe keys, so checkout hands over to the shop's
 * own payment page (/pay/:ref). Everything here goes through HTTP, as a
 * browser would.
 */
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

const address = { email: "ana@example.com", name: "Ana Rossi", line1: "12 Via Roma", city: "Torino", postalCode: "10121", country: "it" };

async function variantState(id: string) {
  const v = await t.db.variant.findUniqueOrThrow({ where: { id } });
  return { stock: v.stock, reserved: v.reserved };
}

/** Cart → /checkout → the local payment page. Returns its path (with the key) and the order. */
async function atPayPage(variantId: string, qty = 1, shopper?: Shopper) {
  const s = shopper ?? (await newShopper(t.app));
  await s.add(variantId, qty).expect(303);
  const res = await s.checkout({ email: "first@example.com" }).expect(303);
  const url = new URL(res.headers.location!);
  expect(url.pathname).toMatch(/^\/shop\/pay\/loc_[A-Za-z0-9_-]+$/);
  const ref = url.pathname.split("/").pop()!;
  const order = await t.db.order.findUniqueOrThrow({ where: { paymentRef: ref } });
  const payPath = url.pathname + url.search;
  const page = await s.agent.get(payPath).expect(200);
  return { shopper: s, payPath, page, ref, order, key: url.searchParams.get("key")! };
}

function submitPay(s: Shopper, payPath: string, fields: Record<string, string>) {
  return s.agent.post(payPath).type("form").send({ _csrf: s.csrf, ...fields });
}

describe("local payment page: the paid flow", () => {
  it("cart → checkout → pay page → pay with express shipping → order page shows Paid and the totals", async () => {
    const p = await createProduct(t.deps, { title: "Indigo Tote", variants: [{ priceMinor: 3200, stock: 5 }] });
    const v = p.variants[0]!;
    const { shopper, payPath, page, order, key } = await atPayPage(v.id, 2);
    expect(order).toMatchObject({ status: "pending", paymentProvider: "local", subtotalMinor: 6400, totalMinor: 6400 });
    expect(await variantState(v.id)).toEqual({ stock: 5, reserved: 2 });

    const $ = load(page.text);
    expect($("h1").text()).toBe(`Order #${order.number}`);
    expect($(".order-lines").text()).toContain("2 × Indigo Tote");
    expect($("#pay-email").val()).toBe("first@example.com");
    // Both shipping options, each with the total it makes.
    const options = $('input[name="shipping"]').map((_, el) => $(el).attr("value")).get();
    expect(options).toEqual(["standard", "express"]);
    expect($('input[name="shipping"]:checked').val()).toBe("standard");
    expect($("fieldset").text()).toContain("$79.00");
    expect(page.headers["cache-control"]).toBe("no-store");
    expect(page.headers["referrer-policy"]).toBe("no-referrer");

    const paid = await submitPay(shopper, payPath, { action: "pay", shipping: "express", ...address }).expect(303);
    expect(paid.headers.location).toBe(`/shop/orders/${order.id}?key=${encodeURIComponent(key)}`);

    const confirmation = await shopper.agent.get(paid.headers.location!).expect(200);
    const c = load(confirmation.text);
    expect(c("#order-status").text()).toBe("Paid");
    // No mail service in this shop: the page does not claim an email was sent.
    expect(c(".alert--ok").text()).not.toContain("confirmation was sent");
    expect(c("#order-no-email").text()).toContain("This shop does not send email yet");
    expect(c("#order-total").text()).toBe("$79.00");
    expect(c(".order-lines").text()).toContain("$64.00");
    expect(c(".order-lines").text()).toContain("$15.00");
    expect(c("address").text()).toContain("Ana Rossi");
    // The country by name, not its code.
    expect(c("address").text()).toContain("Italy");

    const stored = await t.db.order.findUniqueOrThrow({ where: { id: order.id }, include: { holds: true } });
    expect(stored).toMatchObject({ status: "paid", shippingMinor: 1500, shippingOption: "express", totalMinor: 7900, email: "ana@example.com", customerName: "Ana Rossi", amountMismatch: false });
    expect(JSON.parse(stored.shippingAddress!)).toEqual({ line1: "12 Via Roma", city: "Torino", postal_code: "10121", country: "IT" });
    expect(stored.paymentIntentId).toMatch(/^local_pi_/);
    expect(stored.holds.map((h) => h.status)).toEqual(["consumed"]);
    expect(await variantState(v.id)).toEqual({ stock: 3, reserved: 0 });

    const emails = await t.db.outboxEmail.findMany({ where: { dedupeKey: `order:${order.id}:confirmation` } });
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ to: "ana@example.com", subject: `Order #${order.number} confirmed` });
    expect(emails[0]!.text).toContain("2 × Indigo Tote: $64.00");
    expect(emails[0]!.text).toContain("Total: $79.00");
    expect((await t.db.paymentEvent.findUniqueOrThrow({ where: { id: `local:${stored.paymentRef}:paid` } })).orderId).toBe(order.id);

    // The bought cart is empty; the mini-cart says so.
    const cart = await shopper.agent.get("/shop/cart").expect(200);
    expect(load(cart.text)(".cart-line")).toHaveLength(0);
    expect(load(cart.text)(".cart-link").text()).toContain("Cart (0)");

    // The pay page of a paid order says so, and paying again changes nothing.
    const after = await shopper.agent.get(payPath).expect(200);
    expect(load(after.text)(".pay .alert--error").text()).toContain("no longer waiting for payment");
    await submitPay(shopper, payPath, { action: "pay", shipping: "standard", ...address }).expect(303);
    expect(await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).toMatchObject({ shippingMinor: 1500, totalMinor: 7900 });
    expect(await variantState(v.id)).toEqual({ stock: 3, reserved: 0 });
  });

  it("the order page speaks Persian too", async () => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 1000, stock: 2 }] });
    const { shopper, payPath } = await atPayPage(p.variants[0]!.id);
    const paid = await submitPay(shopper, payPath, { action: "pay", shipping: "standard", ...address }).expect(303);
    const page = await shopper.agent.get(`${paid.headers.location}&lang=fa`).expect(200);
    const $ = load(page.text);
    expect($("html").attr("dir")).toBe("rtl");
    expect($("#order-status").text()).toBe("پرداخت‌شده");
    expect($("#order-total").text()).toMatch(/۱۵/);
  });
});

describe("local payment page: refusals", () => {
  it("answers 400 naming each missing or wrong field, keeps what was typed, and changes nothing", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 3 }] });
    const v = p.variants[0]!;
    const { shopper, payPath, order } = await atPayPage(v.id);
    const res = await submitPay(shopper, payPath, { action: "pay", shipping: "standard", email: "not-an-email", name: "Ana", line1: "", city: "", country: "Italy" }).expect(400);
    const $ = load(res.text);
    const problems = $(".pay .alert--error li").map((_, el) => $(el).text()).get();
    expect(problems).toEqual(["Enter the email for the receipt.", "Enter the street address.", "Enter the city.", "Choose your country from the list."]);
    expect($("#pay-email").val()).toBe("not-an-email");
    expect($("#pay-name").val()).toBe("Ana");

    const unknownShipping = await submitPay(shopper, payPath, { action: "pay", shipping: "teleport", ...address }).expect(400);
    expect(load(unknownShipping.text)(".pay .alert--error li").text()).toBe("Choose a shipping option.");
    await submitPay(shopper, payPath, { action: "refund-me" }).expect(400);

    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe("pending");
    expect(await variantState(v.id)).toEqual({ stock: 3, reserved: 1 });
    expect(await t.db.outboxEmail.count({ where: { dedupeKey: `order:${order.id}:confirmation` } })).toBe(0);
    expect(await t.db.paymentEvent.count({ where: { orderId: order.id } })).toBe(0);
  });

  it('"fail" answers 402, leaves the order pending with its hold, and the page can still pay', async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 2 }] });
    const v = p.variants[0]!;
    const { shopper, payPath, order } = await atPayPage(v.id);
    const declined = await submitPay(shopper, payPath, { action: "fail" }).expect(402);
    expect(load(declined.text)(".pay [role=alert]").text()).toContain("The card was declined");
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe("pending");
    expect(await variantState(v.id)).toEqual({ stock: 2, reserved: 1 });

    await submitPay(shopper, payPath, { action: "pay", shipping: "standard", ...address }).expect(303);
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe("paid");
    expect(await variantState(v.id)).toEqual({ stock: 1, reserved: 0 });
  });

  it('"cancel" cancels the order, frees the stock and returns to the cart, which is as it was', async () => {
    const p = await createProduct(t.deps, { title: "Clay Bell", variants: [{ stock: 2 }] });
    const v = p.variants[0]!;
    const { shopper, payPath, order } = await atPayPage(v.id, 2);
    const back = await submitPay(shopper, payPath, { action: "cancel" }).expect(303);
    const cancelUrl = back.headers.location!;
    expect(cancelUrl).toMatch(new RegExp(`^/shop/checkout/cancel/${order.id}\\?key=`));
    const cart = await shopper.agent.get(cancelUrl).expect(303);
    expect(cart.headers.location).toBe("/shop/cart?cancelled=1");
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe("cancelled");
    expect(await variantState(v.id)).toEqual({ stock: 2, reserved: 0 });
    const page = await shopper.agent.get(cart.headers.location!).expect(200);
    expect(load(page.text)(".alert--ok").text()).toContain("Checkout was cancelled");
    expect(load(page.text)(".cart-line__title").text()).toBe("Clay Bell");
    // The cancelled order's page can no longer take a payment.
    await submitPay(shopper, payPath, { action: "pay", shipping: "standard", ...address }).expect(303);
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe("cancelled");
    expect(await variantState(v.id)).toEqual({ stock: 2, reserved: 0 });
  });

  it('"cancel" on the page of an order already paid (a tab left open) leads to the paid order, not to a "cancelled" cart', async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 2 }] });
    const { shopper, payPath, order, key } = await atPayPage(p.variants[0]!.id);
    await submitPay(shopper, payPath, { action: "pay", shipping: "standard", ...address }).expect(303);
    const back = await submitPay(shopper, payPath, { action: "cancel" }).expect(303);
    const landing = await shopper.agent.get(back.headers.location!).expect(303);
    expect(landing.headers.location).toBe(`/shop/orders/${order.id}?key=${encodeURIComponent(key)}`);
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe("paid");
  });

  it("a wrong or missing key, or an unknown reference, is a 404 and changes nothing", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 2 }] });
    const { shopper, payPath, ref, order } = await atPayPage(p.variants[0]!.id);
    const bare = `/shop/pay/${ref}`;
    await shopper.agent.get(`${bare}?key=not-the-right-key-at-all`).expect(404);
    await shopper.agent.get(bare).expect(404);
    await shopper.agent.get(`${bare}?key=`).expect(404);
    await shopper.agent.get(`/shop/pay/loc_unknownreference123?key=whatever-key-1234`).expect(404);
    await submitPay(shopper, `${bare}?key=not-the-right-key-at-all`, { action: "pay", shipping: "standard", ...address }).expect(404);
    await submitPay(shopper, bare, { action: "pay", shipping: "standard", ...address }).expect(404);
    await shopper.agent.get(`/shop/orders/${order.id}`).expect(404);
    await shopper.agent.get(`/shop/checkout/cancel/${order.id}`).expect(404);
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe("pending");
    // The right key still works.
    await shopper.agent.get(payPath).expect(200);
  });

  it("needs the CSRF token like every other form", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 2 }] });
    const { shopper, payPath, order } = await atPayPage(p.variants[0]!.id);
    await shopper.agent.post(payPath).type("form").send({ action: "pay", shipping: "standard", ...address }).expect(403);
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe("pending");
  });
});

describe("local payment page: exactly once", () => {
  it("a double submit, sequential or in parallel, pays once: one sale of stock, one email, one ledger entry", async () => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 1200, stock: 4 }] });
    const v = p.variants[0]!;
    const { shopper, payPath, order } = await atPayPage(v.id, 2);
    const fields = { action: "pay", shipping: "standard", ...address };
    const results = await Promise.all(Array.from({ length: 8 }, () => submitPay(shopper, payPath, fields)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(303));
    await submitPay(shopper, payPath, fields).expect(303);

    expect(await variantState(v.id)).toEqual({ stock: 2, reserved: 0 });
    expect(await t.db.outboxEmail.count({ where: { dedupeKey: `order:${order.id}:confirmation` } })).toBe(1);
    expect(await t.db.paymentEvent.count({ where: { orderId: order.id } })).toBe(1);
    expect(await t.db.auditLog.count({ where: { entityId: order.id, action: "order.paid" } })).toBe(1);
    await flushEvents(t.deps);
    expect(await t.db.analyticsEvent.count({ where: { orderId: order.id, type: "order_paid" } })).toBe(1);
  });

  it("two shoppers racing for the last unit: one pays, the other is told it sold out", async () => {
    const p = await createProduct(t.deps, { title: "Last One", variants: [{ stock: 1 }] });
    const v = p.variants[0]!;
    const [a, b] = await Promise.all([newShopper(t.app), newShopper(t.app)]);
    await a.add(v.id).expect(303);
    await b.add(v.id).expect(303);
    const [ra, rb] = await Promise.all([a.checkout(), b.checkout()]);
    expect([ra.status, rb.status].sort()).toEqual([303, 409]);
    const loser = ra.status === 409 ? ra : rb;
    expect(load(loser.text)("#cart-error").text()).toBe('"Last One" just sold out.');
    expect(await variantState(v.id)).toEqual({ stock: 1, reserved: 1 });
  });
});

describe("the pay page belongs to the local gateway only", () => {
  it("is a 404 when the shop takes payments through Stripe", async () => {
    const stripe = await startFakeStripe();
    const s = await buildTestApp({ payments: stripe.gateway });
    try {
      const p = await createProduct(s.deps, { variants: [{ stock: 2 }] });
      // Even an order that really has a local reference (made before Stripe
      // was switched on) and the shopper's real key is not payable here.
      const shopper = await newShopper(s.app);
      await shopper.add(p.variants[0]!.id).expect(303);
      const started = await shopper.checkout().expect(303);
      const sessionId = started.headers.location!.split("/").pop()!;
      const key = new URL(String(stripe.sessions.get(sessionId)!.session.success_url)).searchParams.get("key")!;
      const order = await s.db.order.update({ where: { paymentRef: sessionId }, data: { paymentRef: "loc_madeupbeforestripe" } });
      await shopper.agent.get(`/shop/orders/${order.id}?key=${key}`).expect(200);
      await shopper.agent.get(`/shop/pay/loc_madeupbeforestripe?key=${key}`).expect(404);
      await shopper.agent.post(`/shop/pay/loc_madeupbeforestripe?key=${key}`).type("form").send({ _csrf: shopper.csrf, action: "pay", shipping: "standard", ...address }).expect(404);
      expect((await s.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe("pending");
    } finally {
      await s.close();
      await stripe.close();
    }
  });
});

describe("the local gateway's refunds", () => {
  it("answer the same refund for the same idempotency key, as Stripe does, and a new one for a new key", async () => {
    const gateway = new LocalGateway();
    const input = { paymentIntentId: "local_pi_x", amountMinor: 500, orderId: "o1" };
    const a = await gateway.refund({ ...input, idempotencyKey: "refund:o1:0:500" });
    const b = await gateway.refund({ ...input, idempotencyKey: "refund:o1:0:500" });
    const c = await gateway.refund({ ...input, idempotencyKey: "refund:o1:500:500" });
    expect(a.refundId).toMatch(/^locre_[A-Za-z0-9_-]{24}$/);
    expect(b.refundId).toBe(a.refundId);
    expect(c.refundId).not.toBe(a.refundId);
  });
});
