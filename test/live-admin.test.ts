import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveJobs } from "../src/live/live.jobs.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct } from "./helpers/factories.js";
import { csrfForPage, csrfFrom, load, signIn } from "./helpers/html.js";
import { liveApi, liveShow, newViewer, type LiveApi } from "./helpers/live.js";
import { TEST_ADDRESS } from "./helpers/orders.js";
import { BROWSER_UA } from "./helpers/post-factories.js";

/**
 * Issue 11, points 1, 7 and 8 through the admin pages: creating a show and
 * its lineup, the host console (go live, next, flash deal, pin, answer a
 * question, end, counters), stats with orders credited through the show's
 * tracked links, reminders when the show starts, and /l/:code landing on the
 * live page.
 */
let t: TestApp;
let api: LiveApi;
let admin: TestAgent;
let csrf: string;
const clock = new Date("2026-12-05T18:00:00Z").getTime();
beforeAll(async () => {
  t = await buildTestApp({ publicUrl: "https://shop.example/shop", now: () => new Date(clock) });
  api = await liveApi(t.app, t.deps);
  const { email, password } = await createAdmin(t.deps);
  admin = request.agent(t.app);
  await signIn(admin, email, password);
  csrf = csrfFrom((await admin.get("/shop/admin/live").expect(200)).text);
});
afterAll(() => t.close());

const noopCtx = { signal: new AbortController().signal, progress: async () => undefined };

