import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyticsJobs } from "../src/analytics/analytics.jobs.js";
import { flushEvents, recordEvent } from "../src/analytics/events.js";
import { rollupDay } from "../src/analytics/rollup.service.js";
import { formatMoney } from "../src/i18n/format.js";
import type { JobContext } from "../src/jobs/job.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct, createToken } from "./helpers/factories.js";
import { makeCoupon, confirmationLinkFor } from "./helpers/followers.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";
import { TEST_ADDRESS } from "./helpers/orders.js";
import { createLink, createPost } from "./helpers/post-factories.js";

/**
 * Real shoppers over three days: clicks on tracked links from posts and a
 * live session, views, carts, checkouts paid on the local payment page,
 * coupon codes (one for followers), a refund, a Stripe-less abandoned
 * checkout, follows and imports. The test keeps its own tally of every
 * figure as it acts, then compares the dashboard and the API with it,
 * before and after the roll-up job.
 */
const DAY = 86_400_000;
const TODAY = Date.parse("2026-11-20T00:00:00Z");
const at = (dayOffset: number, hour: number, minute = 0) => TODAY + dayOffset * DAY + hour * 3_600_000 + minute * 60_000;
let clock = at(-2, 9);

let t: TestApp;
let admin: TestAgent;
let auth: { Authorization: string };
const money = (minor: number) => formatMoney(minor, "USD", "en");

// ───────────── the independent tally ─────────────
type Tally = { orders: number; revenueMinor: number; clicks: number; productViews: number; carts: number; checkouts: number; units: number; discountMinor: number; refunds: number; refundedMinor: number; couponApplications: number; visits: number };
const zero = (): Tally => ({ orders: 0, revenueMinor: 0, clicks: 0, productViews: 0, carts: 0, checkouts: 0, units: 0, discountMinor: 0, refunds: 0, refundedMinor: 0, couponApplications: 0, visits: 0 });
/** tally[day][dimension][key] */
const tally = new Map<number, Map<string, Map<string, Tally>>>();
const dayOfClock = () => Math.floor(clock / DAY);
function count(keys: [string, string][], add: Partial<Tally>, day = dayOfClock()) {
  let d = tally.get(day);
  if (!d) tally.set(day, (d = new Map()));
  for (const [dim, key] of keys) {
    let m = d.get(dim);
    if (!m) d.set(dim, (m = new Map()));
    const row = m.get(key) ?? zero();
    for (const [k, v] of Object.entries(add)) row[k as keyof Tally] += v as number;
    m.set(key, row);
  }
}
function expected(fromOffset: number, toOffset: number, dim: string, key: string): Tally {
  const out = zero();
  for (let d = Math.floor(TODAY / DAY) + fromOffset; d <= Math.floor(TODAY / DAY) + toOffset; d++) {
    const row = tally.get(d)?.get(dim)?.get(key);
    if (row) for (const k of Object.keys(out) as (keyof Tally)[]) out[k] += row[k];
  }
  return out;
}
function keysIn(fromOffset: number, toOffset: number, dim: string): string[] {
  const keys = new Set<string>();
  for (let d = Math.floor(TODAY / DAY) + fromOffset; d <= Math.floor(TODAY / DAY) + toOffset; d++) for (const k of tally.get(d)?.get(dim)?.keys() ?? []) keys.add(k);
  return [...keys];
}

// ───────────── the shop ─────────────
const SHIPPING = 500;
let mug: Awaited<ReturnType<typeof createProduct>>;
let bowl: Awaited<ReturnType<typeof createProduct>>;
let vase: Awaited<ReturnType<typeof createProduct>>;
const links: Record<string, { id: string; code: string; attribution: [string, string][] }> = {};
let liveId = "";
let postIds: Record<string, string> = {};
let couponIds: Record<string, string> = {};
const orderIds: Record<string, string> = {};

