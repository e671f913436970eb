import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveJobs } from "../src/live/live.jobs.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { followAndConfirm, makeCoupon } from "./helpers/followers.js";
import { csrfFrom, load } from "./helpers/html.js";
import { liveApi, liveShow, newViewer, type LiveApi } from "./helpers/live.js";
import { TEST_ADDRESS } from "./helpers/orders.js";

/**
 * Issue 11, point 5: live prices while live (and for claims made during the
 * show), session-bound coupons only in the show's window, flash deals (10–300
 * s, unit cap, per-buyer limit, the price goes back by the clock), and
 * follower-only deals on the coupon engine's follower rules.
 */
let t: TestApp;
let api: LiveApi;
let clock = new Date("2026-12-05T18:00:00Z").getTime();
beforeAll(async () => {
  t = await buildTestApp({ now: () => new Date(clock) });
  api = await liveApi(t.app, t.deps);
});
afterAll(() => t.close());

const noopCtx = { signal: new AbortController().signal, progress: async () => undefined };

describe("live prices", () => {
  it("apply only while the show is live", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { start: false, items: [{ claimCode: "1", livePriceMinor: 1500, variants: [{ priceMinor: 2000 }] }] });
    const price = async () => (await api.get(`/${session.id}`).expect(200)).body.data.items[0].liveMinor;
    expect(await price()).toBe(2000);
    await api.start(session.id).expect(200);
    expect(await price()).toBe(1500);
    const viewer = await newViewer(t.app, session.code);
    expect((await viewer.claim(items[0]!.id, items[0]!.variants[0]!.id).expect(201)).body.data).toMatchObject({ unitPriceMinor: 1500, priceKind: "live" });
    await api.end(session.id).expect(200);
    expect(await price()).toBe(2000);
    // The claim made during the show keeps its price after the end.
    expect((await viewer.you()).body.data.claims).toMatchObject([{ unitPriceMinor: 1500, state: "held" }]);
  });
});

