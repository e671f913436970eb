import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct, createToken } from "./helpers/factories.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";
import { createOrderRow, payLocally } from "./helpers/orders.js";
import { newShopper } from "./helpers/shopper.js";

/** Admin order pages and the /api/v1/orders API, with the local gateway. */
let t: TestApp;
let admin: TestAgent;
let csrf: string;
let bearer: string;

beforeAll(async () => {
  t = await buildTestApp();
  const { email, password } = await createAdmin(t.deps);
  admin = request.agent(t.app);
  await signIn(admin, email, password);
  csrf = csrfFrom((await admin.get("/shop/admin/orders").expect(200)).text);
  bearer = `Bearer ${(await createToken(t.deps)).token}`;
});
afterAll(() => t.close());

/** A paid order for `qty` × a fresh product at `priceMinor`, with standard shipping ($5.00). */
async function paidOrder(priceMinor = 3000, qty = 1, stock = 5) {
  const p = await createProduct(t.deps, { title: "Walnut Board", variants: [{ priceMinor, stock }] });
  const { order } = await payLocally(t.app, t.deps, p.variants[0]!.id, { quantity: qty });
  return { order: await t.db.order.findUniqueOrThrow({ where: { id: order.id } }), variant: p.variants[0]! };
}

/** A pending order: checkout started, payment page never submitted. */
async function pendingOrder(stock = 3) {
  const p = await createProduct(t.deps, { variants: [{ stock }] });
  const shopper = await newShopper(t.app);
  await shopper.add(p.variants[0]!.id, 1).expect(303);
  const started = await shopper.checkout().expect(303);
  const ref = new URL(started.headers.location!).pathname.split("/").pop()!;
  return { order: await t.db.order.findUniqueOrThrow({ where: { paymentRef: ref } }), variant: p.variants[0]! };
}

const post = (path: string, fields: Record<string, string> = {}) => admin.post(path).type("form").send({ _csrf: csrf, ...fields });
const api = () => ({
  get: (path: string) => request(t.app).get(`/shop/api/v1${path}`).set("Authorization", bearer),
  post: (path: string, body?: unknown) => request(t.app).post(`/shop/api/v1${path}`).set("Authorization", bearer).send(body as object),
});

describe("admin orders: access", () => {
  it("needs a signed-in admin and a CSRF token", async () => {
    const { order } = await paidOrder();
    const anon = await request(t.app).get("/shop/admin/orders").expect(303);
    expect(anon.headers.location).toMatch(/^\/shop\/admin\/login\?returnTo=/);
    await request(t.app).get(`/shop/admin/orders/${order.id}`).expect(303);

    // A stranger's browser with a valid CSRF pair but no admin session is refused…
    const stranger = request.agent(t.app);
    const token = csrfFrom((await stranger.get("/shop/").expect(200)).text);
    await stranger.post(`/shop/admin/orders/${order.id}/fulfill`).type("form").send({ _csrf: token }).expect(401);
    // …and the admin's own browser without the token too.
    await admin.post(`/shop/admin/orders/${order.id}/fulfill`).type("form").send({}).expect(403);
    await admin.post(`/shop/admin/orders/${order.id}/refund`).type("form").send({ amount: "1.00", _csrf: "forged" }).expect(403);
    expect(await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).toMatchObject({ status: "paid", refundedMinor: 0 });
  });
});