beforeAll(async () => {
  t = await buildTestApp({ now: () => new Date(clock), shopName: "Tea & Clay", ...(process.env.DEBUG_LOG ? { logger: (await import("pino")).pino({ level: "error" }) } : {}) });
  const who = await createAdmin(t.deps);
  admin = request.agent(t.app);
  await signIn(admin, who.email, who.password);
  auth = { Authorization: `Bearer ${(await createToken(t.deps)).token}` };
  mug = await createProduct(t.deps, { title: "Turquoise Mug", slug: "mug", variants: [{ priceMinor: 2500, stock: 50 }] });
  bowl = await createProduct(t.deps, { title: "Walnut Bowl", slug: "bowl", titleFa: "کاسهٔ گردویی", variants: [{ priceMinor: 4000, stock: 50 }] });
  vase = await createProduct(t.deps, { title: "Saffron Vase", slug: "vase", variants: [{ priceMinor: 6000, stock: 50 }] });
  const p1 = await createPost(t.deps, { platform: "instagram", caption: "Glazing day: turquoise or cobalt?" });
  const p2 = await createPost(t.deps, { platform: "tiktok", caption: "Turning a walnut bowl" });
  postIds = { p1: p1.id, p2: p2.id };
  const live = await t.db.liveSession.create({ data: { title: "Friday pottery live", code: "friday-live", hostName: "Sara", platform: "instagram", startsAt: new Date(clock) } });
  liveId = live.id;
  const l1 = await createLink(t.deps, { code: "mug-story", targetType: "product", productId: mug.id, postId: p1.id, channel: "instagram-story" });
  const l2 = await createLink(t.deps, { code: "bowl-tiktok", targetType: "post", postId: p2.id, channel: "tiktok-bio" });
  const l3 = await createLink(t.deps, { code: "live-bowl", targetType: "product", productId: bowl.id, liveSessionId: live.id, channel: "instagram-live", hostName: "Sara", utmSource: "instagram" });
  links.l1 = { id: l1.id, code: l1.code, attribution: [["channel", "instagram-story"], ["platform", "instagram"], ["post", p1.id], ["link", l1.id]] };
  links.l2 = { id: l2.id, code: l2.code, attribution: [["channel", "tiktok-bio"], ["platform", "tiktok"], ["post", p2.id], ["link", l2.id]] };
  links.l3 = { id: l3.id, code: l3.code, attribution: [["channel", "instagram-live"], ["platform", "instagram"], ["link", l3.id], ["live", live.id], ["host", "Sara"]] };
  couponIds.live10 = (await makeCoupon(t.deps, { code: "LIVE10", kind: "percent", percentOff: 10 })).id;
  couponIds.fans15 = (await makeCoupon(t.deps, { code: "FANS15", kind: "percent", percentOff: 15, followersOnly: true })).id;
  await runShoppingDays();
});
afterAll(() => t.close());

const DIRECT: [string, string][] = [["channel", "direct"], ["platform", "direct"]];
let uaCounter = 0;

/** A shopper's own browser: cookies, a User-Agent of its own, the CSRF token. */
async function browser() {
  const agent = request.agent(t.app);
  agent.set("User-Agent", `Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Instagram 330.0.0.${++uaCounter}`);
  const csrf = csrfFrom((await agent.get("/shop/cart").expect(200)).text);
  return { agent, csrf };
}
type Browser = Awaited<ReturnType<typeof browser>>;

/** One shopper's visit, tallied as it happens. */
async function shop(b: Browser, plan: { link?: keyof typeof links; viewPost?: string; product: typeof mug; price: number; qty: number; coupon?: { code: string; id: string; percent: number; follower?: boolean }; pay: boolean; name: string }) {
  const attribution = plan.link ? links[plan.link]!.attribution : DIRECT;
  const product: [string, string] = ["product", plan.product.id];
  // Visits are checked for the shop as a whole: one per shopper per day.
  count([["total", "all"]], { visits: 1 });
  if (plan.link) {
    await b.agent.get(`/shop/l/${links[plan.link]!.code}`).expect(302);
    const clickedProduct: [string, string][] = plan.link === "l1" ? [["product", mug.id]] : plan.link === "l3" ? [["product", bowl.id]] : [];
    count([["total", "all"], ...attribution, ...clickedProduct], { clicks: 1 });
  }
  if (plan.viewPost) await b.agent.get(`/shop/posts/${plan.viewPost}`).expect(200);
  // A reload loop on the product page: one view.
  for (let i = 0; i < 3; i++) await b.agent.get(`/shop/p/${plan.product.slug}`).expect(200);
  count([["total", "all"], ...attribution, product], { productViews: 1 });
  await b.agent.post("/shop/cart/items").type("form").send({ _csrf: b.csrf, variantId: plan.product.variants[0]!.id, quantity: plan.qty }).expect(303);
  count([["total", "all"], ...attribution, product], { carts: 1 });
  const subtotal = plan.price * plan.qty;
  let discount = 0;
  const couponKeys: [string, string][] = [];
  if (plan.coupon) {
    await b.agent.post("/shop/cart/coupon").type("form").send({ _csrf: b.csrf, code: plan.coupon.code.toLowerCase() }).expect(303);
    discount = Math.floor((subtotal * plan.coupon.percent) / 100);
    couponKeys.push(["coupon", plan.coupon.id]);
    count([["total", "all"], ...attribution, ...couponKeys], { couponApplications: 1 });
  }
  const started = await b.agent.post("/shop/checkout").type("form").send({ _csrf: b.csrf }).expect(303);
  count([["total", "all"], ...attribution, product, ...couponKeys], { checkouts: 1 });
  const url = new URL(started.headers.location!);
  const order = await t.db.order.findUniqueOrThrow({ where: { paymentRef: url.pathname.split("/").pop()! } });
  orderIds[plan.name] = order.id;
  if (!plan.pay) return;
  await b.agent.post(url.pathname + url.search).type("form").send({ _csrf: b.csrf, action: "pay", shipping: "standard", ...TEST_ADDRESS }).expect(303);
  const revenue = subtotal - discount + SHIPPING;
  count([["total", "all"], ...attribution, ...couponKeys], { orders: 1, revenueMinor: revenue, units: plan.qty, discountMinor: discount });
  count([product], { orders: 1, revenueMinor: subtotal, units: plan.qty });
  if (plan.coupon) {
    count([["coupons", "any"]], { orders: 1, revenueMinor: revenue, discountMinor: discount });
    if (plan.coupon.follower) count([["coupons", "followers"]], { orders: 1, revenueMinor: revenue, discountMinor: discount });
  }
}