describe("flash deals", () => {
  it("run 10 to 300 seconds on a lineup item, below the regular price, one at a time, only while live", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { start: false, items: [{ claimCode: "1", variants: [{ priceMinor: 2000 }] }, { claimCode: "2" }] });
    const deal = { itemId: items[0]!.id, priceMinor: 1200, seconds: 60, unitCap: 5, perBuyerLimit: 1 };
    expect((await api.post(`/${session.id}/flash`, deal).expect(409)).body.error.code).toBe("not_live");
    await api.start(session.id).expect(200);
    for (const [patch, field] of [
      [{ seconds: 9 }, "seconds"],
      [{ seconds: 301 }, "seconds"],
      [{ priceMinor: 2000 }, "priceMinor"],
      [{ unitCap: 0 }, "unitCap"],
      [{ itemId: "c000000000000000000000000" }, "itemId"],
    ] as const) {
      expect((await api.post(`/${session.id}/flash`, { ...deal, ...patch }).expect(400)).body.error.details[0].field).toBe(field);
    }
    await api.post(`/${session.id}/flash`, deal).expect(201);
    expect((await api.post(`/${session.id}/flash`, { ...deal, itemId: items[1]!.id, priceMinor: 1000 }).expect(409)).body.error.message).toMatch(/already running/);
    await api.post(`/${session.id}/flash/stop`).expect(200);
    await api.post(`/${session.id}/flash/stop`).expect(409);
    await api.post(`/${session.id}/flash`, { ...deal, itemId: items[1]!.id, priceMinor: 1000 }).expect(201);
  });

  it("give the flash price to the first unitCap units, at most perBuyerLimit each, under parallel claims; the price goes back when the countdown ends", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "9", livePriceMinor: 1800, variants: [{ priceMinor: 2400, stock: 50 }] }] });
    const v = items[0]!.variants[0]!;
    const dealRes = await api.post(`/${session.id}/flash`, { itemId: items[0]!.id, priceMinor: 990, seconds: 30, unitCap: 4, perBuyerLimit: 1 }).expect(201);
    expect(dealRes.body.data).toMatchObject({ endsAt: new Date(clock + 30_000).toISOString() });

    // One viewer, two claims: the second is at the live price (per-buyer limit of the deal).
    const one = await newViewer(t.app, session.code);
    expect((await one.claim(items[0]!.id, v.id).expect(201)).body.data).toMatchObject({ unitPriceMinor: 990, priceKind: "flash" });
    expect((await one.claim(items[0]!.id, v.id).expect(201)).body.data).toMatchObject({ unitPriceMinor: 1800, priceKind: "live" });
    // Twelve viewers at once for the remaining 3 flash units.
    const crowd = [];
    for (let i = 0; i < 12; i++) crowd.push(await newViewer(t.app, session.code));
    const results = await Promise.all(crowd.map((c) => c.claim(items[0]!.id, v.id)));
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(results.filter((r) => r.body.data.priceKind === "flash")).toHaveLength(3);
    expect(await t.db.liveClaim.count({ where: { flashDealId: dealRes.body.data.id } })).toBe(4);
    // The page shows the deal with what is left at that price.
    const page = load((await one.agent.get(`/shop/live/${session.code}`).expect(200)).text);
    expect(page("article[data-item]:not([hidden]) [data-flash]").attr("hidden")).toBeUndefined();
    expect(page("article[data-item]:not([hidden]) [data-flash-left]").text()).toBe("0 at this price");

    // The countdown ends: the price goes back, whether or not anything ran.
    clock += 31_000;
    const later = await newViewer(t.app, session.code);
    expect((await later.claim(items[0]!.id, v.id).expect(201)).body.data).toMatchObject({ unitPriceMinor: 1800, priceKind: "live" });
    expect(load(later.page.text)("article[data-item]:not([hidden]) [data-flash]").attr("hidden")).toBeDefined();
    // The job tells open pages once.
    const ends = liveJobs().find((j) => j.name === "live.flash-ends")!;
    expect(await ends.run(t.deps, noopCtx)).toBe(1);
    expect(await ends.run(t.deps, noopCtx)).toBe(0);
    expect(await t.db.liveEvent.count({ where: { liveSessionId: session.id, type: "flash_end" } })).toBe(1);
  });

  it("follower-only deals use the coupon engine's follower rules", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "F", livePriceMinor: 1800, variants: [{ priceMinor: 2400, stock: 20 }] }] });
    const v = items[0]!.variants[0]!;
    await api.post(`/${session.id}/flash`, { itemId: items[0]!.id, priceMinor: 1000, seconds: 120, unitCap: 10, perBuyerLimit: 1, followersOnly: true }).expect(201);
    const stranger = await newViewer(t.app, session.code);
    expect((await stranger.claim(items[0]!.id, v.id).expect(201)).body.data.priceKind).toBe("live");
    const { shopper } = await followAndConfirm(t.app, t.deps, { handle: "true_fan" });
    const page = await shopper.agent.get(`/shop/live/${session.code}`).expect(200);
    const res = await shopper.agent.post(`/shop/live/${session.code}/claims`).set("X-CSRF-Token", csrfFrom(page.text)).set("Accept", "application/json").send({ itemId: items[0]!.id, variantId: v.id }).expect(201);
    expect(res.body.data).toMatchObject({ unitPriceMinor: 1000, priceKind: "flash" });
  });
});

describe("coupons bound to a show", () => {
  it("work only inside the show's window", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { start: false, items: [{ claimCode: "C", livePriceMinor: 2000, variants: [{ priceMinor: 2500, stock: 5 }] }] });
    const code = `LIVE${Date.now() % 100000}`;
    await makeCoupon(t.deps, { code, liveSessionId: session.id, percentOff: 10 });
    await api.start(session.id).expect(200);
    const viewer = await newViewer(t.app, session.code);
    await viewer.claim(items[0]!.id, items[0]!.variants[0]!.id).expect(201);
    const started = await viewer.checkout({ coupon: code.toLowerCase() }).expect(303);
    const url = new URL(started.headers.location!);
    const order = await t.db.order.findUniqueOrThrow({ where: { paymentRef: url.pathname.split("/").pop()! } });
    expect(order).toMatchObject({ subtotalMinor: 2000, discountMinor: 200, totalMinor: 1800, liveSessionId: session.id });
    await viewer.agent.post(url.pathname + url.search).type("form").send({ _csrf: viewer.csrf, action: "pay", shipping: "standard", ...TEST_ADDRESS }).expect(303);

    // After the end, the code is refused; the claim itself still pays at its live price.
    await viewer.claim(items[0]!.id, items[0]!.variants[0]!.id).expect(201);
    await api.end(session.id).expect(200);
    const refused = await viewer.checkout({ coupon: code }).expect(422);
    expect(load(refused.text)(".alert--error").text()).toContain("only works during the live show");
    expect((await viewer.you()).body.data.claims.filter((c: { state: string }) => c.state === "held")).toHaveLength(1);
    const paidWithout = await viewer.checkout().expect(303);
    const second = await t.db.order.findUniqueOrThrow({ where: { paymentRef: new URL(paidWithout.headers.location!).pathname.split("/").pop()! } });
    expect(second).toMatchObject({ subtotalMinor: 2000, discountMinor: 0 });
  });
});
