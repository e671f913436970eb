import { pino } from "pino";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureEventWriter, flushEvents, recordEvent } from "../src/analytics/events.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { makeCoupon } from "./helpers/followers.js";
import { BROWSER_UA, createLink, createPost } from "./helpers/post-factories.js";
import { newShopper } from "./helpers/shopper.js";

/** A clock the tests move by hand, so "within a minute" is exact. */
let clock = new Date("2026-11-20T10:00:00Z");
let t: TestApp;
const logged: { level: number; msg: string; [k: string]: unknown }[] = [];

beforeAll(async () => {
  const logger = pino({ level: "warn" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  t = await buildTestApp({ now: () => clock, logger });
});
afterAll(() => t.close());

const browser = (path: string, headers: Record<string, string> = {}) => request(t.app).get(path).set({ "User-Agent": BROWSER_UA, ...headers });
const events = async (where: Record<string, unknown>) => {
  await flushEvents(t.deps);
  return t.db.analyticsEvent.findMany({ where, orderBy: [{ at: "asc" }, { id: "asc" }] });
};

describe("the event writer", () => {
  it("records a product view off the request path, credited to the link the shopper came through", async () => {
    const p = await createProduct(t.deps, { slug: "ev-mug" });
    const post = await createPost(t.deps, { platform: "tiktok" });
    const link = await createLink(t.deps, { code: "ev-mug-link", targetType: "product", productId: p.id, postId: post.id, channel: "tiktok-bio" });
    configureEventWriter(t.deps, { flushMs: 60_000 });
    const agent = request.agent(t.app);
    await agent.get("/shop/l/ev-mug-link").set("User-Agent", BROWSER_UA).set("Referer", "https://www.tiktok.com/@shop/video/1?secret=1").expect(302);
    await agent.get("/shop/p/ev-mug?utm_source=tiktok").set("User-Agent", BROWSER_UA).expect(200);
    // Answered before anything was written: the write waits in the buffer.
    expect(await t.db.analyticsEvent.count({ where: { productId: p.id, type: "product_view" } })).toBe(0);
    const [view] = await events({ productId: p.id, type: "product_view" });
    configureEventWriter(t.deps, { flushMs: 2_000 });
    expect(view).toMatchObject({ linkId: link.id, postId: post.id, channel: "tiktok-bio", source: "tiktok" });
    const click = await t.db.linkClick.findFirstOrThrow({ where: { linkId: link.id } });
    expect(view!.visitorId).toBe(click.visitorId);
    expect(view!.visitorKey).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const [clickEvent] = await events({ linkId: link.id, type: "link_click" });
    // Only the referring host: never its path or query.
    expect(JSON.parse(clickEvent!.meta)).toMatchObject({ code: "ev-mug-link", referrer: "www.tiktok.com" });
    expect(clickEvent!.meta).not.toContain("secret");
    expect(clickEvent!.visitorKey).toBe(view!.visitorKey);
  });

  it("leaves out link previews, crawlers, HEAD requests, prefetches and requests without a browser", async () => {
    const p = await createProduct(t.deps, { slug: "ev-bots" });
    await browser("/shop/p/ev-bots", { "User-Agent": "facebookexternalhit/1.1" }).expect(200);
    await browser("/shop/p/ev-bots", { "User-Agent": "WhatsApp/2.23.20.0 A" }).expect(200);
    await browser("/shop/p/ev-bots", { "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)" }).expect(200);
    await browser("/shop/p/ev-bots", { "Sec-Purpose": "prefetch" }).expect(200);
    await request(t.app).head("/shop/p/ev-bots").set("User-Agent", BROWSER_UA).expect(200);
    await request(t.app).get("/shop/p/ev-bots").expect(200);
    expect(await events({ productId: p.id })).toHaveLength(0);
    await browser("/shop/p/ev-bots").expect(200);
    expect(await events({ productId: p.id })).toHaveLength(1);
  });

  it("honours Sec-GPC: the view is counted with no visitor id and no visitor key", async () => {
    const p = await createProduct(t.deps, { slug: "ev-gpc" });
    await createLink(t.deps, { code: "ev-gpc-link", targetType: "product", productId: p.id, channel: "instagram-story" });
    const agent = request.agent(t.app);
    await agent.get("/shop/l/ev-gpc-link").set({ "User-Agent": BROWSER_UA, "Sec-GPC": "1" }).expect(302);
    await agent.get("/shop/p/ev-gpc").set({ "User-Agent": BROWSER_UA, "Sec-GPC": "1" }).expect(200);
    const rows = await events({ productId: p.id });
    expect(rows.map((r) => r.type).sort()).toEqual(["link_click", "product_view"]);
    for (const row of rows) expect(row).toMatchObject({ visitorId: null, visitorKey: null, channel: "instagram-story" });
  });

  it("counts a refresh loop within a minute as one view, and a view a minute later again", async () => {
    const p = await createProduct(t.deps, { slug: "ev-reload" });
    const agent = request.agent(t.app);
    for (let i = 0; i < 12; i++) {
      await agent.get("/shop/p/ev-reload").set("User-Agent", BROWSER_UA).expect(200);
      clock = new Date(clock.getTime() + 4_000);
    }
    expect(await events({ productId: p.id, type: "product_view" })).toHaveLength(1);
    // Another browser (another address + User-Agent) is another visitor.
    await browser("/shop/p/ev-reload", { "User-Agent": `${BROWSER_UA} other` }).expect(200);
    expect(await events({ productId: p.id, type: "product_view" })).toHaveLength(2);
    clock = new Date(clock.getTime() + 60_000);
    await agent.get("/shop/p/ev-reload").set("User-Agent", BROWSER_UA).expect(200);
    expect(await events({ productId: p.id, type: "product_view" })).toHaveLength(3);
  });

  it("add to cart names the product; an applied coupon is stored by id, never by its code", async () => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 3000, stock: 5 }] });
    const coupon = await makeCoupon(t.deps, { code: "EVENTS10", kind: "percent", percentOff: 10 });
    const shopper = await newShopper(t.app);
    shopper.agent.set("User-Agent", BROWSER_UA);
    await shopper.add(p.variants[0]!.id, 2).expect(303);
    await shopper.agent.post("/shop/cart/coupon").type("form").send({ _csrf: shopper.csrf, code: "events10" }).expect(303);
    const [cart] = await events({ type: "add_to_cart", productId: p.id });
    expect(JSON.parse(cart!.meta)).toEqual({ quantity: 2 });
    const [applied] = await events({ type: "coupon_applied", couponId: coupon.id });
    expect(applied!.valueMinor).toBe(600);
    expect(applied!.meta).not.toMatch(/EVENTS10/i);
  });

  it("a database that refuses the write never fails the page: the error is logged and the page answers", async () => {
    const p = await createProduct(t.deps, { slug: "ev-broken" });
    await t.db.$executeRawUnsafe(`ALTER TABLE "AnalyticsEvent" RENAME TO "AnalyticsEventAway"`);
    try {
      const before = logged.length;
      await browser("/shop/p/ev-broken").expect(200);
      await flushEvents(t.deps);
      expect(logged.slice(before).some((l) => l.msg === "analytics events could not be written")).toBe(true);
    } finally {
      await t.db.$executeRawUnsafe(`ALTER TABLE "AnalyticsEventAway" RENAME TO "AnalyticsEvent"`);
    }
    // Retried on the next flush once the table is back.
    expect(await events({ productId: p.id, type: "product_view" })).toHaveLength(1);
  });

  it("the buffer is bounded: past its size events are dropped and the drop is logged", async () => {
    configureEventWriter(t.deps, { maxBuffered: 5, flushMs: 60_000 });
    const before = logged.length;
    for (let i = 0; i < 9; i++) recordEvent(t.deps, { type: "order_paid", orderId: `bounded-${i}`, valueMinor: 100 });
    await flushEvents(t.deps);
    configureEventWriter(t.deps, { maxBuffered: 10_000, flushMs: 2_000 });
    expect(await t.db.analyticsEvent.count({ where: { orderId: { startsWith: "bounded-" } } })).toBe(5);
    expect(logged.slice(before).find((l) => l.msg === "analytics buffer full: events dropped")).toMatchObject({ dropped: 4 });
  });
});