async function runShoppingDays() {
  // Two days ago.
  clock = at(-2, 10);
  const ana = await browser();
  // A chat app's link preview first: redirected, never counted.
  await request(t.app).get(`/shop/l/${links.l1!.code}`).set("User-Agent", "facebookexternalhit/1.1").expect(302);
  await shop(ana, { name: "ana", link: "l1", product: mug, price: 2500, qty: 2, pay: true });
  clock = at(-2, 11);
  await shop(await browser(), { name: "ben", link: "l2", viewPost: postIds.p2, product: bowl, price: 4000, qty: 1, pay: false });
  clock = at(-2, 15);
  await shop(await browser(), { name: "cy", product: vase, price: 6000, qty: 1, pay: true });

  // Yesterday.
  clock = at(-1, 10);
  await shop(await browser(), { name: "dee", link: "l3", product: bowl, price: 4000, qty: 1, coupon: { code: "LIVE10", id: couponIds.live10!, percent: 10 }, pay: true });
  clock = at(-1, 12);
  const eve = await browser();
  await followAs(eve, { platform: "instagram", handle: "eve.pots" });
  await shop(eve, { name: "eve", product: mug, price: 2500, qty: 1, coupon: { code: "FANS15", id: couponIds.fans15!, percent: 15, follower: true }, pay: true });
  clock = at(-1, 16);
  // A partial refund of Ana's order, through the API: counted on the day it happened, on her link.
  await request(t.app).post(`/shop/api/v1/orders/${orderIds.ana}/refund`).set(auth).send({ amountMinor: 1000, reason: "chipped handle" }).expect(200);
  count([["total", "all"], ...links.l1!.attribution], { refunds: 1, refundedMinor: 1000 });

  // Today.
  clock = at(0, 9);
  await shop(await browser(), { name: "fay", link: "l1", product: mug, price: 2500, qty: 1, pay: true });
  clock = at(0, 9, 30);
  await shop(await browser(), { name: "gus", link: "l2", viewPost: postIds.p2, product: bowl, price: 4000, qty: 1, pay: true });
  // Two followers imported from a TikTok export.
  await request(t.app).post("/shop/api/v1/followers/import?dryRun=false").set(auth).set("Content-Type", "text/csv").send("handle,platform,followed_at\nclay.fan,tiktok,2025-05-05\nwheel.fan,tiktok,2026-01-02\n").expect(200);

  // Reviews and questions (their own features are tested elsewhere; here they are the raw material).
  const review = (rating: number, dayOffset: number, extra: { verifiedBuyer?: boolean; status?: string } = {}) =>
    t.db.review.create({ data: { productId: mug.id, rating, displayName: "A buyer", status: extra.status ?? "published", verifiedBuyer: extra.verifiedBuyer ?? false, createdAt: new Date(at(dayOffset, 8)) } });
  await review(5, -3, { verifiedBuyer: true });
  await review(4, -1);
  await review(2, -1);
  await review(1, -1, { status: "rejected" });
  const question = (dayOffset: number, hour: number, answeredAfterH: number | null) =>
    t.db.question.create({ data: { productId: mug.id, body: "Dishwasher safe?", askerName: "Q", createdAt: new Date(at(dayOffset, hour)), answeredAt: answeredAfterH === null ? null : new Date(at(dayOffset, hour) + answeredAfterH * 3_600_000) } });
  await question(-3, 8, 2);
  await question(-2, 8, 20);
  await question(-1, 8, null);
  await question(0, 9, null);
  clock = at(0, 10);
  await flushEvents(t.deps);
}

