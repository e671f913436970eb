import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyticsJobs } from "../src/analytics/analytics.jobs.js";
import { flushEvents, SALT_PREFIX } from "../src/analytics/events.js";
import { loadConfig, ConfigError } from "../src/config.js";
import { createStorefront } from "../src/storefront.js";
import type { JobContext } from "../src/jobs/job.js";
import { buildTestApp, freshDatabase, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct, createToken, testImage } from "./helpers/factories.js";
import { startFakeStripe, type FakeStripe } from "./helpers/fake-stripe.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";
import { BROWSER_UA, createLink, createPost, createTag } from "./helpers/post-factories.js";
import { deliverWebhook, newShopper, sessionIdFrom } from "./helpers/shopper.js";

const DAY = 86_400_000;
const ctx = (): JobContext => ({ signal: new AbortController().signal, progress: async () => {} });

describe("onboarding checklist on a new shop's dashboard", () => {
  let stripe: FakeStripe;
  let t: TestApp;
  let admin: TestAgent;
  let csrf: string;
  beforeAll(async () => {
    stripe = await startFakeStripe();
    t = await buildTestApp({ shopName: "Bazaarche", publicUrl: "https://shop.example/shop" });
    const who = await createAdmin(t.deps);
    admin = request.agent(t.app);
    await signIn(admin, who.email, who.password);
  });
  afterAll(async () => {
    await t.close();
    await stripe.close();
  });

  const steps = async () => {
    const $ = load((await admin.get("/shop/admin").expect(200)).text);
    csrf = csrfFrom($.html());
    return {
      $,
      done: Object.fromEntries($(".checklist__item").map((_, el) => [[$(el).attr("data-step"), $(el).hasClass("checklist__item--done")]]).get() as [string, boolean][]),
      progress: $("#onboarding-progress").text(),
    };
  };

  it("starts with nothing done and shows each feed URL ready to copy", async () => {
    const { $, done, progress } = await steps();
    expect(done).toEqual({ identity: false, product: false, payments: false, email: false, feeds: false, post: false, bio: false });
    expect(progress).toBe("0 of 7 steps done");
    expect($('[data-feed="google"] code').text()).toBe("https://shop.example/shop/feeds/google.xml");
    expect($('[data-feed="tiktok"] code').text()).toBe("https://shop.example/shop/feeds/tiktok.csv");
    expect($('button[data-copy="feed-url-meta"]').length).toBe(1);
    expect($("#gallery-url").text()).toBe("https://shop.example/shop/gallery");
    expect($('script[src$="/assets/js/admin-copy.js"]').length).toBe(1);
  });

  it("detects a product, a tagged post, a sent email and a visit from a social platform; the owner ticks the feeds", async () => {
    const product = await createProduct(t.deps);
    const post = await createPost(t.deps);
    await createTag(t.deps, { postId: post.id, productId: product.id });
    await t.db.outboxEmail.create({ data: { to: "a@example.com", subject: "Hi", text: "Hi", status: "queued" } });
    expect((await steps()).done.email).toBe(false);
    // The email engineer's sender marks a sent email; that is what "connected" means.
    await t.db.outboxEmail.updateMany({ data: { status: "sent", sentAt: new Date() } });
    // The gallery link in a bio: someone arrives at the gallery from Instagram.
    await request(t.app).get("/shop/gallery").set({ "User-Agent": BROWSER_UA, Referer: "https://l.instagram.com/" }).expect(200);
    await flushEvents(t.deps);
    for (const item of ["feed_google", "feed_meta", "feed_pinterest"]) await admin.post("/shop/admin/onboarding").type("form").send({ _csrf: csrf, item }).expect(303);
    let s = await steps();
    expect(s.done).toMatchObject({ product: true, post: true, email: true, bio: true, feeds: false });
    expect(s.$('[data-feed="google"] button[aria-pressed="true"]').length).toBe(1);
    await admin.post("/shop/admin/onboarding").type("form").send({ _csrf: csrf, item: "feed_tiktok" }).expect(303);
    s = await steps();
    expect(s.done.feeds).toBe(true);
    expect(s.$('[data-step="feeds"] .badge').text()).toBe("ticked by you");
    expect(s.progress).toBe("5 of 7 steps done");
  });

  it("refuses an unknown tick naming the field", async () => {
    const bad = await admin.post("/shop/admin/onboarding").set("Accept", "application/json").type("form").send({ _csrf: csrf, item: "everything" }).expect(400);
    expect(bad.body.error.details[0].field).toBe("item");
  });

  it("a shop named by its owner with a logo, and Stripe connected, completes its identity and payments steps; the list then hides", async () => {
    const named = await buildTestApp({ shopName: "Tea & Clay", payments: stripe.gateway });
    try {
      const who = await createAdmin(named.deps);
      const agent = request.agent(named.app);
      await signIn(agent, who.email, who.password);
      let $ = load((await agent.get("/shop/admin").expect(200)).text);
      const token = csrfFrom($.html());
      expect($('[data-step="payments"]').hasClass("checklist__item--done")).toBe(true);
      expect($('[data-step="identity"]').hasClass("checklist__item--done")).toBe(false);
      // The logo is set where it lives, Shop settings (the checklist links there): the form as it stands, plus a logo.
      const form = load((await agent.get("/shop/admin/shop").expect(200)).text)("form.settings-form");
      let upload = agent.post(form.attr("action")!);
      for (const el of form.find("input[name], select[name], textarea[name]").toArray()) {
        const field = form.find(el);
        const name = field.attr("name")!;
        if (name === "logo" || name === "_csrf" || field.attr("type") === "file") continue;
        if ((field.attr("type") === "checkbox" || field.attr("type") === "radio") && field.attr("checked") === undefined) continue;
        if (el.tagName === "select") for (const o of field.find("option[selected]").toArray()) upload = upload.field(name, form.find(o).attr("value") ?? "");
        else upload = upload.field(name, el.tagName === "textarea" ? field.text() : (field.attr("value") ?? ""));
      }
      await upload.attach("logo", await testImage({ color: "#0f5e63" }), "logo.jpg").expect(303);
      $ = load((await agent.get("/shop/admin").expect(200)).text);
      expect($('[data-step="identity"]').hasClass("checklist__item--done")).toBe(true);
      // The logo is in the admin bar and the shop's header.
      const logo = $(".admin-bar img.brand__logo").attr("src")!;
      expect(logo).toMatch(/^\/shop\/media\//);
      expect(load((await request(named.app).get("/shop/").expect(200)).text)("header img.brand__logo").attr("src")).toBe(logo);
      await agent.post("/shop/admin/onboarding").type("form").send({ _csrf: token, item: "dismissed" }).expect(303);
      expect(load((await agent.get("/shop/admin").expect(200)).text)("#onboarding").length).toBe(0);
      const api = (await request(named.app).get("/shop/api/v1/analytics/onboarding").set({ Authorization: `Bearer ${(await createToken(named.deps)).token}` }).expect(200)).body.data;
      expect(api).toMatchObject({ dismissed: true, total: 7 });
      expect(api.steps.find((s: { id: string }) => s.id === "payments")).toMatchObject({ done: true, how: "detected" });
    } finally {
      await named.close();
    }
  });

  it("a refund made in Stripe's dashboard (webhook only, no Refund row) is counted on the day it arrived", async () => {
    const shop = await buildTestApp({ payments: stripe.gateway });
    try {
      const auth = { Authorization: `Bearer ${(await createToken(shop.deps)).token}` };
      const p = await createProduct(shop.deps, { variants: [{ priceMinor: 2000, stock: 3 }] });
      const shopper = await newShopper(shop.app);
      await shopper.add(p.variants[0]!.id, 1).expect(303);
      const res = await shopper.checkout({ email: "b@example.com" }).expect(303);
      const session = stripe.complete(sessionIdFrom(res.headers.location));
      await deliverWebhook(shop.app, stripe.event("checkout.session.completed", session)).expect(200);
      const pi = String(session.payment_intent);
      await deliverWebhook(shop.app, stripe.event("charge.refunded", stripe.charge(pi, 700, 2500))).expect(200);
      // The same running total again: not a second refund.
      await deliverWebhook(shop.app, stripe.event("charge.refunded", stripe.charge(pi, 700, 2500))).expect(200);
      await deliverWebhook(shop.app, stripe.event("charge.refunded", stripe.charge(pi, 2500, 2500))).expect(200);
      const data = (await request(shop.app).get("/shop/api/v1/analytics/sales?range=today&by=channel").set(auth).expect(200)).body.data;
      expect(data.totals).toMatchObject({ orders: 1, revenueMinor: 2500, refunds: 2, refundedMinor: 2500 });
    } finally {
      await shop.close();
    }
  });
});

describe("retention", () => {
  let clock = Date.parse("2026-11-20T12:00:00Z");
  let t: TestApp;
  let auth: { Authorization: string };
  beforeAll(async () => {
    t = await buildTestApp({ now: () => new Date(clock), analytics: { retentionDays: 3, rollupRetentionDays: 30 } });
    auth = { Authorization: `Bearer ${(await createToken(t.deps)).token}` };
  });
  afterAll(() => t.close());

  it("deletes raw events past the retention only once their day is rolled up, and the figures stay", async () => {
    const p = await createProduct(t.deps, { slug: "kept" });
    await createLink(t.deps, { code: "kept-link", targetType: "product", productId: p.id, channel: "telegram" });
    const start = clock;
    for (let d = 0; d < 6; d++) {
      clock = start + d * DAY;
      await request(t.app).get("/shop/l/kept-link").set("User-Agent", `${BROWSER_UA} ${d}`).expect(302);
      await request(t.app).get("/shop/p/kept").set("User-Agent", `${BROWSER_UA} ${d}`).expect(200);
    }
    await flushEvents(t.deps);
    expect(await t.db.analyticsEvent.count()).toBe(12);
    const [rollup, retention] = analyticsJobs();
    // Nothing rolled up yet: nothing may be deleted, however old.
    expect(await retention!.run(t.deps, ctx())).toMatchObject({ deletedEvents: 0 });
    expect(await t.db.analyticsEvent.count()).toBe(12);
    await rollup!.run(t.deps, ctx());
    const before = (await request(t.app).get("/shop/api/v1/analytics/sales?from=2026-11-20&to=2026-11-25&by=channel").set(auth).expect(200)).body.data;
    expect(before.totals).toMatchObject({ clicks: 6, productViews: 6, visits: 6 });
    const result = await retention!.run(t.deps, ctx());
    // Today is Nov 25; with 3 days kept, Nov 23, 24 and 25 stay.
    expect(result).toMatchObject({ deletedEvents: 6, keptFrom: "2026-11-23" });
    expect(await t.db.analyticsEvent.count({ where: { at: { lt: new Date("2026-11-23T00:00:00Z") } } })).toBe(0);
    const after = (await request(t.app).get("/shop/api/v1/analytics/sales?from=2026-11-20&to=2026-11-25&by=channel").set(auth).expect(200)).body.data;
    expect(after.totals).toEqual(before.totals);
    expect(after.rows).toEqual(before.rows);
    // Visitor-key salts older than yesterday are gone.
    const salts = (await t.db.setting.findMany({ where: { key: { startsWith: SALT_PREFIX } } })).map((s) => Number(s.key.slice(SALT_PREFIX.length)));
    expect(Math.min(...salts)).toBeGreaterThanOrEqual(Math.floor(clock / DAY) - 1);
  });

  it("a range before the kept roll-ups is refused, naming from", async () => {
    const res = await request(t.app).get("/shop/api/v1/analytics/sales?from=2026-10-01&to=2026-10-05&by=post").set(auth).expect(400);
    expect(res.body.error.details[0].field).toBe("from");
    expect(res.body.error.message).toContain("30 days");
  });
});

describe("configuration", () => {
  it("reads the retention from the environment, and refuses roll-ups kept shorter than events", () => {
    expect(loadConfig({})).toMatchObject({ ANALYTICS_RETENTION_DAYS: 90, ANALYTICS_ROLLUP_RETENTION_DAYS: 730 });
    expect(loadConfig({ ANALYTICS_RETENTION_DAYS: "30", ANALYTICS_ROLLUP_RETENTION_DAYS: "400" })).toMatchObject({ ANALYTICS_RETENTION_DAYS: 30, ANALYTICS_ROLLUP_RETENTION_DAYS: 400 });
    const lines = (() => {
      try {
        loadConfig({ ANALYTICS_RETENTION_DAYS: "120", ANALYTICS_ROLLUP_RETENTION_DAYS: "60" });
        return [];
      } catch (err) {
        return (err as ConfigError).lines;
      }
    })();
    expect(lines).toEqual([`Invalid ANALYTICS_ROLLUP_RETENTION_DAYS (got "60"): expected at least ANALYTICS_RETENTION_DAYS (120): roll-ups are made from the raw events`]);
    expect(() => loadConfig({ ANALYTICS_RETENTION_DAYS: "0" })).toThrow(/ANALYTICS_RETENTION_DAYS/);
  });

  it("createStorefront refuses the same, naming the option", async () => {
    const { db } = await freshDatabase();
    expect(() => createStorefront({ prisma: db, analytics: { retentionDays: 90, rollupRetentionDays: 10 } })).toThrow(/analytics\.rollupRetentionDays/);
    await db.$disconnect();
  });
});
