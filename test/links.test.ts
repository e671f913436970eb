import { flushEvents } from "../src/analytics/events.js";
import type { Readable } from "node:stream";
import jsQRModule from "jsqr";
import sharp from "sharp";
import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct, createToken } from "./helpers/factories.js";
import { cookieNamed, csrfFrom, load, signIn } from "./helpers/html.js";
import { BROWSER_UA, createLink, createLiveSession, createPost } from "./helpers/post-factories.js";

let t: TestApp;
let agent: TestAgent;
let csrf: string;
let auth: { Authorization: string };
beforeAll(async () => {
  t = await buildTestApp({ publicUrl: "https://shop.example/shop" });
  const { email, password } = await createAdmin(t.deps);
  agent = request.agent(t.app);
  await signIn(agent, email, password);
  csrf = csrfFrom((await agent.get("/shop/admin/links").expect(200)).text);
  auth = { Authorization: `Bearer ${(await createToken(t.deps)).token}` };
});
afterAll(() => t.close());

// jsqr is a CommonJS bundle with an ES-style default export: depending on the
// loader the decoder is the import itself or its .default.
const jsQR = (jsQRModule as unknown as { default?: typeof jsQRModule.default }).default ?? (jsQRModule as unknown as typeof jsQRModule.default);

/** supertest leaves image/svg+xml bodies unread; this keeps them as text. */
const asText = (res: request.Response, done: (err: Error | null, body: string) => void) => {
  // In Node, superagent hands the parser the response stream itself.
  const stream = res as unknown as Readable;
  let text = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => (text += chunk));
  stream.on("end", () => done(null, text));
};

const click = (code: string, headers: Record<string, string> = { "User-Agent": BROWSER_UA }) => request(t.app).get(`/shop/l/${code}`).set(headers);
// Analytics events are buffered off the request path: write them before counting.
const clicksOf = async (linkId: string) => (await flushEvents(t.deps), {
  counter: (await t.db.shortLink.findUniqueOrThrow({ where: { id: linkId } })).clickCount,
  rows: await t.db.linkClick.count({ where: { linkId } }),
  events: await t.db.analyticsEvent.count({ where: { linkId, type: "link_click" } }),
});