/** Follows through the real form and the emailed confirmation link, in this browser. */
async function followAs(b: Browser, input: { platform: string; handle: string }) {
  const page = await b.agent.get("/shop/follow").expect(200);
  await b.agent.post("/shop/follow").type("form").send({ _csrf: csrfFrom(page.text), platform: input.platform, handle: input.handle, email: `${input.handle}@example.com`, consent: "on" }).expect(200);
  await b.agent.get(await confirmationLinkFor(t.deps, `${input.handle}@example.com`)).expect(200);
}

const context = (): JobContext & { notes: string[] } => {
  const notes: string[] = [];
  return { signal: new AbortController().signal, notes, progress: async (_d, _t, note) => void (note && notes.push(note)) };
};

function apiRow(rows: { key: string }[], key: string) {
  const row = rows.find((r) => r.key === key);
  if (!row) throw new Error(`no row ${key} in ${JSON.stringify(rows.map((r) => r.key))}`);
  return row;
}

const FIELDS = ["orders", "revenueMinor", "clicks", "productViews", "carts", "checkouts"] as const;
const pick = (o: Record<string, unknown>, fields: readonly string[]) => Object.fromEntries(fields.map((f) => [f, o[f]]));

/** Every row of `by` in the API against the tally, and no row the tally lacks. */
async function checkSales(query: string, by: string, dim: string, from: number, to: number, keyOf: (k: string) => string = (k) => k) {
  const res = await request(t.app).get(`/shop/api/v1/analytics/sales?${query}&by=${by}`).set(auth).expect(200);
  const rows = res.body.data.rows as Record<string, unknown>[];
  const keys = keysIn(from, to, dim).filter((k) => Object.entries(expected(from, to, dim, k)).some(([f, v]) => f !== "visits" && v !== 0));
  expect(rows.map((r) => r.key).sort()).toEqual(keys.map(keyOf).sort());
  for (const k of keys) {
    const e = expected(from, to, dim, k);
    expect(pick(apiRow(rows as { key: string }[], keyOf(k)), FIELDS), `${by} ${k}`).toEqual(pick(e, FIELDS));
  }
  return res.body.data;
}