describe("admin orders: list", () => {
  it("shows status tabs with counts, searches by number, email and name, and pages with a cursor", async () => {
    const mine = await createOrderRow(t.deps, { status: "fulfilled", email: "zoe.unique@example.com", customerName: "Zoë Quill" });
    for (let i = 0; i < 52; i++) await createOrderRow(t.deps, { status: i % 2 ? "pending" : "cancelled" });

    const page = await admin.get("/shop/admin/orders").expect(200);
    const $ = load(page.text);
    expect($(".admin-nav a[aria-current=page]").text()).toBe("Orders");
    const counts = await t.db.order.groupBy({ by: ["status"], _count: { _all: true } });
    const count = (s: string) => counts.find((c) => c.status === s)?._count._all ?? 0;
    expect($('.tabs a[data-status="pending"]').text()).toBe(`Pending (${count("pending")})`);
    expect($('.tabs a[data-status="fulfilled"]').text()).toBe(`Fulfilled (${count("fulfilled")})`);
    expect($(".tabs a").first().text()).toBe(`All (${await t.db.order.count()})`);
    expect($("tbody tr")).toHaveLength(50);

    // Page 2 continues where page 1 stopped, with no repeats.
    const next = $('a[rel="next"]').attr("href")!;
    expect(next).toMatch(/^\/shop\/admin\/orders\?cursor=/);
    const second = load((await admin.get(next).expect(200)).text);
    const first = new Set($("tbody tr").map((_, el) => $(el).attr("data-order")).get());
    const more = second("tbody tr").map((_, el) => second(el).attr("data-order")).get();
    expect(more.length).toBeGreaterThan(0);
    expect(more.filter((n) => first.has(n))).toEqual([]);
    expect(first.size + more.length).toBe(await t.db.order.count());

    // Tabs filter.
    const pending = load((await admin.get("/shop/admin/orders?status=pending").expect(200)).text);
    expect(pending("tbody .badge").map((_, el) => pending(el).text()).get().every((s) => s === "Pending")).toBe(true);
    // A stale status in the URL shows everything instead of an error.
    await admin.get("/shop/admin/orders?status=shipped").expect(200);

    for (const q of [`#${mine.number}`, String(mine.number), "zoe.unique", "Zoë"]) {
      const found = load((await admin.get(`/shop/admin/orders?q=${encodeURIComponent(q)}`).expect(200)).text);
      expect(found("tbody tr").map((_, el) => found(el).attr("data-order")).get(), q).toEqual([String(mine.number)]);
    }
    const none = load((await admin.get("/shop/admin/orders?q=nobody-like-this").expect(200)).text);
    expect(none(".empty").text()).toContain("No orders match “nobody-like-this”.");
  });
});