describe("admin pages", () => {
  it("creates a show and its lineup through the forms; bad input is shown with the field", async () => {
    const bad = await admin.post("/shop/admin/live").type("form").send({ _csrf: csrf, title: "", platform: "instagram", startsAt: "2026-12-06T18:00" }).expect(400);
    expect(load(bad.text)(".alert--error").text()).toContain("title");
    const created = await admin.post("/shop/admin/live").type("form").send({ _csrf: csrf, title: "Mugs & bowls", hostName: "Ava", platform: "tiktok", startsAt: "2026-12-06T18:00", holdMinutes: "12", code: "mugs-bowls" }).expect(303);
    const setupPath = created.headers.location!.replace(/\?.*$/, "");
    const session = await t.db.liveSession.findUniqueOrThrow({ where: { code: "mugs-bowls" } });
    expect(session).toMatchObject({ title: "Mugs & bowls", platform: "tiktok", holdMinutes: 12, startsAt: new Date("2026-12-06T18:00:00Z") });
    expect(setupPath).toBe(`/shop/admin/live/${session.id}/setup`);

    await createProduct(t.deps, { slug: "blue-bowl", variants: [{ sku: "BOWL-BLUE", priceMinor: 3200 }] });
    const noProduct = await admin.post(`/shop/admin/live/${session.id}/items`).type("form").send({ _csrf: csrf, product: "NOPE", claimCode: "4" }).expect(400);
    expect(load(noProduct.text)(".alert--error").text()).toContain('No product with the SKU or URL slug "NOPE"');
    const badPrice = await admin.post(`/shop/admin/live/${session.id}/items`).type("form").send({ _csrf: csrf, product: "BOWL-BLUE", claimCode: "4", livePrice: "12.345" }).expect(400);
    expect(load(badPrice.text)(".alert--error").text()).toContain("livePrice");
    await admin.post(`/shop/admin/live/${session.id}/items`).type("form").send({ _csrf: csrf, product: "blue-bowl", claimCode: "4", livePrice: "25.00", perBuyerLimit: "2", quantityCap: "" }).expect(303);
    const item = await t.db.liveItem.findFirstOrThrow({ where: { liveSessionId: session.id } });
    expect(item).toMatchObject({ claimCode: "4", livePriceMinor: 2500, perBuyerLimit: 2, quantityCap: null });
    const setup = load((await admin.get(`/shop/admin/live/${session.id}/setup`).expect(200)).text);
    expect(setup(`#lp-${item.id}`).val()).toBe("25.00");
    const list = load((await admin.get("/shop/admin/live").expect(200)).text);
    expect(list(`[data-session="${session.id}"]`).text()).toContain("Mugs & bowls");
  });

  it("runs a show from the host console: go live, next, flash deal, pin, answer a question, end — with live counters", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, {
      start: false,
      items: [
        { claimCode: "1", title: "Teal mug", livePriceMinor: 1500, variants: [{ priceMinor: 2000, stock: 4 }] },
        { claimCode: "2", title: "Oat bowl", variants: [{ priceMinor: 3000, stock: 2 }] },
      ],
    });
    const consolePath = `/shop/admin/live/${session.id}`;
    let $ = load((await admin.get(consolePath).expect(200)).text);
    expect($(".console__start").text()).toBe("Go live");
    await admin.post(`${consolePath}/start`).type("form").send({ _csrf: csrf }).expect(303);
    $ = load((await admin.get(consolePath).expect(200)).text);
    expect($(".console__status .live-badge").text()).toBe("Live now");
    expect($("[data-featured-title]").text()).toBe("Teal mug");
    expect($("[data-next]").text()).toContain("Oat bowl");
    expect($("[data-events]").attr("data-events")).toBe(`${consolePath}/events`);

    await admin.post(`${consolePath}/next`).type("form").send({ _csrf: csrf }).expect(303);
    $ = load((await admin.get(consolePath).expect(200)).text);
    expect($("[data-featured-title]").text()).toBe("Oat bowl");

    // A viewer claims and pays; another asks a question.
    const viewer = await newViewer(t.app, session.code);
    await viewer.claim(items[0]!.id, items[0]!.variants[0]!.id).expect(201);
    const started = await viewer.checkout().expect(303);
    const pay = new URL(started.headers.location!);
    await viewer.agent.post(pay.pathname + pay.search).type("form").send({ _csrf: viewer.csrf, action: "pay", shipping: "standard", ...TEST_ADDRESS }).expect(303);
    await viewer.agent.post(`/shop/live/${session.code}/questions`).type("form").send({ _csrf: viewer.csrf, name: "Mo", text: "Is it dishwasher safe?" }).expect(303);

    $ = load((await admin.get(consolePath).expect(200)).text);
    expect($('[data-counter="claims"]').text()).toBe("1");
    expect($('[data-counter="claimsPaid"]').text()).toBe("1");
    expect($('[data-counter="revenue"]').text()).toBe("$20.00"); // $15.00 live price + $5.00 standard shipping
    expect($(`[data-region=lineup] [data-item="${items[0]!.id}"] [data-item-left]`).text()).toBe("3");
    const question = $("[data-region=questions] li");
    expect(question.text()).toContain("Is it dishwasher safe?");
    await admin.post(question.find("form").first().attr("action")!).type("form").send({ _csrf: csrf, answer: "Yes, top rack." }).expect(303);
    const viewerPage = load((await viewer.agent.get(`/shop/live/${session.code}`).expect(200)).text);
    expect(viewerPage("[data-questions] li").text()).toContain("Yes, top rack.");

    // Flash deal on the featured item, then stop it; a pin.
    const bad = await admin.post(`${consolePath}/flash`).type("form").send({ _csrf: csrf, itemId: items[1]!.id, price: "20.00", seconds: "5", unitCap: "2" }).expect(400);
    expect(load(bad.text)(".alert--error").text()).toContain("seconds");
    await admin.post(`${consolePath}/flash`).type("form").send({ _csrf: csrf, itemId: items[1]!.id, price: "20.00", seconds: "60", unitCap: "2", perBuyerLimit: "1" }).expect(303);
    $ = load((await admin.get(consolePath).expect(200)).text);
    expect($("[data-region=flash]").text()).toContain("$20.00");
    await admin.post(`${consolePath}/flash/stop`).type("form").send({ _csrf: csrf }).expect(303);
    await admin.post(`${consolePath}/pin`).type("form").send({ _csrf: csrf, message: "Use code LIVE10" }).expect(303);
    expect(load((await viewer.agent.get(`/shop/live/${session.code}`).expect(200)).text)("[data-pin]").text()).toBe("Use code LIVE10");

    // A host action the show refuses comes back on the console with the reason.
    const refused = await admin.post(`${consolePath}/feature`).type("form").send({ _csrf: csrf, itemId: "c000000000000000000000000" }).expect(400);
    expect(load(refused.text)(".alert--error").text()).toContain("not in the show's lineup");

    await admin.post(`${consolePath}/end`).type("form").send({ _csrf: csrf }).expect(303);
    $ = load((await admin.get(consolePath).expect(200)).text);
    expect($(".console__status .live-badge").text()).toBe("Replay");
    expect($("[data-next]").length).toBe(0);
  });
});