describe("figures from real checkouts, before and after the roll-up", () => {
  it("the API's totals for 7 days match the tally, with today live and no roll-up run yet", async () => {
    const data = await checkSales("range=7d", "channel", "channel", -6, 0);
    const e = expected(-6, 0, "total", "all");
    expect(data.totals).toMatchObject({ currency: "USD", orders: e.orders, revenueMinor: e.revenueMinor, clicks: e.clicks, productViews: e.productViews, carts: e.carts, checkouts: e.checkouts, visits: e.visits, refunds: 1, refundedMinor: 1000 });
    expect(e).toMatchObject({ orders: 6, revenueMinor: 26225, clicks: 5, checkouts: 7, visits: 7 });
    expect(data.range).toMatchObject({ from: "2026-11-14", to: "2026-11-20", days: 7, previous: { from: "2026-11-07", to: "2026-11-13" } });
  });

  it("the roll-up job folds the two closed days, reports progress, and changes no figure", async () => {
    const [rollup] = analyticsJobs();
    expect(rollup!.name).toBe("analytics.rollup");
    const ctx = context();
    const result = (await rollup!.run(t.deps, ctx)) as { rolled: { day: string }[]; rolledThrough: string };
    expect(result.rolled.map((r) => r.day)).toEqual(["2026-11-18", "2026-11-19"]);
    expect(result.rolledThrough).toBe("2026-11-19");
    expect(ctx.notes).toHaveLength(2);
    expect(await t.db.analyticsRollup.count({ where: { level: 0, startDay: { gte: Math.floor(TODAY / DAY) } } })).toBe(0);
    await checkSales("range=7d", "channel", "channel", -6, 0);
  });

  for (const [by, dim] of [["platform", "platform"], ["post", "post"], ["live", "live"], ["host", "host"], ["product", "product"], ["coupon", "coupon"]] as const) {
    it(`sales by ${by}: every row and its funnel match the tally, for 7 days and for yesterday alone`, async () => {
      await checkSales("range=7d", by, dim, -6, 0);
      await checkSales("from=2026-11-19&to=2026-11-19", by, dim, -1, -1);
    });
  }

  it("sales by link: the key is the link's code", async () => {
    const codeOf = (id: string) => Object.values(links).find((l) => l.id === id)!.code;
    const data = await checkSales("range=7d", "link", "link", -6, 0, codeOf);
    expect(apiRow(data.rows, "mug-story")).toMatchObject({ label: "/l/mug-story", linkId: links.l1!.id, refundedMinor: 1000 });
  });

  it("today is current right after a sale, whatever the roll-up has done", async () => {
    const before = (await request(t.app).get("/shop/api/v1/analytics/sales?range=today&by=product").set(auth).expect(200)).body.data;
    clock = at(0, 11);
    await shop(await browser(), { name: "hal", product: vase, price: 6000, qty: 2, pay: true });
    await flushEvents(t.deps);
    const after = (await request(t.app).get("/shop/api/v1/analytics/sales?range=today&by=product").set(auth).expect(200)).body.data;
    expect(after.totals.orders).toBe(before.totals.orders + 1);
    expect(after.totals.revenueMinor).toBe(before.totals.revenueMinor + 12500);
    expect(apiRow(after.rows, vase.id)).toMatchObject({ orders: 1, revenueMinor: 12000, units: 2 });
    await checkSales("range=today", "product", "product", 0, 0);
  });

  it("re-running a day gives the same rows; events written late mark the day and the next run folds it again", async () => {
    const day = Math.floor(TODAY / DAY) - 1;
    const snapshot = async () => t.db.analyticsRollup.findMany({ orderBy: [{ level: "asc" }, { startDay: "asc" }, { dimension: "asc" }, { key: "asc" }] });
    const first = await snapshot();
    await rollupDay(t.deps, day);
    await rollupDay(t.deps, day);
    expect(await snapshot()).toEqual(first);
    // A late event for yesterday (a buffer flushed after midnight): the day is marked and folded again.
    const saved = clock;
    clock = at(-1, 23, 59);
    recordEvent(t.deps, { type: "product_view", productId: vase.id });
    clock = saved;
    await flushEvents(t.deps);
    expect((await t.db.analyticsDay.findUniqueOrThrow({ where: { day } })).dirty).toBe(true);
    const ctx = context();
    const run = (await analyticsJobs()[0]!.run(t.deps, ctx)) as { rolled: { day: string }[] };
    expect(run.rolled.map((r) => r.day)).toEqual(["2026-11-19"]);
    count([["total", "all"], ["channel", "direct"], ["platform", "direct"], ["product", vase.id]], { productViews: 1 }, day);
    await checkSales("range=7d", "product", "product", -6, 0);
  });
});

