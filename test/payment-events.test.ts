import express from "express";
import { pino } from "pino";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/client.js";
import { createStorefront } from "../src/storefront.js";
import { buildTestApp, TEST_POOL_SIZE, type TestApp } from "./helpers/app.js";
import { TEST_TRANSACTIONS } from "./helpers/engine.js";
import { createProduct, createToken } from "./helpers/factories.js";
import { startFakeStripe, type FakeStripe } from "./helpers/fake-stripe.js";
import { deliverWebhook, newShopper, sessionIdFrom } from "./helpers/shopper.js";

/**
 * Stripe delivers webhooks at least once and in any order, and retries every
 * answer that is not 2xx. Whatever order two events come in, the order must
 * end in the same state. Every ordered pair of the events we handle is
 * played against a fresh order through signed webhooks; anything answered
 * non-2xx is delivered again, as Stripe would.
 */

let stripe: FakeStripe;
let t: TestApp;
let auth: { Authorization: string };

beforeAll(async () => {
  stripe = await startFakeStripe();
  t = await buildTestApp({ payments: stripe.gateway });
  auth = { Authorization: `Bearer ${(await createToken(t.deps)).token}` };
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

const KINDS = ["completed_paid", "completed_unpaid", "async_succeeded", "async_failed", "expired", "refund_partial", "refund_full"] as const;
type Kind = (typeof KINDS)[number];
type Signed = { payload: string; signature: string; id: string };

const PRICE = 2000;
const SHIPPING = 500; // the first shipping option, which stripe.complete() picks
const TOTAL = PRICE + SHIPPING;

/** A fresh pending order (one unit held) and every event about it, signed. */
async function scenario() {
  const product = await createProduct(t.deps, { variants: [{ priceMinor: PRICE, stock: 5 }] });
  const variantId = product.variants[0]!.id;
  const shopper = await newShopper(t.app);
  await shopper.add(variantId, 1).expect(303);
  const started = await shopper.checkout({ email: "buyer@example.com" }).expect(303);
  const sessionId = sessionIdFrom(started.headers.location);
  const order = await t.db.order.findUniqueOrThrow({ where: { paymentRef: sessionId } });
  // What each event carries is a snapshot of the session at the moment it was sent.
  const paid = JSON.parse(JSON.stringify(stripe.complete(sessionId))) as Record<string, unknown>;
  const pi = String(paid.payment_intent);
  const events: Record<Kind, Signed> = {
    completed_paid: stripe.event("checkout.session.completed", paid),
    completed_unpaid: stripe.event("checkout.session.completed", { ...paid, payment_status: "unpaid" }),
    async_succeeded: stripe.event("checkout.session.async_payment_succeeded", paid),
    async_failed: stripe.event("checkout.session.async_payment_failed", { ...paid, payment_status: "unpaid" }),
    expired: stripe.event("checkout.session.expired", { ...paid, status: "expired", payment_status: "unpaid", payment_intent: null }),
    refund_partial: stripe.event("charge.refunded", stripe.charge(pi, 1000, TOTAL)),
    refund_full: stripe.event("charge.refunded", stripe.charge(pi, TOTAL, TOTAL)),
  };
  return { orderId: order.id, variantId, events };
}

/** Delivers the events in this order, then redelivers whatever was not answered 2xx (three rounds, as a stand-in for Stripe's retries). */
async function play(events: Record<Kind, Signed>, order: Kind[]) {
  const answers = new Map<Kind, number>();
  for (const kind of order) answers.set(kind, (await deliverWebhook(t.app, events[kind])).status);
  for (let round = 0; round < 3; round++) {
    for (const kind of order) if (answers.get(kind)! >= 300) answers.set(kind, (await deliverWebhook(t.app, events[kind])).status);
  }
  for (const status of answers.values()) expect(status === 200 || status === 409, `answers: ${JSON.stringify([...answers])}`).toBe(true);
  return answers;
}

/** Everything the events may change, in terms that do not depend on ids. */
async function finalState(s: Awaited<ReturnType<typeof scenario>>, answers: Map<Kind, number>) {
  const order = await t.db.order.findUniqueOrThrow({ where: { id: s.orderId }, include: { holds: true } });
  const variant = await t.db.variant.findUniqueOrThrow({ where: { id: s.variantId } });
  const ledger = await t.db.paymentEvent.findMany({ where: { id: { in: Object.values(s.events).map((e) => e.id) } } });
  const kindOf = (id: string) => KINDS.find((k) => s.events[k].id === id)!;
  return {
    status: order.status,
    refundedMinor: order.refundedMinor,
    totalMinor: order.totalMinor,
    paid: order.paidAt !== null,
    paymentIntentKnown: order.paymentIntentId !== null,
    stock: variant.stock,
    reserved: variant.reserved,
    activeHolds: order.holds.filter((h) => h.status === "active").length,
    confirmationEmails: await t.db.outboxEmail.count({ where: { dedupeKey: `order:${s.orderId}:confirmation` } }),
    paidAudits: await t.db.auditLog.count({ where: { entityId: s.orderId, action: "order.paid" } }),
    refundNeeded: await t.db.auditLog.count({ where: { entityId: s.orderId, action: "order.paid_after_cancel" } }),
    recorded: ledger.map((e) => `${kindOf(e.id)}:${e.outcome}`).sort(),
    stillRefused: [...answers].filter(([, status]) => status !== 200).map(([kind]) => kind).sort(),
  };
}

/** What any order of these events must end in: paid wins over a lapsed payment window; refunds need the payment. */
function expected(kinds: Kind[]) {
  const paid = kinds.includes("completed_paid") || kinds.includes("async_succeeded");
  const cancelled = kinds.includes("async_failed") || kinds.includes("expired");
  const refunded = !paid ? 0 : kinds.includes("refund_full") ? TOTAL : kinds.includes("refund_partial") ? 1000 : 0;
  const status = paid ? (refunded === TOTAL ? "refunded" : refunded > 0 ? "partially_refunded" : "paid") : cancelled ? "cancelled" : "pending";
  return { status, refundedMinor: refunded, stock: paid ? 4 : 5, reserved: paid || cancelled ? 0 : 1, confirmationEmails: paid ? 1 : 0, paidAudits: paid ? 1 : 0, refundNeeded: 0 };
}

const pairs: [Kind, Kind][] = KINDS.flatMap((a) => KINDS.filter((b) => b !== a).map((b) => [a, b] as [Kind, Kind]));

describe("every pair of handled Stripe events, in both orders", () => {
  it.each(pairs.filter(([a, b]) => KINDS.indexOf(a) < KINDS.indexOf(b)))("%s and %s end in the same state either way", async (a, b) => {
    const forward = await scenario();
    const there = await finalState(forward, await play(forward.events, [a, b]));
    const backward = await scenario();
    const back = await finalState(backward, await play(backward.events, [b, a]));
    expect(back).toEqual(there);
    expect(there).toMatchObject(expected([a, b]));
    // A refund can only be taken once its payment is seen; until then it is refused, never recorded.
    for (const kind of there.stillRefused) expect(kind.startsWith("refund")).toBe(true);
    expect(there.recorded.some((r) => r.startsWith("refund") && r.endsWith(":ignored"))).toBe(false);
  });

  it("a payment and two refunds in all six orders end refunded in full, once", async () => {
    const orders: Kind[][] = [
      ["completed_paid", "refund_partial", "refund_full"],
      ["completed_paid", "refund_full", "refund_partial"],
      ["refund_partial", "completed_paid", "refund_full"],
      ["refund_partial", "refund_full", "completed_paid"],
      ["refund_full", "completed_paid", "refund_partial"],
      ["refund_full", "refund_partial", "completed_paid"],
    ];
    const states = [];
    for (const order of orders) {
      const s = await scenario();
      states.push(await finalState(s, await play(s.events, order)));
    }
    for (const state of states) expect(state).toEqual(states[0]);
    expect(states[0]).toMatchObject({ status: "refunded", refundedMinor: TOTAL, stock: 4, stillRefused: [] });
  });

  it("a payment that arrives after the sold-out stock was given to someone else is flagged for a refund, in either order", async () => {
    for (const order of [["expired", "completed_paid"], ["completed_paid", "expired"]] as Kind[][]) {
      const s = await scenario();
      if (order[0] === "expired") {
        await play(s.events, ["expired"]);
        // The freed unit (the only one left) is sold to another shopper before the late payment arrives.
        await t.db.variant.update({ where: { id: s.variantId }, data: { stock: 1 } });
        await t.db.variant.update({ where: { id: s.variantId }, data: { reserved: 1 } });
        await play(s.events, ["completed_paid"]);
        const state = await finalState(s, new Map());
        expect(state).toMatchObject({ status: "cancelled", paid: false, paymentIntentKnown: true, refundNeeded: 1, stock: 1, reserved: 1 });
        // The refund of that payment is then taken (the order stays cancelled).
        await play(s.events, ["refund_full"]);
        expect(await t.db.order.findUniqueOrThrow({ where: { id: s.orderId } })).toMatchObject({ status: "cancelled", refundedMinor: TOTAL });
      } else {
        await play(s.events, order);
        expect(await finalState(s, new Map())).toMatchObject({ status: "paid", refundNeeded: 0, stock: 4 });
      }
    }
  });
});

describe("concurrency with real parallel requests", () => {
  it("one event delivered many times at once is processed once and recorded once", async () => {
    const s = await scenario();
    const results = await Promise.all(Array.from({ length: 12 }, () => deliverWebhook(t.app, s.events.completed_paid)));
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 12 }, () => 200));
    expect(results.filter((r) => r.body.outcome === "paid")).toHaveLength(1);
    expect(await t.db.paymentEvent.count({ where: { id: s.events.completed_paid.id } })).toBe(1);
    expect(await finalState(s, new Map())).toMatchObject({ status: "paid", stock: 4, paidAudits: 1, confirmationEmails: 1 });
  });

  it("two shop instances on one database, given the same event at once, process it once: no 500", async () => {
    // Production runs several stateless instances; here, a second storefront with its own connection (pool) to the same database.
    const db = await openDatabase(t.url, { poolSize: TEST_POOL_SIZE, transactions: TEST_TRANSACTIONS });
    const other = express().use("/shop", createStorefront({ prisma: db, payments: stripe.gateway, logger: pino({ level: "silent" }), secret: "test-secret-that-is-at-least-32-characters-long", uploadsDir: t.dir }));
    try {
      for (let round = 0; round < 3; round++) {
        const s = await scenario();
        const event = s.events.completed_paid;
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => deliverWebhook(i % 2 ? other : t.app, event)));
        expect(results.map((r) => r.status)).toEqual(Array.from({ length: 8 }, () => 200));
        expect(results.filter((r) => r.body.outcome === "paid")).toHaveLength(1);
        expect(await t.db.paymentEvent.count({ where: { id: event.id } })).toBe(1);
        expect(await finalState(s, new Map())).toMatchObject({ status: "paid", stock: 4, paidAudits: 1 });
      }
    } finally {
      await db.$disconnect();
    }
  });

  it("a refund double-submitted with the same expectedRefundedMinor refunds once: one 200, the others 409, no 500", async () => {
    const s = await scenario();
    await play(s.events, ["completed_paid"]);
    const refundCalls = () => stripe.requests.filter((r) => r.path === "/v1/refunds").length;
    const before = refundCalls();
    const results = await Promise.all(Array.from({ length: 6 }, () => request(t.app).post(`/shop/api/v1/orders/${s.orderId}/refund`).set(auth).send({ amountMinor: 700, expectedRefundedMinor: 0 })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expect(["refund_in_progress", "refund_changed"]).toContain(r.body.error.code);
    expect(refundCalls() - before).toBe(1);
    expect(await t.db.order.findUniqueOrThrow({ where: { id: s.orderId } })).toMatchObject({ status: "partially_refunded", refundedMinor: 700 });
    expect(await t.db.refund.count({ where: { orderId: s.orderId } })).toBe(1);
    expect(await t.db.auditLog.count({ where: { entityId: s.orderId, action: "order.refund" } })).toBe(1);
  });

  it("overlapping refunds without expectedRefundedMinor still cannot both be made on the same refunded total", async () => {
    const s = await scenario();
    await play(s.events, ["completed_paid"]);
    const results = await Promise.all(Array.from({ length: 4 }, () => request(t.app).post(`/shop/api/v1/orders/${s.orderId}/refund`).set(auth).send({ amountMinor: 300 })));
    const ok = results.filter((r) => r.status === 200).length;
    expect(results.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const order = await t.db.order.findUniqueOrThrow({ where: { id: s.orderId } });
    // However the requests interleaved, every refund made was made on its own total: the ledger of refunds adds up.
    expect(order.refundedMinor).toBe(300 * ok);
    expect(await t.db.refund.count({ where: { orderId: s.orderId } })).toBe(ok);
  });

  it("a refund whose provider call fails leaves no claim behind, and a retry refunds once", async () => {
    const s = await scenario();
    await play(s.events, ["completed_paid"]);
    stripe.failNext(/^\/v1\/refunds$/, 500, 3);
    const failed = await request(t.app).post(`/shop/api/v1/orders/${s.orderId}/refund`).set(auth).send({ amountMinor: 400, expectedRefundedMinor: 0 });
    expect(failed.status).toBe(502);
    expect(await t.db.refund.count({ where: { orderId: s.orderId } })).toBe(0);
    await request(t.app).post(`/shop/api/v1/orders/${s.orderId}/refund`).set(auth).send({ amountMinor: 400, expectedRefundedMinor: 0 }).expect(200);
    expect(await t.db.order.findUniqueOrThrow({ where: { id: s.orderId } })).toMatchObject({ refundedMinor: 400 });
  });
});