describe("the /l/:code redirect", () => {
  it("sends a shopper to the product with UTM parameters, counts the click and sets the attribution cookie", async () => {
    const product = await createProduct(t.deps, { title: "Linked Lamp", slug: "linked-lamp" });
    const link = await createLink(t.deps, { code: "lamp-story", targetType: "product", productId: product.id, channel: "instagram-story", utmSource: "instagram", utmCampaign: "autumn sale" });
    const res = await click("lamp-story").set("Referer", "https://l.instagram.com/?u=secret-path").expect(302);
    expect(res.headers.location).toBe("/shop/p/linked-lamp?utm_source=instagram&utm_campaign=autumn+sale");
    expect(res.headers["cache-control"]).toBe("no-store");
    const cookie = cookieNamed(res, "bz_attr")!;
    expect(cookie).toMatch(/^bz_attr=[a-z0-9]+\.[A-Za-z0-9_-]{32};/);
    expect(cookie).toContain("Path=/shop;");
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).toContain("Max-Age=604800");
    // No CSRF cookie: the redirect sits before the CSRF middleware.
    expect(cookieNamed(res, "bz_csrf")).toBeUndefined();

    expect(await clicksOf(link.id)).toEqual({ counter: 1, rows: 1, events: 1 });
    const row = await t.db.linkClick.findFirstOrThrow({ where: { linkId: link.id } });
    expect(row.referrer).toBe("l.instagram.com");
    expect(cookie).toContain(`bz_attr=${row.id}.${row.visitorId};`);
    await flushEvents(t.deps);
    const event = await t.db.analyticsEvent.findFirstOrThrow({ where: { linkId: link.id } });
    expect(event).toMatchObject({ type: "link_click", productId: product.id, channel: "instagram-story", visitorId: row.visitorId });
    expect(JSON.parse(event.meta)).toMatchObject({ code: "lamp-story", utmSource: "instagram", utmCampaign: "autumn sale" });
  });

  it("redirects link previews, crawlers, HEAD and prefetches without counting them or setting a cookie", async () => {
    const product = await createProduct(t.deps);
    const link = await createLink(t.deps, { code: "bot-proof", targetType: "product", productId: product.id });
    const agents = [
      "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
      "Twitterbot/1.0",
      "TelegramBot (like TwitterBot)",
      "WhatsApp/2.23.20.0 A",
      "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
      "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
      "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
      "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
      "SomeCrawler/3.1",
      "my-spider 0.1",
      "Mozilla/5.0 LinkPreview/1.0",
      "",
    ];
    for (const ua of agents) {
      const res = await click("bot-proof", { "User-Agent": ua }).expect(302);
      expect(cookieNamed(res, "bz_attr"), ua).toBeUndefined();
    }
    await request(t.app).head("/shop/l/bot-proof").set("User-Agent", BROWSER_UA).expect(302);
    for (const [name, value] of [
      ["Purpose", "prefetch"],
      ["Sec-Purpose", "prefetch;prerender"],
      ["Sec-Purpose", "prefetch"],
      ["X-Purpose", "preview"],
    ]) {
      const res = await click("bot-proof", { "User-Agent": BROWSER_UA, [name!]: value! }).expect(302);
      expect(cookieNamed(res, "bz_attr"), name).toBeUndefined();
    }
    expect(await clicksOf(link.id)).toEqual({ counter: 0, rows: 0, events: 0 });
    // A phone whose model name merely contains "bot" is a person.
    await click("bot-proof", { "User-Agent": "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36" }).expect(302);
    expect((await clicksOf(link.id)).counter).toBe(1);
  });

  it("opens a post, a collection (its gallery), a live session and an in-shop page; a removed target falls back", async () => {
    const post = await createPost(t.deps);
    const collection = await t.db.collection.create({ data: { slug: "ceramics-links", title: "Ceramics" } });
    const live = await createLiveSession(t.deps, { code: "friday-show" });
    const archived = await createProduct(t.deps, { status: "archived" });
    const cases: [Parameters<typeof createLink>[1], string][] = [
      [{ targetType: "post", postId: post.id }, `/shop/posts/${post.id}`],
      [{ targetType: "collection", collectionId: collection.id }, "/shop/gallery?collection=ceramics-links"],
      [{ targetType: "live", liveSessionId: live.id }, "/shop/live/friday-show"],
      [{ targetType: "page", path: "/gallery?available=1" }, "/shop/gallery?available=1"],
      [{ targetType: "product", productId: archived.id }, "/shop/"],
      // A row edited by hand to point away from the shop is not followed.
      [{ targetType: "page", path: "//evil.example/phish" }, "/shop/"],
      [{ targetType: "page", path: "https://evil.example/" }, "/shop/"],
    ];
    for (const [input, location] of cases) {
      const link = await createLink(t.deps, input);
      const res = await click(link.code).expect(302);
      expect(res.headers.location, JSON.stringify(input)).toBe(location);
    }
  });

  it("answers 404 for unknown or malformed codes, and finds codes whatever their case", async () => {
    await click("no-such-code").expect(404);
    await click("%2F%2Fevil.example").expect(404);
    await click("a").expect(404);
    const product = await createProduct(t.deps, { slug: "case-test" });
    await createLink(t.deps, { code: "spring-drop", targetType: "product", productId: product.id });
    expect((await click("Spring-Drop").expect(302)).headers.location).toBe("/shop/p/case-test");
  });
});

