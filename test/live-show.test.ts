import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { load } from "./helpers/html.js";
import { liveApi, liveShow, newViewer, type LiveApi } from "./helpers/live.js";

/**
 * Issue 11, points 1, 2 and 6: sessions and the run of show through the
 * JSON API contract, the viewer page before / during / after a show (without
 * JavaScript), and the replay with chapters.
 */
let t: TestApp;
let api: LiveApi;
let clock = new Date("2026-12-05T17:00:00Z").getTime();
beforeAll(async () => {
  t = await buildTestApp({ publicUrl: "https://shop.example/shop", now: () => new Date(clock) });
  api = await liveApi(t.app, t.deps);
});
afterAll(() => t.close());

describe("sessions and the run of show (API contract)", () => {
  it("creates a show, builds its lineup, goes scheduled → live → ended, featuring items on the way", async () => {
    const created = await api.create({ title: "Friday mugs", hostName: "Ava", platform: "tiktok", startsAt: "2026-12-05T18:00:00Z", holdMinutes: 10 }).expect(201);
    expect(created.body.data).toMatchObject({ title: "Friday mugs", status: "scheduled", holdMinutes: 10, url: expect.stringMatching(/^https:\/\/shop\.example\/shop\/live\/[a-z0-9]{10}$/) });
    const { id, code } = created.body.data;
    expect(code).toMatch(/^[a-z0-9]{10}$/);

    const mug = await createProduct(t.deps, { title: "Turquoise mug", variants: [{ priceMinor: 2400, stock: 5 }] });
    const bowl = await createProduct(t.deps, { title: "Bowl", variants: [{ priceMinor: 3000, stock: 5 }] });
    const a = await api.addItem(id, { productId: mug.id, claimCode: "12", livePriceMinor: 1900, perBuyerLimit: 2, quantityCap: 4 }).expect(201);
    const b = await api.addItem(id, { productId: bowl.id, claimCode: "a7" }).expect(201);
    expect(a.body.data).toMatchObject({ id: expect.any(String), claimCode: "12", livePriceMinor: 1900, perBuyerLimit: 2, quantityCap: 4, position: 0 });
    expect(b.body.data).toMatchObject({ claimCode: "A7", position: 1 });

    // Featuring needs a live show.
    await api.feature(id, a.body.data.id).expect(409);
    const started = await api.start(id).expect(200);
    expect(started.body.data).toMatchObject({ status: "live", startedAt: new Date(clock).toISOString() });
    await api.start(id).expect(409);

    // Starting featured the first item; the host moves on.
    let detail = await api.get(`/${id}`).expect(200);
    expect(detail.body.data.featuredItemId).toBe(a.body.data.id);
    clock += 90_000;
    expect((await api.feature(id, b.body.data.id).expect(200)).body.data).toEqual({ itemId: b.body.data.id, productId: bowl.id });
    clock += 60_000;
    expect((await api.post(`/${id}/next`).expect(200)).body.data.itemId).toBe(a.body.data.id);
    detail = await api.get(`/${id}`).expect(200);
    expect(detail.body.data.featuredItemId).toBe(a.body.data.id);
    expect(detail.body.data.items.map((i: { claimCode: string; liveMinor: number; regularMinor: number; left: number }) => [i.claimCode, i.liveMinor, i.regularMinor, i.left])).toEqual([
      ["12", 1900, 2400, 4],
      ["A7", 3000, 3000, 5],
    ]);

    clock += 60_000;
    const ended = await api.end(id).expect(200);
    expect(ended.body.data).toMatchObject({ status: "ended", endedAt: new Date(clock).toISOString() });
    await api.end(id).expect(409);
    await api.feature(id, a.body.data.id).expect(409);
    await api.start(id).expect(409);
    const features = await t.db.liveFeature.findMany({ where: { liveSessionId: id }, orderBy: { at: "asc" } });
    expect(features.map((f) => f.itemId)).toEqual([a.body.data.id, b.body.data.id, a.body.data.id]);
  });

  it("refuses bad input with a 4xx naming the field, and writes nothing", async () => {
    const before = await t.db.liveSession.count();
    for (const [body, field] of [
      [{ hostName: "x", platform: "instagram", startsAt: "2026-12-05T18:00:00Z" }, "title"],
      [{ title: "x", platform: "myspace", startsAt: "2026-12-05T18:00:00Z" }, "platform"],
      [{ title: "x", platform: "instagram", startsAt: "tomorrow" }, "startsAt"],
      [{ title: "x", platform: "instagram", startsAt: "2026-12-05T18:00:00Z", holdMinutes: 0 }, "holdMinutes"],
      [{ title: "x", platform: "instagram", startsAt: "2026-12-05T18:00:00Z", extra: 1 }, "(root)"],
      [{ title: "bad \ud800 text", platform: "instagram", startsAt: "2026-12-05T18:00:00Z" }, "title"],
      [{ title: "x", platform: "instagram", startsAt: "2026-12-05T18:00:00Z", streamUrl: "javascript:alert(1)" }, "streamUrl"],
    ] as const) {
      const res = await api.post("", body).expect(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect(await t.db.liveSession.count()).toBe(before);

    const { session, items } = await liveShow(t.app, t.deps, api, { start: false, items: [{ claimCode: "5", variants: [{ priceMinor: 1000 }] }] });
    const other = await createProduct(t.deps);
    expect((await api.addItem(session.id, { productId: other.id, claimCode: "5" }).expect(409)).body.error.details[0].field).toBe("claimCode");
    expect((await api.addItem(session.id, { productId: items[0]!.productId, claimCode: "6" }).expect(409)).body.error.details[0].field).toBe("productId");
    expect((await api.addItem(session.id, { productId: "c000000000000000000000000", claimCode: "7" }).expect(400)).body.error.details[0].field).toBe("productId");
    expect((await api.addItem(session.id, { productId: other.id, claimCode: "no spaces" }).expect(400)).body.error.details[0].field).toBe("claimCode");
    expect((await api.addItem(session.id, { productId: other.id, claimCode: "8", livePriceMinor: 99_999 }).expect(400)).body.error.details[0].field).toBe("livePriceMinor");
    await api.start(session.id).expect(200);
    // Featuring an item of another show, or none.
    expect((await api.feature(session.id, "c000000000000000000000000").expect(400)).body.error.details[0].field).toBe("itemId");
    expect((await api.post(`/${session.id}/feature`, {}).expect(400)).body.error.details[0].field).toBe("itemId");
    await api.get("/c000000000000000000000000").expect(404);
    expect(await t.db.liveItem.count({ where: { liveSessionId: session.id } })).toBe(1);
  });

  it("a PATCH changes exactly the fields it names", async () => {
    const created = await api.create({ title: "Before", hostName: "Ava", streamUrl: "https://www.instagram.com/ava/live" }).expect(201);
    const patched = await api.patch(`/${created.body.data.id}`, { title: "After" }).expect(200);
    expect(patched.body.data).toMatchObject({ title: "After", hostName: "Ava", streamUrl: "https://www.instagram.com/ava/live", holdMinutes: created.body.data.holdMinutes });
    await api.patch(`/${created.body.data.id}`, { code: "new-code" }).expect(400);
  });

  it("needs a token", async () => {
    await request(t.app).post("/shop/api/v1/live").send({}).expect(401);
    await request(t.app).get("/shop/api/v1/live/x/stats").expect(401);
  });
});

describe("the viewer page without JavaScript", () => {
  it("before the show: countdown and remind me; a second remind changes nothing", async () => {
    const created = await api.create({ title: "Sunday bowls", startsAt: new Date(clock + 2 * 3600_000 + 5 * 60_000).toISOString(), code: "sunday-bowls" }).expect(201);
    const viewer = await newViewer(t.app, "sunday-bowls");
    const $ = load(viewer.page.text);
    expect($(".live-badge").first().text()).toBe("Coming up");
    expect($("[data-starts]").text()).toBe("Starts in 2 h 5 min");
    expect($("form.live-remind").attr("action")).toBe("/shop/live/sunday-bowls/remind");
    const fa = load((await viewer.agent.get("/shop/live/sunday-bowls?lang=fa").expect(200)).text);
    expect(fa("html").attr("dir")).toBe("rtl");
    expect(fa("[data-starts]").text()).toBe("۲ ساعت و ۵ دقیقه تا شروع");

    for (let i = 0; i < 2; i++) {
      const res = await viewer.agent.post("/shop/live/sunday-bowls/remind").type("form").send({ _csrf: viewer.csrf, email: "Maya@Example.com " }).expect(303);
      expect(res.headers.location).toBe("/shop/live/sunday-bowls?reminded=1#remind");
    }
    await viewer.agent.post("/shop/live/sunday-bowls/remind").type("form").send({ _csrf: viewer.csrf, email: "not-an-email" }).expect(400);
    expect(await t.db.liveReminder.findMany({ where: { liveSessionId: created.body.data.id }, select: { email: true, queuedAt: true } })).toEqual([{ email: "maya@example.com", queuedAt: null }]);
  });

  it("during the show: the featured product with live and regular price, units left, variants and a claim form; a form claim holds it", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, {
      code: "mugs-live",
      items: [
        { claimCode: "12", title: "Indigo mug", titleFa: "ماگ نیلی", optionNames: ["Size"], livePriceMinor: 1900, variants: [{ option1: "S", priceMinor: 2400, stock: 2 }, { option1: "M", priceMinor: 2400, stock: 0 }, { option1: "L", priceMinor: 2600, stock: 3 }] },
        { claimCode: "13", title: "Plate", variants: [{ priceMinor: 1500, stock: 4 }] },
      ],
    });
    const viewer = await newViewer(t.app, session.code);
    let $ = load(viewer.page.text);
    expect($(".live-badge").first().text()).toBe("Live now");
    const stage = $("article[data-item]:not([hidden])");
    expect(stage.length).toBe(1);
    expect(stage.attr("data-item")).toBe(items[0]!.id);
    expect(stage.find(".live-item__title").text()).toBe("Indigo mug");
    expect(stage.find("[data-price]").text()).toBe("$19.00");
    expect(stage.find(".live-price__was").text()).toBe("Regular $24.00");
    expect(stage.find("[data-left]").text().trim()).toBe("5 left");
    expect(stage.find(".live-variant").map((_, el) => $(el).find(".live-variant__label").text() + ":" + $(el).find("[data-variant-left]").text()).get()).toEqual(["S:2 left", "M:Sold out", "L:3 left"]);
    expect(stage.find('input[name="variantId"][checked]').val()).toBe(items[0]!.variants[0]!.id);
    expect($("[data-lineup]").length).toBe(2);
    expect($("[data-events]").length).toBe(1);

    // The Persian page shows the Persian title and Persian digits.
    const fa = load((await viewer.agent.get(`/shop/live/${session.code}?lang=fa`).expect(200)).text);
    expect(fa("article[data-item]:not([hidden]) .live-item__title").text()).toBe("ماگ نیلی");
    expect(fa("article[data-item]:not([hidden]) [data-left]").text().trim()).toBe("۵ عدد مانده");

    // A claim from the form (no JavaScript) goes back to the page, which shows the hold.
    const posted = await viewer.agent.post(`/shop/live/${session.code}/claims?lang=en`).type("form").send({ _csrf: viewer.csrf, itemId: items[0]!.id, variantId: items[0]!.variants[2]!.id }).expect(303);
    expect(posted.headers.location).toBe(`/shop/live/${session.code}?item=${items[0]!.id}#you`);
    $ = load((await viewer.agent.get(`/shop/live/${session.code}?lang=en`).expect(200)).text);
    const held = $("[data-claim-id]");
    expect(held.length).toBe(1);
    expect(held.find(".live-claims__what").text()).toContain("Indigo mug");
    expect(held.find(".live-claims__price").text()).toContain("$19.00");
    expect(held.find("[data-countdown]").text()).toBe("15:00");
    expect($("form.live-pay").attr("action")).toBe(`/shop/live/${session.code}/checkout`);
    expect($("article[data-item]:not([hidden]) [data-left]").text().trim()).toBe("4 left");

    // Choosing another item in the lineup shows it on the stage without JavaScript.
    $ = load((await viewer.agent.get(`/shop/live/${session.code}?item=${items[1]!.id}`).expect(200)).text);
    expect($("article[data-item]:not([hidden])").attr("data-item")).toBe(items[1]!.id);
  });

  it("after the show: the replay with chapters at the moments each product was featured, the lineup at regular prices", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, {
      code: "replay-show",
      items: [
        { claimCode: "1", title: "Vase", livePriceMinor: 1000, variants: [{ priceMinor: 2000 }] },
        { claimCode: "2", title: "Cup", variants: [{ priceMinor: 900 }] },
      ],
    });
    clock += 5 * 60_000 + 7_000;
    await api.feature(session.id, items[1]!.id).expect(200);
    clock += 65 * 60_000;
    await api.end(session.id).expect(200);
    await api.patch(`/${session.id}`, { replayUrl: "https://cdn.example/replays/friday.mp4" }).expect(200);
    const viewer = await newViewer(t.app, session.code);
    let $ = load(viewer.page.text);
    expect($(".live-badge").first().text()).toBe("Replay");
    expect($("video[data-replay]").attr("src")).toBe("https://cdn.example/replays/friday.mp4");
    expect($(".live-chapters li").map((_, el) => $(el).find("a").first().attr("href")).get()).toEqual(["https://cdn.example/replays/friday.mp4#t=0", "https://cdn.example/replays/friday.mp4#t=307"]);
    expect($(".live-chapters li .live-chapters__time").map((_, el) => $(el).text()).get()).toEqual(["0:00", "5:07"]);
    expect($("[data-lineup]").first().text()).toContain("$20.00");
    expect($("[data-lineup] a").first().attr("href")).toMatch(/^\/shop\/p\//);
    expect($("form[data-claim]").length).toBe(0);

    // A platform replay (YouTube) gets t= links instead.
    await api.patch(`/${session.id}`, { replayUrl: "https://www.youtube.com/watch?v=abc123" }).expect(200);
    $ = load((await viewer.agent.get(`/shop/live/${session.code}`).expect(200)).text);
    expect($(".live-chapters li a").first().attr("href")).toBe("https://www.youtube.com/watch?v=abc123&t=0s");
    expect($(".live-chapters li a[data-seek]").eq(1).attr("href")).toBe("https://www.youtube.com/watch?v=abc123&t=307s");
  });

  it("an unknown show is a 404 page", async () => {
    await request(t.app).get("/shop/live/no-such-show").expect(404);
    await request(t.app).get("/shop/live/Bad Code").expect(400);
  });
});