describe("admin orders: detail", () => {
  it("shows lines, totals, customer, address, payment, attribution, history and the payment ledger", async () => {
    const igPost = await t.db.post.create({ data: { platform: "instagram", caption: "New boards" } });
    const link = await t.db.shortLink.create({ data: { code: "boards24", targetType: "post", postId: igPost.id, channel: "instagram" } });
    const live = await t.db.liveSession.create({ data: { title: "Friday studio live", code: "fri-live", startsAt: new Date() } });
    const { order } = await paidOrder(2250, 2);
    await t.db.order.update({ where: { id: order.id }, data: { linkId: link.id, postId: igPost.id, liveSessionId: live.id, channel: "instagram" } });

    const res = await admin.get(`/shop/admin/orders/${order.id}`).expect(200);
    const $ = load(res.text);
    expect($("h1").text()).toContain(`Order #${order.number}`);
    expect($("#order-status").text()).toBe("Paid");
    expect($("#order-lines tbody tr")).toHaveLength(1);
    expect($("#order-lines").text()).toContain("Walnut Board");
    expect($("#order-lines").text()).toContain("$22.50");
    const totals = $("#order-totals div").map((_, el) => `${$(el).find("dt").text()} ${$(el).find("dd").text()}`.replace(/\s+/g, " ").trim()).get();
    expect(totals).toEqual(["Subtotal $45.00", "Discount $0.00", "Shipping (Standard shipping) $5.00", "Tax $0.00", "Total $50.00", "Refunded $0.00"]);
    expect($("#order-customer").text()).toContain("Ana Rossi");
    expect($("#order-customer").text()).toContain("ana@example.com");
    expect($("#order-address").text()).toContain("12 Via Roma");
    expect($("#order-address").text()).toContain("10121 Torino");
    expect($("#order-payment").text()).toContain("Test payment page");
    expect($("#order-payment").text()).toContain(order.paymentRef!);
    expect($("#order-payment").text()).toContain(order.paymentIntentId!);
    const attribution = $("#order-attribution").text();
    for (const s of ["boards24", "instagram", igPost.id, "Friday studio live"]) expect(attribution).toContain(s);
    expect($("#order-events").text()).toContain("Paid");
    expect($("#order-ledger").text()).toContain(`local:${order.paymentRef}:paid`);
    expect($("#order-ledger").text()).toContain("local.paid");
    // Actions that apply to a paid order, and none that do not.
    expect($("#fulfill")).toHaveLength(1);
    expect($("#cancel")).toHaveLength(0);
    expect($("#refund-amount").val()).toBe("50.00");
    expect($("#order-mismatch")).toHaveLength(0);
    expect(res.headers["cache-control"]).toBe("no-store");
  });

  it("warns when the amount charged differs from the order total", async () => {
    const { order } = await paidOrder(1000);
    await t.db.order.update({ where: { id: order.id }, data: { amountMismatch: true } });
    await t.db.auditLog.create({ data: { actorType: "system", action: "order.amount_mismatch", entityType: "order", entityId: order.id, details: JSON.stringify({ charged: 999, computed: 1500 }) } });
    const $ = load((await admin.get(`/shop/admin/orders/${order.id}`).expect(200)).text);
    expect($("#order-mismatch").text()).toContain("charged $9.99; the order adds up to $15.00");
    const list = load((await admin.get(`/shop/admin/orders?q=${order.number}`).expect(200)).text);
    expect(list("tbody .badge--order-warning").text()).toBe("Amount differs");
  });

  it("speaks Persian, right to left", async () => {
    const { order } = await paidOrder(1000);
    const $ = load((await admin.get(`/shop/admin/orders/${order.id}?lang=fa`).expect(200)).text);
    expect($("html").attr("dir")).toBe("rtl");
    expect($("#order-status").text()).toBe("پرداخت‌شده");
    expect($("h1").text()).toMatch(/سفارش #[۰-۹]+/);
    expect($("#order-total").text()).toMatch(/۱۵/);
    // The language sticks to the browser; switch this one back for the tests after.
    await admin.get("/shop/admin/orders?lang=en").expect(200);
  });

  it("is a 404 for an unknown order", async () => {
    await admin.get("/shop/admin/orders/no-such-order").expect(404);
  });
});

describe("admin orders: actions", () => {
  it("marks a paid order fulfilled, once", async () => {
    const { order } = await paidOrder();
    const res = await post(`/shop/admin/orders/${order.id}/fulfill`).expect(303);
    expect(res.headers.location).toBe(`/shop/admin/orders/${order.id}?done=fulfilled`);
    const $ = load((await admin.get(res.headers.location!).expect(200)).text);
    expect($("#order-done").text()).toBe("Marked fulfilled.");
    expect($("#order-status").text()).toBe("Fulfilled");
    expect($("#fulfill")).toHaveLength(0);
    await post(`/shop/admin/orders/${order.id}/fulfill`).expect(303);
    expect(await t.db.auditLog.count({ where: { entityId: order.id, action: "order.fulfill" } })).toBe(1);
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).fulfilledAt).not.toBeNull();
  });

  it("refuses to fulfil a pending order with a 409 that says why", async () => {
    const { order } = await pendingOrder();
    const res = await post(`/shop/admin/orders/${order.id}/fulfill`).expect(409);
    expect(load(res.text)("#order-error").text()).toBe("That does not apply to an order that is Pending.");
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe("pending");
  });

  it("cancels a pending order and gives its held stock back; a paid order cannot be cancelled", async () => {
    const { order, variant } = await pendingOrder(3);
    expect((await t.db.variant.findUniqueOrThrow({ where: { id: variant.id } })).reserved).toBe(1);
    const res = await post(`/shop/admin/orders/${order.id}/cancel`).expect(303);
    const $ = load((await admin.get(res.headers.location!).expect(200)).text);
    expect($("#order-done").text()).toContain("Order cancelled");
    expect($("#order-status").text()).toBe("Cancelled");
    expect(await t.db.variant.findUniqueOrThrow({ where: { id: variant.id } })).toMatchObject({ stock: 3, reserved: 0 });
    expect(await t.db.auditLog.findFirstOrThrow({ where: { entityId: order.id, action: "order.cancel" } })).toMatchObject({ actorType: "admin", rule: "admin_cancelled" });

    const paid = await paidOrder();
    const refused = await post(`/shop/admin/orders/${paid.order.id}/cancel`).expect(409);
    expect(load(refused.text)("#order-error").text()).toContain("Only a pending order can be cancelled; this one is Paid.");
    expect((await t.db.order.findUniqueOrThrow({ where: { id: paid.order.id } })).status).toBe("paid");
  });

  it("refunds part, then the rest, through the gateway; the page shows both refunds and the history", async () => {
    const { order } = await paidOrder(3000);
    const part = await post(`/shop/admin/orders/${order.id}/refund`, { amount: "12.50", reason: "chipped corner", refunded: "0" }).expect(303);
    expect(part.headers.location).toBe(`/shop/admin/orders/${order.id}?done=refunded`);
    expect(await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).toMatchObject({ status: "partially_refunded", refundedMinor: 1250 });
    let $ = load((await admin.get(part.headers.location!).expect(200)).text);
    expect($("#order-status").text()).toBe("Partially refunded");
    expect($("#order-refunded").text()).toBe("$12.50");
    expect($("#refund-amount").val()).toBe("22.50");
    expect($("#order-refunds").text()).toContain("chipped corner");

    await post(`/shop/admin/orders/${order.id}/refund`, { amount: "22.50", refunded: "1250" }).expect(303);
    $ = load((await admin.get(`/shop/admin/orders/${order.id}`).expect(200)).text);
    expect($("#order-status").text()).toBe("Refunded");
    expect($("#refund")).toHaveLength(0);
    const refunds = await t.db.refund.findMany({ where: { orderId: order.id }, orderBy: { createdAt: "asc" } });
    expect(refunds.map((r) => [r.amountMinor, r.reason])).toEqual([[1250, "chipped corner"], [2250, ""]]);
    expect(refunds.every((r) => r.providerRef?.startsWith("locre_"))).toBe(true);
    expect(await t.db.auditLog.count({ where: { entityId: order.id, action: "order.refund", actorType: "admin" } })).toBe(2);
    expect($("#order-events").text()).toContain("reason: chipped corner");
  });

  it("refuses an over-refund, a malformed amount, zero and unknown fields with a 400 that says what to fix, changing nothing", async () => {
    const { order } = await paidOrder(1000);
    const cases: [Record<string, string>, string][] = [
      [{ amount: "15.01" }, "That is more than is left to refund: at most $15.00."],
      [{ amount: "12.345" }, "“12.345” is not an amount in USD: type it like 12.50."],
      [{ amount: "ten" }, "“ten” is not an amount in USD: type it like 12.50."],
      [{ amount: "-1" }, "“-1” is not an amount in USD: type it like 12.50."],
      [{ amount: "0" }, "Enter an amount above 0."],
      [{ amount: "" }, "Enter the amount to refund, e.g. 12.50."],
    ];
    for (const [fields, message] of cases) {
      const res = await post(`/shop/admin/orders/${order.id}/refund`, { reason: "test", refunded: "0", ...fields }).expect(400);
      const $ = load(res.text);
      expect($("#order-error").text(), fields.amount).toBe(message);
      // What was typed is still in the form.
      expect($("#refund-amount").val()).toBe(fields.amount || "15.00");
      expect($("#refund-amount").attr("aria-invalid")).toBe("true");
    }
    await post(`/shop/admin/orders/${order.id}/refund`, { amount: "1.00", refunded: "0", approve: "yes" }).expect(400);
    await post(`/shop/admin/orders/${order.id}/refund`, { amount: "1.00" }).expect(400);
    expect(await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).toMatchObject({ status: "paid", refundedMinor: 0 });
    expect(await t.db.refund.count({ where: { orderId: order.id } })).toBe(0);
  });

  it("a double-clicked refund form refunds once, whether the second post overlaps the first or comes after it", async () => {
    const { order } = await paidOrder(2000);
    const page = load((await admin.get(`/shop/admin/orders/${order.id}`).expect(200)).text);
    expect(page('input[name="refunded"]').val()).toBe("0");
    const fields = { amount: "5.00", refunded: "0" };
    const results = await Promise.all(Array.from({ length: 3 }, () => post(`/shop/admin/orders/${order.id}/refund`, fields)));
    const late = await post(`/shop/admin/orders/${order.id}/refund`, fields).expect(409);
    expect(load(late.text)("#order-error").text()).toBe("Another refund went through meanwhile ($5.00 refunded so far). Nothing more was refunded; check the order before trying again.");
    expect(results.map((r) => r.status).every((s) => s === 303 || s === 409)).toBe(true);
    expect(await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).toMatchObject({ refundedMinor: 500, status: "partially_refunded" });
    expect(await t.db.refund.count({ where: { orderId: order.id } })).toBe(1);
    expect(await t.db.auditLog.count({ where: { entityId: order.id, action: "order.refund" } })).toBe(1);
  });

  it("refuses a refund on a pending order with a 409", async () => {
    const { order } = await pendingOrder();
    // The refund form is not even offered…
    expect(load((await admin.get(`/shop/admin/orders/${order.id}`).expect(200)).text)("#refund")).toHaveLength(0);
    // …and a hand-made post is refused.
    const res = await post(`/shop/admin/orders/${order.id}/refund`, { amount: "1.00", refunded: "0" }).expect(409);
    expect(load(res.text)("#order-error").text()).toBe("That does not apply to an order that is Pending.");
  });
});