describe("the dashboard page shows the same figures", () => {
  const text = ($: ReturnType<typeof load>, sel: string) => $(sel).first().text().trim();

  it("key figures, revenue chart and its table, channels, platforms and every top table", async () => {
    const res = await admin.get("/shop/admin?range=7d&lang=en").expect(200);
    const $ = load(res.text);
    expect($("h1").text()).toBe("Dashboard");
    const e = expected(-6, 0, "total", "all");
    expect(text($, '[data-kpi="revenue"] [data-value]')).toBe(money(e.revenueMinor));
    expect(text($, '[data-kpi="orders"] [data-value]')).toBe(String(e.orders));
    expect(text($, '[data-kpi="aov"] [data-value]')).toBe(money(Math.round(e.revenueMinor / e.orders)));
    expect(text($, '[data-kpi="conversion"] [data-value]')).toBe(new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 1 }).format(e.orders / e.visits));
    expect(text($, '[data-kpi="refunds"] [data-value]')).toBe(money(1000));
    // The previous week had nothing: every change says so.
    expect(text($, '[data-kpi="revenue"] .kpi__change')).toContain("new");

    // The chart: one bar per day, its table with each day's revenue.
    expect($("#revenue-chart rect.chart__bar")).toHaveLength(7);
    expect($("#revenue-chart svg").attr("role")).toBe("img");
    expect($("#revenue-chart-summary").text()).toContain(money(e.revenueMinor));
    const dayRows = $("#revenue-table tbody tr");
    expect(dayRows).toHaveLength(7);
    for (const [i, offset] of [-6, -5, -4, -3, -2, -1, 0].entries()) {
      expect($(dayRows[i]).find("td").first().text()).toBe(money(expected(offset, offset, "total", "all").revenueMinor));
    }

    const row = (table: string, key: string, col: string) => $(`#${table} tr[data-key="${key}"] [data-col="${col}"]`).text().trim();
    for (const [table, dim] of [["by-channel-table", "channel"], ["by-platform-table", "platform"]] as const) {
      for (const key of keysIn(-6, 0, dim).filter((k) => expected(-6, 0, dim, k).revenueMinor || expected(-6, 0, dim, k).productViews)) {
        const x = expected(-6, 0, dim, key);
        expect({ revenue: row(table, key, "revenue"), orders: row(table, key, "orders"), clicks: row(table, key, "clicks"), views: row(table, key, "productViews"), carts: row(table, key, "carts"), checkouts: row(table, key, "checkouts") }, `${dim} ${key}`).toEqual({
          revenue: money(x.revenueMinor),
          orders: String(x.orders),
          clicks: String(x.clicks),
          views: String(x.productViews),
          carts: String(x.carts),
          checkouts: String(x.checkouts),
        });
      }
    }
    for (const [table, dim] of [["top-post", "post"], ["top-link", "link"], ["top-live", "live"], ["top-host", "host"]] as const) {
      const keys = keysIn(-6, 0, dim);
      expect($(`#${table} tbody tr`).length, table).toBe(keys.length);
      for (const key of keys) {
        const x = expected(-6, 0, dim, key);
        expect(["revenue", "clicks", "productViews", "carts", "checkouts", "paid"].map((c) => row(table, key, c)), `${dim} ${key}`).toEqual([money(x.revenueMinor), ...[x.clicks, x.productViews, x.carts, x.checkouts, x.orders].map(String)]);
      }
    }
    // Highest revenue first.
    expect($("#top-link tbody tr").first().attr("data-key")).toBe(links.l1!.id);
    for (const key of keysIn(-6, 0, "product")) {
      const x = expected(-6, 0, "product", key);
      expect(["revenue", "units", "orders", "productViews", "carts", "checkouts"].map((c) => row("top-products", key, c))).toEqual([money(x.revenueMinor), String(x.units), String(x.orders), String(x.productViews), String(x.carts), String(x.checkouts)]);
    }
  });

  it("coupons, follower coupons, new followers, reviews and questions", async () => {
    const $ = load((await admin.get("/shop/admin?range=7d&lang=en").expect(200)).text);
    const any = expected(-6, 0, "coupons", "any");
    const fans = expected(-6, 0, "coupons", "followers");
    expect(any).toMatchObject({ orders: 2, discountMinor: 775 });
    expect(text($, '[data-kpi="coupon-revenue"] .tile__value')).toBe(money(any.revenueMinor));
    expect(text($, '[data-kpi="coupon-discount"] .tile__value')).toBe(money(any.discountMinor));
    expect(text($, '[data-kpi="follower-revenue"] .tile__value')).toBe(money(fans.revenueMinor));
    expect(text($, '[data-kpi="follower-discount"] .tile__value')).toBe(money(fans.discountMinor));
    for (const [code, id] of [["LIVE10", couponIds.live10!], ["FANS15", couponIds.fans15!]] as const) {
      const x = expected(-6, 0, "coupon", id);
      const cells = $(`#coupon-table tr[data-key="${id}"]`);
      expect(cells.find("th").text()).toBe(code);
      expect(["applications", "checkouts", "orders", "revenue", "discount"].map((c) => cells.find(`[data-col="${c}"]`).text())).toEqual([String(x.couponApplications), String(x.checkouts), String(x.orders), money(x.revenueMinor), money(x.discountMinor)]);
    }
    // Followers: Eve confirmed by email yesterday, two TikTok handles imported today.
    expect(["email", "imported", "both", "total"].map((c) => $(`#followers-table tr[data-key="instagram"] [data-col="${c}"]`).text())).toEqual(["1", "0", "0", "1"]);
    expect(["email", "imported", "both", "total"].map((c) => $(`#followers-table tr[data-key="tiktok"] [data-col="${c}"]`).text())).toEqual(["0", "2", "0", "2"]);
    // Reviews in the 7 days: 5★ (verified), 4★, 2★; the rejected one is left out.
    expect(text($, '[data-kpi="reviews"] .tile__value')).toBe("3");
    expect(text($, '[data-kpi="rating"] .tile__value')).toBe("3.67");
    expect(text($, '[data-kpi="verified"] .tile__value')).toBe("33.3%");
    // Questions: two answered (after 2 h and 20 h: median 11 h), one waiting more than 12 hours, one asked an hour ago.
    expect(text($, '[data-kpi="answered"] .tile__value')).toBe("2");
    expect(text($, '[data-kpi="answered"] .small')).toBe("4 asked");
    expect(text($, '[data-kpi="median"] .tile__value')).toBe("11 h 0 min");
    expect(text($, '[data-kpi="unanswered"] .tile__value')).toBe("1");
    const api = (await request(t.app).get("/shop/api/v1/analytics/social-proof?range=7d").set(auth).expect(200)).body.data;
    expect(api).toMatchObject({ reviews: 3, verifiedShare: 1 / 3, questionsAsked: 4, questionsAnswered: 2, medianFirstAnswerMs: 11 * 3_600_000, unansweredOver12h: 1 });
    const followers = (await request(t.app).get("/shop/api/v1/analytics/followers?range=7d").set(auth).expect(200)).body.data;
    expect(followers).toMatchObject({ total: 3, rows: [{ platform: "tiktok", imported: 2, total: 2 }, { platform: "instagram", email: 1, total: 1 }] });
  });

  it("in Persian: right-to-left, Persian digits, the product's Persian title", async () => {
    const res = await admin.get("/shop/admin?range=7d&lang=fa").expect(200);
    const $ = load(res.text);
    expect($("html").attr("dir")).toBe("rtl");
    expect(text($, '[data-kpi="orders"] [data-value]')).toBe(new Intl.NumberFormat("fa-IR").format(expected(-6, 0, "total", "all").orders));
    expect(text($, '[data-kpi="revenue"] [data-value]')).toBe(formatMoney(expected(-6, 0, "total", "all").revenueMinor, "USD", "fa"));
    expect($(`#top-products tr[data-key="${bowl.id}"] th`).text()).toBe("کاسهٔ گردویی");
    expect($("#revenue-table").text()).not.toMatch(/[0-9]/);
  });

  it("a sale shows on the dashboard at once: its cached figures are checked against the data on every view", async () => {
    const revenue = async () => load((await admin.get("/shop/admin?range=today&lang=en").expect(200)).text)('[data-kpi="revenue"] [data-value]').text();
    const before = await revenue();
    expect(await revenue()).toBe(before);
    clock = at(0, 11, 30);
    await shop(await browser(), { name: "ivy", link: "l3", product: bowl, price: 4000, qty: 1, pay: true });
    await flushEvents(t.deps);
    expect(await revenue()).toBe(money(expected(0, 0, "total", "all").revenueMinor));
    expect(await revenue()).not.toBe(before);
  });

  it("every table downloads as CSV with the same figures", async () => {
    const csv = async (table: string) => {
      const res = await admin.get(`/shop/admin/analytics/export/${table}.csv?range=7d`).expect(200);
      expect(res.headers["content-type"]).toMatch(/^text\/csv/);
      expect(res.headers["content-disposition"]).toMatch(/attachment; filename=".+\.csv"/);
      const [header, ...lines] = res.text.replace(/^\uFEFF/, "").trim().split("\r\n").map((l) => l.split(","));
      return lines.map((l) => Object.fromEntries(header!.map((h, i) => [h, l[i]])));
    };
    const links7 = await csv("link");
    expect(links7.find((r) => r.key === "mug-story")).toMatchObject({ revenue_minor: String(expected(-6, 0, "link", links.l1!.id).revenueMinor), clicks: "2", refunded: "10.00" });
    const products = await csv("product");
    expect(products).toHaveLength(keysIn(-6, 0, "product").length);
    const summary = await csv("summary");
    expect(summary.find((r) => r.metric === "revenue")).toMatchObject({ currency: "USD", "2026-11-14..2026-11-20": (expected(-6, 0, "total", "all").revenueMinor / 100).toFixed(2) });
    const days = await csv("revenue");
    expect(days).toHaveLength(7);
    for (const table of ["channel", "platform", "post", "live", "host", "coupon", "followers", "reviews", "questions"]) expect((await csv(table)).length, table).toBeGreaterThan(0);
  });
});