describe("admin link pages", () => {
  it("create a link for a product by SKU with a random code, show its clicks and QR code", async () => {
    const product = await createProduct(t.deps, { title: "QR Kettle", variants: [{ sku: "QR-KETTLE" }] });
    const res = await agent
      .post("/shop/admin/links")
      .type("form")
      .send({ _csrf: csrf, targetType: "product", product: "QR-KETTLE", channel: "Print", hostName: "Sara", utmSource: "flyer", code: "" })
      .expect(303);
    const id = res.headers.location!.match(/\/admin\/links\/(\w+)\?created=1$/)![1]!;
    const link = await t.db.shortLink.findUniqueOrThrow({ where: { id } });
    expect(link).toMatchObject({ targetType: "product", productId: product.id, channel: "print", hostName: "Sara", utmSource: "flyer" });
    expect(link.code).toMatch(/^[2-9a-hjkmnp-z]{10}$/);

    await click(link.code).expect(302);
    await click(link.code).expect(302);
    const page = load((await agent.get(`/shop/admin/links/${id}?created=1`).expect(200)).text);
    expect(page("#click-count").text()).toBe("2");
    expect(page(".short-url").text()).toBe(`https://shop.example/shop/l/${link.code}`);
    expect(page(".link-qr__img").attr("src")).toBe(`/shop/admin/links/${id}/qr.svg`);
    const list = load((await agent.get("/shop/admin/links").expect(200)).text);
    expect(list(`tr[data-code="${link.code}"] .click-count`).text()).toBe("2");
    expect(list(`tr[data-code="${link.code}"]`).text()).toContain("QR Kettle");

    // The QR code a phone reads is the absolute short link.
    const svg = await agent.get(`/shop/admin/links/${id}/qr.svg`).buffer(true).parse(asText).expect(200).expect("Content-Type", /image\/svg\+xml/);
    const svgText = svg.body as string;
    expect(svgText).toMatch(/^<svg[^>]*viewBox/);
    const png = await agent.get(`/shop/admin/links/${id}/qr.png?download=1`).buffer(true).expect(200).expect("Content-Type", "image/png");
    expect(png.headers["content-disposition"]).toBe(`attachment; filename="bazaarche-${link.code}.png"`);
    const { data, info } = await sharp(png.body as Buffer).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(jsQR(new Uint8ClampedArray(data), info.width, info.height)?.data).toBe(`https://shop.example/shop/l/${link.code}`);
    const svgPixels = await sharp(Buffer.from(svgText)).resize(600).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(jsQR(new Uint8ClampedArray(svgPixels.data), svgPixels.info.width, svgPixels.info.height)?.data).toBe(`https://shop.example/shop/l/${link.code}`);
  });

  it("refuse a taken code, a missing target, an unsafe path and unknown fields, naming the field and writing nothing", async () => {
    const product = await createProduct(t.deps, { variants: [{ sku: "TAKEN-CODE-P" }] });
    await createLink(t.deps, { code: "taken-code", targetType: "product", productId: product.id });
    const before = await t.db.shortLink.count();
    const cases: [Record<string, string>, string, string, number][] = [
      [{ targetType: "product", product: "TAKEN-CODE-P", code: "taken-code", channel: "tiktok" }, "#link-code-error", "/l/taken-code is already used", 409],
      [{ targetType: "product", product: "NOPE-SKU", channel: "tiktok" }, "#link-product-error", 'No product with the SKU or URL slug "NOPE-SKU"', 400],
      [{ targetType: "product", product: "", channel: "tiktok" }, "#link-product-error", "needs productId", 400],
      [{ targetType: "post", postId: "c000000000000000000000000", channel: "tiktok" }, "#link-post-error", "no post with id", 400],
      [{ targetType: "live", liveSessionId: "c000000000000000000000000", channel: "live" }, "#link-live-error", "no live session with id", 400],
      [{ targetType: "page", path: "https://evil.example/", channel: "tiktok" }, "#link-path-error", "not a full web address", 400],
      [{ targetType: "page", path: "//evil.example", channel: "tiktok" }, "#link-path-error", "could lead to another site", 400],
      [{ targetType: "page", path: "/\\evil.example", channel: "tiktok" }, "#link-path-error", "could lead to another site", 400],
      [{ targetType: "page", path: "/gallery/../admin", channel: "tiktok" }, "#link-path-error", "Write the path plainly", 400],
      [{ targetType: "page", path: "/admin/tokens", channel: "tiktok" }, "#link-path-error", "not a shopper page", 400],
      [{ targetType: "page", path: "/l/taken-code", channel: "tiktok" }, "#link-path-error", "not a shopper page", 400],
      [{ targetType: "product", product: "TAKEN-CODE-P", code: "-bad", channel: "tiktok" }, "#link-code-error", "lower-case letters", 400],
      [{ targetType: "product", product: "TAKEN-CODE-P", channel: "" }, "#link-channel-error", "Say where the link is shared", 400],
      [{ targetType: "product", product: "TAKEN-CODE-P", channel: "tiktok", clicks: "500" }, "#form-problems", "clicks", 400],
    ];
    for (const [fields, selector, message, status] of cases) {
      const res = await agent.post("/shop/admin/links").type("form").send({ _csrf: csrf, ...fields });
      expect(res.status, JSON.stringify(fields)).toBe(status);
      expect(load(res.text)(selector).text(), JSON.stringify(fields)).toContain(message);
    }
    // What was typed is kept.
    const res = await agent.post("/shop/admin/links").type("form").send({ _csrf: csrf, targetType: "page", path: "//evil.example", channel: "tiktok", hostName: "Nima" }).expect(400);
    expect(load(res.text)("#link-path").val()).toBe("//evil.example");
    expect(load(res.text)("#link-host").val()).toBe("Nima");
    expect(await t.db.shortLink.count()).toBe(before);
  });

  it("edit the tracking labels and archive a link, which keeps redirecting", async () => {
    const product = await createProduct(t.deps, { slug: "archived-link-target" });
    const link = await createLink(t.deps, { code: "old-flyer", targetType: "product", productId: product.id });
    await agent.post(`/shop/admin/links/${link.id}`).type("form").send({ _csrf: csrf, channel: "print", hostName: "", utmSource: "flyer", utmMedium: "", utmCampaign: "", utmContent: "" }).expect(303);
    const bad = await agent.post(`/shop/admin/links/${link.id}`).type("form").send({ _csrf: csrf, channel: "print", code: "new-code" }).expect(400);
    expect(load(bad.text)("#form-problems").text()).toContain("code");
    await agent.post(`/shop/admin/links/${link.id}/archive`).type("form").send({ _csrf: csrf }).expect(303);
    expect(await t.db.shortLink.findUniqueOrThrow({ where: { id: link.id } })).toMatchObject({ channel: "print", utmSource: "flyer", code: "old-flyer" });
    const active = load((await agent.get("/shop/admin/links").expect(200)).text);
    expect(active('tr[data-code="old-flyer"]').length).toBe(0);
    const archived = load((await agent.get("/shop/admin/links?archived=1").expect(200)).text);
    expect(archived('tr[data-code="old-flyer"]').length).toBe(1);
    expect((await click("old-flyer").expect(302)).headers.location).toBe("/shop/p/archived-link-target?utm_source=flyer");
  });

  it("pre-fill the new-link form from a post", async () => {
    const post = await createPost(t.deps, { caption: "Prefill me" });
    const page = load((await agent.get(`/shop/admin/links?postId=${post.id}`).expect(200)).text);
    expect(page('input[name="targetType"][value="post"]').attr("checked")).toBe("checked");
    expect(page(`#link-post option[value="${post.id}"]`).attr("selected")).toBe("selected");
  });
});

