import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveJobs } from "../src/live/live.jobs.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { load } from "./helpers/html.js";
import { liveApi, liveShow, newViewer, type LiveApi } from "./helpers/live.js";
import { TEST_ADDRESS } from "./helpers/orders.js";

/**
 * Issue 11, point 3: claims hold stock through the inventory holds service;
 * the hold carries into checkout at the live price (no second hold, no gap);
 * expiry gives the unit to the waitlist (page and email); per-buyer limits
 * and caps; bad input. Concurrency is in live-concurrency.test.ts.
 */
let t: TestApp;
let api: LiveApi;
let clock = new Date("2026-12-05T18:00:00Z").getTime();
beforeAll(async () => {
  t = await buildTestApp({ publicUrl: "https://shop.example/shop", now: () => new Date(clock) });
  api = await liveApi(t.app, t.deps);
});
afterAll(() => t.close());

const variant = (id: string) => t.db.variant.findUniqueOrThrow({ where: { id }, select: { stock: true, reserved: true } });
const activeHolds = (variantId: string) => t.db.stockHold.findMany({ where: { variantId, status: "active" }, orderBy: { createdAt: "asc" } });

/** Pays on the local payment page the checkout just redirected to. */
async function payAt(agent: request.Agent | ReturnType<typeof request.agent>, location: string, csrf: string) {
  const url = new URL(location);
  await agent.post(url.pathname + url.search).type("form").send({ _csrf: csrf, action: "pay", shipping: "standard", ...TEST_ADDRESS }).expect(303);
  return t.db.order.findUniqueOrThrow({ where: { paymentRef: url.pathname.split("/").pop()! }, include: { lines: true, holds: true } });
}