describe("each object's own page shows its figures and funnel", () => {
  const funnel = ($: ReturnType<typeof load>) => $("#figures .funnel .bar-list__value").map((_, el) => $(el).contents().first().text().trim()).get();

  it("a post, a link, a coupon and a product page", async () => {
    const cases: [string, string, string][] = [
      [`/shop/admin/posts/${postIds.p1}`, "post", postIds.p1!],
      [`/shop/admin/links/${links.l3!.id}`, "link", links.l3!.id],
      [`/shop/admin/coupons/${couponIds.live10}`, "coupon", couponIds.live10!],
      [`/shop/admin/products/${bowl.id}`, "product", bowl.id],
    ];
    for (const [path, dim, key] of cases) {
      const $ = load((await admin.get(`${path}?range=7d&lang=en`).expect(200)).text);
      const x = expected(-6, 0, dim, key);
      expect(funnel($), path).toEqual([x.clicks, x.productViews, x.carts, x.checkouts, x.orders].map(String));
      expect($("#figures .tile").first().find(".tile__value").text(), path).toBe(money(x.revenueMinor));
      expect($("#figures a.pill[aria-current]").text()).toBe("7 days");
      const api = (await request(t.app).get(`/shop/api/v1/analytics/objects/${dim}/${key}?range=7d`).set(auth).expect(200)).body.data;
      expect(pick(api.current, FIELDS), path).toEqual(pick(x, FIELDS));
      expect(api.days).toHaveLength(7);
    }
  });

  it("a bad range on an object's page is a 400 naming it; a missing object still gets the page's own 404", async () => {
    const bad = await admin.get(`/shop/admin/products/${bowl.id}?range=forever`).set("Accept", "application/json").expect(400);
    expect(bad.body.error.details[0].field).toBe("range");
    await admin.get("/shop/admin/products/cnosuchproduct0000000000000").expect(404);
    await admin.get("/shop/admin/posts/tag-health").expect(200);
  });

  it("the panel downloads as CSV, and a link is found by its code in the API", async () => {
    const res = await admin.get(`/shop/admin/analytics/objects/link/${links.l1!.id}.csv?range=7d`).expect(200);
    const lines = res.text.trim().split("\r\n");
    expect(lines).toHaveLength(1 + 7 + 2);
    expect(lines.find((l) => l.startsWith("2026-11-14..2026-11-20,range,"))).toContain(`,${expected(-6, 0, "link", links.l1!.id).revenueMinor},`);
    const byCode = (await request(t.app).get("/shop/api/v1/analytics/objects/link/mug-story?range=7d").set(auth).expect(200)).body.data;
    expect(byCode.id).toBe(links.l1!.id);
  });
});