describe("stats and tracked links", () => {
  it("/l/:code for a live session lands on the live page, and the orders it brings are credited to the show", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "7", title: "Green jug", livePriceMinor: 4000, variants: [{ priceMinor: 5000, stock: 5 }] }, { claimCode: "8", title: "Cup", variants: [{ priceMinor: 1000, stock: 5 }] }] });
    const link = await t.db.shortLink.create({ data: { code: `show-${session.code}`, targetType: "live", liveSessionId: session.id, channel: "tiktok-live" } });
    const agent = request.agent(t.app);
    const click = await agent.get(`/shop/l/${link.code}`).set("User-Agent", BROWSER_UA).expect(302);
    expect(click.headers.location).toBe(`/shop/live/${session.code}`);
    const page = await agent.get(click.headers.location!).set("User-Agent", BROWSER_UA).expect(200);
    const token = await csrfForPage(agent, page);
    await agent.post(`/shop/live/${session.code}/claims`).set("X-CSRF-Token", token).set("Accept", "application/json").send({ itemId: items[0]!.id, variantId: items[0]!.variants[0]!.id, quantity: 2 }).expect(201);
    const started = await agent.post(`/shop/live/${session.code}/checkout`).type("form").send({ _csrf: token }).expect(303);
    const pay = new URL(started.headers.location!);
    await agent.post(pay.pathname + pay.search).type("form").send({ _csrf: token, action: "pay", shipping: "standard", ...TEST_ADDRESS }).expect(303);
    const order = await t.db.order.findFirstOrThrow({ where: { liveSessionId: session.id, status: "paid" } });
    expect(order).toMatchObject({ linkId: link.id, channel: "tiktok-live", subtotalMinor: 8000 });

    // A second viewer claims and lets the hold run out.
    const other = await newViewer(t.app, session.code);
    await other.claim(items[1]!.id, items[1]!.variants[0]!.id).expect(201);

    const stats = (await api.get(`/${session.id}/stats`).expect(200)).body.data;
    expect(stats).toMatchObject({
      viewers: { now: 0, total: 2 },
      claims: { total: 2, paid: 1, heldNow: 1, conversion: 0.5 },
      orders: { count: 1, revenueMinor: 8500 },
      fromLinks: { orders: 1, revenueMinor: 8500 },
    });
    expect(stats.items).toMatchObject([
      { claimCode: "7", title: "Green jug", claims: 1, claimedUnits: 2, paidClaimUnits: 2, unitsSold: 2, revenueMinor: 8000 },
      { claimCode: "8", title: "Cup", claims: 1, claimedUnits: 1, paidClaimUnits: 0, unitsSold: 0, revenueMinor: 0 },
    ]);
    expect(stats.links).toEqual([{ id: link.id, code: link.code, channel: "tiktok-live", clicks: 1, orders: 1, revenueMinor: 8500 }]);
    const $ = load((await admin.get(`/shop/admin/live/${session.id}/stats`).expect(200)).text);
    expect($("#stat-total").text()).toBe("2");
    expect($("#stat-claims").text()).toBe("2");
    expect($("#stat-conversion").text()).toBe("50%");
    expect($("#stat-revenue").text()).toBe("$85.00");
    await api.get("/c000000000000000000000000/stats").expect(404);
  });

  it("reminds everyone who asked, once, when the show starts (a job, in chunks)", async () => {
    const created = await api.create({ title: "Late show", code: "late-show", startsAt: new Date(clock + 3600_000).toISOString() }).expect(201);
    for (const email of ["a@example.com", "b@example.com", "c@example.com"]) {
      const viewer = await newViewer(t.app, "late-show");
      await viewer.agent.post("/shop/live/late-show/remind").type("form").send({ _csrf: viewer.csrf, email }).expect(303);
    }
    const reminders = liveJobs().find((j) => j.name === "live.reminders")!;
    expect(await reminders.run(t.deps, noopCtx)).toBe(0);
    await api.start(created.body.data.id).expect(200);
    expect(await reminders.run(t.deps, noopCtx)).toBe(3);
    expect(await reminders.run(t.deps, noopCtx)).toBe(0);
    const mails = await t.db.outboxEmail.findMany({ where: { template: "live.reminder" }, orderBy: { to: "asc" } });
    expect(mails.map((m) => m.to)).toEqual(["a@example.com", "b@example.com", "c@example.com"]);
    expect(mails[0]).toMatchObject({ subject: "We're live: Late show" });
    expect(mails[0]!.text).toContain("https://shop.example/shop/live/late-show");
    // Remind me once live is refused.
    const viewer = await newViewer(t.app, "late-show");
    await viewer.agent.post("/shop/live/late-show/remind").type("form").send({ _csrf: viewer.csrf, email: "d@example.com" }).expect(409);
  });
});