describe("a claim", () => {
  it("answers 201 with the hold's expiry, and the unit is held like a checkout holds it", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { holdMinutes: 10, items: [{ claimCode: "12", livePriceMinor: 1800, variants: [{ priceMinor: 2500, stock: 3 }] }] });
    const v = items[0]!.variants[0]!;
    const viewer = await newViewer(t.app, session.code);
    const res = await viewer.claim(items[0]!.id, v.id).expect(201);
    expect(res.body.data).toMatchObject({
      itemId: items[0]!.id,
      variantId: v.id,
      quantity: 1,
      unitPriceMinor: 1800,
      priceKind: "live",
      expiresAt: new Date(clock + 10 * 60_000).toISOString(),
      holdSeconds: 600,
      checkoutUrl: expect.stringMatching(new RegExp(`^https://shop\\.example/shop/live/${session.code}/pay/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{32}$`)),
    });
    expect(await variant(v.id)).toEqual({ stock: 3, reserved: 1 });
    const [hold] = await activeHolds(v.id);
    expect(hold).toMatchObject({ quantity: 1, orderId: null, liveClaimId: res.body.data.id, expiresAt: new Date(clock + 10 * 60_000) });
    // The product page counts it: 2 left.
    const product = await t.db.product.findUniqueOrThrow({ where: { id: items[0]!.productId } });
    expect(load((await request(t.app).get(`/shop/p/${product.slug}`).expect(200)).text)("#stock").text().trim()).toBe("Only 2 left");
  });

  it("carries its hold into checkout at the live price — no second hold, no gap — and is paid after the show ended", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { holdMinutes: 15, items: [{ claimCode: "7", livePriceMinor: 1500, variants: [{ priceMinor: 2500, stock: 1 }] }] });
    const v = items[0]!.variants[0]!;
    const viewer = await newViewer(t.app, session.code);
    const claim = (await viewer.claim(items[0]!.id, v.id).expect(201)).body.data;
    await api.end(session.id).expect(200);
    clock += 10 * 60_000;
    const started = await viewer.checkout({ email: "maya@example.com" }).expect(303);
    expect(started.headers.location).toMatch(/\/shop\/pay\/loc_/);
    // The order took the claim's hold over: still one active hold, reserved still 1.
    const holds = await activeHolds(v.id);
    expect(holds).toHaveLength(1);
    expect(holds[0]).toMatchObject({ liveClaimId: claim.id, orderId: expect.any(String) });
    expect(await variant(v.id)).toEqual({ stock: 1, reserved: 1 });
    // Nobody else can have the unit meanwhile.
    const other = await newViewer(t.app, session.code);
    expect((await other.agent.post(`/shop/cart/items`).set("X-CSRF-Token", other.csrf).send({ variantId: v.id, quantity: 1 })).status).toBe(409);

    const order = await payAt(viewer.agent, started.headers.location!, viewer.csrf);
    expect(order).toMatchObject({ status: "paid", subtotalMinor: 1500, liveSessionId: session.id, email: "ana@example.com" });
    expect(order.lines).toMatchObject([{ variantId: v.id, unitPriceMinor: 1500, quantity: 1, totalMinor: 1500 }]);
    expect(await variant(v.id)).toEqual({ stock: 0, reserved: 0 });
    expect(await t.db.stockHold.findFirstOrThrow({ where: { liveClaimId: claim.id } })).toMatchObject({ status: "consumed", orderId: order.id });
    const you = (await viewer.you().expect(200)).body.data;
    expect(you.claims).toMatchObject([{ id: claim.id, state: "paid" }]);
  });

  it("backing out of the payment page keeps the unit held for the claimant while the claim's time runs", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { holdMinutes: 15, items: [{ claimCode: "8", livePriceMinor: 1000, variants: [{ priceMinor: 2000, stock: 1 }] }] });
    const v = items[0]!.variants[0]!;
    const viewer = await newViewer(t.app, session.code);
    const claim = (await viewer.claim(items[0]!.id, v.id).expect(201)).body.data;
    const started = await viewer.checkout().expect(303);
    const url = new URL(started.headers.location!);
    const back = await viewer.agent.post(url.pathname + url.search).type("form").send({ _csrf: viewer.csrf, action: "cancel" }).expect(303);
    const cancelled = await viewer.agent.get(new URL(back.headers.location!, "http://x").pathname + new URL(back.headers.location!, "http://x").search).expect(303);
    expect(cancelled.headers.location).toBe(`/shop/live/${session.code}?cancelled=1`);
    expect(await activeHolds(v.id)).toMatchObject([{ liveClaimId: claim.id, orderId: null, expiresAt: new Date(claim.expiresAt) }]);
    expect(await variant(v.id)).toEqual({ stock: 1, reserved: 1 });
    const page = load((await viewer.agent.get(`/shop/live/${session.code}?cancelled=1`).expect(200)).text);
    expect(page(".alert--note").text()).toContain("Payment cancelled");
    expect(page("[data-claim-id] [data-countdown]").length).toBe(1);

    // Paying twice replaces the first checkout and takes the same hold again.
    const first = await viewer.checkout().expect(303);
    const second = await viewer.checkout().expect(303);
    expect(second.headers.location).not.toBe(first.headers.location);
    expect(await activeHolds(v.id)).toHaveLength(1);
    expect(await variant(v.id)).toEqual({ stock: 1, reserved: 1 });
    const order = await payAt(viewer.agent, second.headers.location!, viewer.csrf);
    expect(order.status).toBe("paid");
    expect(await variant(v.id)).toEqual({ stock: 0, reserved: 0 });
  });

  it("sold out: 409 and a place on the waitlist; when a hold expires the next in line is offered the unit, on the page and by email", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { holdMinutes: 5, items: [{ claimCode: "9", title: "Last vase", livePriceMinor: 4000, variants: [{ priceMinor: 5000, stock: 1 }] }] });
    const v = items[0]!.variants[0]!;
    const [first, second, third] = [await newViewer(t.app, session.code), await newViewer(t.app, session.code), await newViewer(t.app, session.code)];
    await first.claim(items[0]!.id, v.id).expect(201);
    const out = await second.claim(items[0]!.id, v.id, 1, { email: "second@example.com" }).expect(409);
    expect(out.body.error).toMatchObject({ code: "sold_out", details: { waitlist: { position: 1, variantId: v.id } } });
    expect(out.body.error.message).toMatch(/waitlist/);
    expect((await third.claim(items[0]!.id, v.id).expect(409)).body.error.details.waitlist.position).toBe(2);
    // Joining again keeps the place.
    expect((await second.claim(items[0]!.id, v.id).expect(409)).body.error.details.waitlist.position).toBe(1);
    const secondPage = load((await second.agent.get(`/shop/live/${session.code}`).expect(200)).text);
    expect(secondPage("[data-waiting]").text()).toContain("You are number 1 on the waitlist");

    // The first viewer's hold runs out; the job (or the next claim) offers the unit to the second viewer.
    clock += 5 * 60_000 + 1000;
    const settle = liveJobs().find((j) => j.name === "live.settle-claims")!;
    expect(await settle.run(t.deps, { signal: new AbortController().signal, progress: async () => undefined })).toMatchObject({ offers: 1 });
    expect(await activeHolds(v.id)).toMatchObject([{ quantity: 1, orderId: null }]);
    const you = (await second.you().expect(200)).body.data;
    expect(you.claims).toMatchObject([{ state: "held", unitPriceMinor: 4000, source: "waitlist" }]);
    expect(you.waitlist).toEqual([]);
    expect((await first.you().expect(200)).body.data.claims).toMatchObject([{ state: "expired" }]);
    expect((await third.you().expect(200)).body.data.waitlist).toMatchObject([{ position: 1 }]);
    const mail = await t.db.outboxEmail.findFirstOrThrow({ where: { to: "second@example.com" } });
    expect(mail).toMatchObject({ template: "live.waitlist", subject: "One is held for you: Last vase" });
    expect(mail.text).toContain(`https://shop.example/shop/live/${session.code}/pay/`);
    // The link in the email opens the claimant's own checkout page.
    const link = /https:\/\/shop\.example(\/shop\/live\/\S+)/.exec(mail.text)![1]!;
    const pay = load((await request(t.app).get(link).expect(200)).text);
    expect(pay(".order-lines").text()).toContain("Last vase");
    expect(pay(".order-lines").text()).toContain("$40.00");
    // A second run changes nothing.
    expect(await settle.run(t.deps, { signal: new AbortController().signal, progress: async () => undefined })).toMatchObject({ offers: 0 });
    expect(await t.db.outboxEmail.count({ where: { template: "live.waitlist" } })).toBe(1);
  });

  it("a viewer can let a held claim go; the unit goes to the waitlist at once", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "3", variants: [{ stock: 1 }] }] });
    const v = items[0]!.variants[0]!;
    const a = await newViewer(t.app, session.code);
    const b = await newViewer(t.app, session.code);
    const claim = (await a.claim(items[0]!.id, v.id).expect(201)).body.data;
    await b.claim(items[0]!.id, v.id).expect(409);
    await a.agent.post(`/shop/live/${session.code}/claims/${claim.id}/release`).set("X-CSRF-Token", a.csrf).set("Accept", "application/json").expect(200);
    expect((await b.you()).body.data.claims).toMatchObject([{ state: "held" }]);
    // Not someone else's claim.
    await b.agent.post(`/shop/live/${session.code}/claims/${claim.id}/release`).set("X-CSRF-Token", b.csrf).set("Accept", "application/json").expect(404);
  });

  it("per-buyer limits and the show's cap", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "4", perBuyerLimit: 2, quantityCap: 3, variants: [{ stock: 10 }] }] });
    const v = items[0]!.variants[0]!;
    const a = await newViewer(t.app, session.code);
    const b = await newViewer(t.app, session.code);
    await a.claim(items[0]!.id, v.id, 2).expect(201);
    const limited = await a.claim(items[0]!.id, v.id).expect(409);
    expect(limited.body.error).toMatchObject({ code: "buyer_limit", details: { limit: 2, held: 2 } });
    await b.claim(items[0]!.id, v.id, 3).expect(409);
    await b.claim(items[0]!.id, v.id, 1).expect(201);
    // Cap reached (3 of 3): sold out for the show, though stock remains.
    expect((await b.claim(items[0]!.id, v.id).expect(409)).body.error.code).toBe("sold_out");
    expect(await variant(v.id)).toEqual({ stock: 10, reserved: 3 });
  });

  it("refuses claims that cannot be: not live, not in the lineup, wrong option, bad quantity, no CSRF token — and writes nothing", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { start: false, items: [{ claimCode: "5", variants: [{ stock: 5 }] }] });
    const other = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "5", variants: [{ stock: 5 }] }] });
    const v = items[0]!.variants[0]!;
    const viewer = await newViewer(t.app, session.code);
    expect((await viewer.claim(items[0]!.id, v.id).expect(409)).body.error.code).toBe("not_live");
    await api.start(session.id).expect(200);
    expect((await viewer.claim(other.items[0]!.id, other.items[0]!.variants[0]!.id).expect(404)).body.error.details[0].field).toBe("itemId");
    expect((await viewer.claim(items[0]!.id, other.items[0]!.variants[0]!.id).expect(400)).body.error.details[0].field).toBe("variantId");
    expect((await viewer.claim(items[0]!.id, v.id, 0).expect(400)).body.error.details[0].field).toBe("quantity");
    expect((await viewer.claim(items[0]!.id, v.id, 21).expect(400)).body.error.details[0].field).toBe("quantity");
    await viewer.agent.post(`/shop/live/${session.code}/claims`).set("Accept", "application/json").send({ itemId: items[0]!.id, variantId: v.id }).expect(403);
    await api.end(session.id).expect(200);
    expect((await viewer.claim(items[0]!.id, v.id).expect(409)).body.error.code).toBe("not_live");
    expect(await t.db.liveClaim.count({ where: { liveSessionId: session.id } })).toBe(0);
    expect(await variant(v.id)).toEqual({ stock: 5, reserved: 0 });
  });

  it("a checkout link with a forged signature is a 404; nothing held means 409", async () => {
    const { session } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "6" }] });
    await request(t.app).get(`/shop/live/${session.code}/pay/${Buffer.from("instagram:maya").toString("base64url")}.${"A".repeat(32)}`).expect(404);
    const viewer = await newViewer(t.app, session.code);
    expect((await viewer.agent.post(`/shop/live/${session.code}/checkout`).set("Accept", "application/json").set("X-CSRF-Token", viewer.csrf).send({}).expect(409)).body.error.code).toBe("nothing_held");
  });
});