describe("bad input names the parameter", () => {
  const api = (q: string) => request(t.app).get(`/shop/api/v1/analytics/sales?${q}`).set(auth);
  it.each([
    ["range=year&by=channel", 400, "range"],
    ["range=custom&by=channel", 400, "from"],
    ["from=2026-11-19&to=2026-11-10&by=channel", 400, "to"],
    ["from=2026-11-19&to=2026-11-25&by=channel", 400, "to"],
    ["from=2026-02-30&by=channel", 400, "from"],
    ["from=2020-01-01&to=2020-01-31&by=channel", 400, "from"],
    ["range=7d&from=2026-11-01&by=channel", 400, "range"],
    ["range=7d", 400, "by"],
    ["range=7d&by=weather", 400, "by"],
  ])("GET sales?%s → %i naming %s", async (q, status, field) => {
    const res = await api(q).expect(status);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(res.body.error.message).toContain(field);
  });

  it("an object that does not exist is a 404 naming the id; an unknown kind a 400", async () => {
    const missing = await request(t.app).get("/shop/api/v1/analytics/objects/post/nosuchpost000?range=7d").set(auth).expect(404);
    expect(missing.body.error.details[0].field).toBe("id");
    const kind = await request(t.app).get("/shop/api/v1/analytics/objects/tweet/x?range=7d").set(auth).expect(400);
    expect(kind.body.error.details[0].field).toBe("kind");
  });

  it("the dashboard refuses a bad range with a page naming it, and the API needs a token", async () => {
    const res = await admin.get("/shop/admin?range=forever").expect(400);
    expect(res.text).toContain("range");
    await request(t.app).get("/shop/api/v1/analytics/sales?range=7d&by=channel").expect(401);
  });
});