describe("orders API", () => {
  it("needs a Bearer token", async () => {
    await request(t.app).get("/shop/api/v1/orders").expect(401);
    const { order } = await paidOrder();
    await request(t.app).post(`/shop/api/v1/orders/${order.id}/refund`).send({ amountMinor: 100 }).expect(401);
    await request(t.app).post(`/shop/api/v1/orders/${order.id}/fulfill`).set("Authorization", "Bearer bz_not_a_real_token_123").send({}).expect(401);
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe("paid");
  });

  it("lists with status filter, search and cursor pages; a wrong status or limit is a 400", async () => {
    const target = await createOrderRow(t.deps, { status: "refunded", email: "api.search@example.com" });
    const res = await api().get("/orders?status=refunded&limit=100").expect(200);
    expect(res.body.data.every((o: { status: string }) => o.status === "refunded")).toBe(true);
    expect(res.body.data.map((o: { id: string }) => o.id)).toContain(target.id);
    expect(res.body.counts.refunded).toBeGreaterThanOrEqual(1);
    const found = await api().get("/orders?q=api.search").expect(200);
    expect(found.body.data).toHaveLength(1);
    expect(found.body.data[0]).toMatchObject({ number: target.number, status: "refunded", totalMinor: 2500, items: 1, currency: "USD" });
    expect(found.body.data[0]).not.toHaveProperty("accessKeyHash");

    const total = await t.db.order.count();
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const page: request.Response = await api().get(`/orders?limit=7${cursor ? `&cursor=${cursor}` : ""}`).expect(200);
      for (const o of page.body.data as { id: string }[]) seen.add(o.id);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.size).toBe(total);

    const bad = await api().get("/orders?status=shipped").expect(400);
    expect(bad.body.error.details[0]).toMatchObject({ field: "status" });
    expect(bad.body.error.message).toContain("One of pending, paid");
    await api().get("/orders?limit=0").expect(400);
    await api().get("/orders?limit=abc").expect(400);
    await api().get("/orders?sort=desc").expect(400);
  });

  it("shows one order with lines, totals, address, payment, ledger and history, never the access key", async () => {
    const { order } = await paidOrder(1800, 2);
    const res = await api().get(`/orders/${order.id}`).expect(200);
    expect(res.body.data).toMatchObject({
      id: order.id,
      number: order.number,
      status: "paid",
      subtotalMinor: 3600,
      shippingMinor: 500,
      taxMinor: 0,
      totalMinor: 4100,
      refundedMinor: 0,
      email: "ana@example.com",
      customerName: "Ana Rossi",
      shippingOption: "standard",
      shippingAddress: { line1: "12 Via Roma", city: "Torino", postal_code: "10121", country: "IT" },
      paymentProvider: "local",
      paymentRef: order.paymentRef,
      paymentIntentId: order.paymentIntentId,
      lines: [{ title: "Walnut Board", unitPriceMinor: 1800, quantity: 2, totalMinor: 3600 }],
      attribution: { linkCode: null, post: null, liveSession: null, channel: null },
      paymentEvents: [{ id: `local:${order.paymentRef}:paid`, type: "local.paid", outcome: "processed" }],
    });
    expect(res.body.data.events.map((e: { action: string }) => e.action)).toContain("order.paid");
    expect(JSON.stringify(res.body)).not.toMatch(/accessKeyHash|cartId|visitorId/);
    await api().get("/orders/no-such-order").expect(404);
  });

  it("fulfils a paid order; refuses a pending one (409) and unknown fields (400)", async () => {
    const { order } = await paidOrder();
    await api().post(`/orders/${order.id}/fulfill`, { notify: true }).expect(400);
    const res = await api().post(`/orders/${order.id}/fulfill`, {}).expect(200);
    expect(res.body.data.status).toBe("fulfilled");
    expect(res.body.data.events.find((e: { action: string }) => e.action === "order.fulfill")).toMatchObject({ actorType: "api" });
    // Again: already fulfilled, nothing changes.
    await api().post(`/orders/${order.id}/fulfill`).expect(200);
    const pending = await pendingOrder();
    const refused = await api().post(`/orders/${pending.order.id}/fulfill`).expect(409);
    expect(refused.body.error.message).toContain("only paid orders can be marked fulfilled");
    await api().post("/orders/no-such-order/fulfill").expect(404);
  });

  it("refunds part, then all; refuses an over-refund with a 400 naming amountMinor and what is left", async () => {
    const { order } = await paidOrder(2000);
    const part = await api().post(`/orders/${order.id}/refund`, { amountMinor: 700, reason: "late delivery" }).expect(200);
    expect(part.body.data).toMatchObject({ status: "partially_refunded", refundedMinor: 700, refunds: [{ amountMinor: 700, reason: "late delivery" }] });

    const over = await api().post(`/orders/${order.id}/refund`, { amountMinor: 1801 }).expect(400);
    expect(over.body.error).toMatchObject({ code: "validation_failed", message: `amountMinor: at most 1800 (18.00 USD) is left to refund on order #${order.number}.` });
    expect(over.body.error.details[0]).toMatchObject({ field: "amountMinor", refundableMinor: 1800 });

    for (const body of [{ amountMinor: 0 }, { amountMinor: -5 }, { amountMinor: 1.5 }, { amountMinor: "100" }, {}, { amountMinor: 100, currency: "EUR" }]) {
      const res = await api().post(`/orders/${order.id}/refund`, body).expect(400);
      expect(res.body.error.code, JSON.stringify(body)).toBe("validation_failed");
    }
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).refundedMinor).toBe(700);

    const rest = await api().post(`/orders/${order.id}/refund`, { amountMinor: 1800 }).expect(200);
    expect(rest.body.data).toMatchObject({ status: "refunded", refundedMinor: 2500 });
    const again = await api().post(`/orders/${order.id}/refund`, { amountMinor: 1 }).expect(409);
    expect(again.body.error.message).toContain("only paid orders can be refunded");
  });

  it("with expectedRefundedMinor, a refund sent several times refunds once; the late copies are a 409", async () => {
    const { order } = await paidOrder(2000);
    const body = { amountMinor: 500, expectedRefundedMinor: 0 };
    const results = await Promise.all(Array.from({ length: 4 }, () => api().post(`/orders/${order.id}/refund`, body)));
    expect(results.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const late = await api().post(`/orders/${order.id}/refund`, body).expect(409);
    expect(late.body.error).toMatchObject({ code: "refund_changed", details: [{ field: "expectedRefundedMinor", refundedMinor: 500 }] });
    expect(await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).toMatchObject({ refundedMinor: 500, status: "partially_refunded" });
    expect(await t.db.refund.count({ where: { orderId: order.id } })).toBe(1);
    expect(await t.db.auditLog.count({ where: { entityId: order.id, action: "order.refund" } })).toBe(1);
  });

  it("cancels a pending order; a paid one is a 409 and stays paid", async () => {
    const { order, variant } = await pendingOrder(2);
    await api().post(`/orders/${order.id}/cancel`, { reason: "customer called", extra: 1 }).expect(400);
    const res = await api().post(`/orders/${order.id}/cancel`, { reason: "customer called" }).expect(200);
    expect(res.body.data.status).toBe("cancelled");
    expect(res.body.data.events.find((e: { action: string }) => e.action === "order.cancel")).toMatchObject({ actorType: "api", rule: "customer called" });
    expect(await t.db.variant.findUniqueOrThrow({ where: { id: variant.id } })).toMatchObject({ stock: 2, reserved: 0 });
    await api().post(`/orders/${order.id}/cancel`).expect(409);

    const paid = await paidOrder();
    const refused = await api().post(`/orders/${paid.order.id}/cancel`).expect(409);
    expect(refused.body.error.message).toBe(`Order #${paid.order.number} is paid; only pending orders can be cancelled (refund a paid one instead).`);
    await api().post("/orders/no-such-order/cancel").expect(404);
  });
});