describe("/api/v1/links", () => {
  it("creates, lists, reads and edits links; refuses unsafe or missing targets and changes of code", async () => {
    const post = await createPost(t.deps);
    const live = await createLiveSession(t.deps);
    const product = await createProduct(t.deps);
    const created = await request(t.app)
      .post("/shop/api/v1/links")
      .set(auth)
      .send({ targetType: "product", productId: product.id, liveSessionId: live.id, channel: "tiktok-live", hostName: "Ava", code: "ava-live" })
      .expect(201);
    expect(created.body.data).toMatchObject({ code: "ava-live", shortUrl: "https://shop.example/shop/l/ava-live", liveSessionId: live.id, clickCount: 0, orders: 0 });
    const id = created.body.data.id as string;
    const list = await request(t.app).get("/shop/api/v1/links?limit=100").set(auth).expect(200);
    expect(list.body.data.map((l: { code: string }) => l.code)).toContain("ava-live");
    await request(t.app).patch(`/shop/api/v1/links/${id}`).set(auth).send({ utmCampaign: "friday" }).expect(200);
    await request(t.app).patch(`/shop/api/v1/links/${id}`).set(auth).send({ code: "other" }).expect(400);
    await request(t.app).patch(`/shop/api/v1/links/${id}`).set(auth).send({ productId: post.id }).expect(400);
    const qr = await request(t.app).get(`/shop/api/v1/links/${id}/qr.svg`).set(auth).expect(200);
    expect(qr.headers["content-type"]).toContain("image/svg+xml");

    const before = await t.db.shortLink.count();
    const bad: [Record<string, unknown>, string, number][] = [
      [{ targetType: "post", postId: "c000000000000000000000000", channel: "x" }, "postId", 400],
      [{ targetType: "collection", collectionId: "c000000000000000000000000", channel: "x" }, "collectionId", 400],
      [{ targetType: "live", liveSessionId: "c000000000000000000000000", channel: "x" }, "liveSessionId", 400],
      [{ targetType: "page", path: "javascript:alert(1)", channel: "x" }, "path", 400],
      [{ targetType: "page", path: "/%2F%2Fevil.example", channel: "x" }, "path", 400],
      [{ targetType: "product", productId: product.id, path: "/gallery", channel: "x" }, "path", 400],
      [{ targetType: "product", productId: product.id, code: "ava-live", channel: "x" }, "code", 409],
      [{ targetType: "product", productId: product.id, channel: "x", clickCount: 9 }, "clickCount", 400],
    ];
    for (const [body, field, status] of bad) {
      const res = await request(t.app).post("/shop/api/v1/links").set(auth).send(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(JSON.stringify(res.body.error.details), JSON.stringify(body)).toContain(field);
    }
    expect(await t.db.shortLink.count()).toBe(before);
  });
});
