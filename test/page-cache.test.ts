import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct, createToken } from "./helpers/factories.js";
import { load } from "./helpers/html.js";
import { liveApi, liveShow, newViewer } from "./helpers/live.js";
import { createPost, createTag } from "./helpers/post-factories.js";

/**
 * Anonymous product, post and gallery pages: cacheable by a CDN (headers,
 * ETag, nothing per-visitor inside) and reused from memory while what they
 * show is unchanged. Every write that changes what they show is visible on
 * the very next request: the cache key is read from the database.
 */

let t: TestApp;
let token: string;
beforeAll(async () => {
  // A fixed public address: supertest starts a server per request, and the address is part of what a page shows.
  t = await buildTestApp({ publicUrl: "https://shop.example/shop" });
  ({ token } = await createToken(t.deps));
});
afterAll(() => t.close());

const api = () => ({ Authorization: `Bearer ${token}` });
const stats = () => ({ ...t.shop.bazaarche.pageCache });
const text = (html: string, selector: string) => load(html)(selector).text().replace(/\s+/g, " ").trim();

describe("anonymous pages for shared caches", () => {
  it("marks the product page public with a short max-age, an ETag and Vary, sets no cookie and carries no CSRF token", async () => {
    const product = await createProduct(t.deps, { title: "Cached Mug", variants: [{ priceMinor: 2000, stock: 5 }] });
    const res = await request(t.app).get(`/shop/p/${product.slug}`).expect(200);
    expect(res.headers["cache-control"]).toBe("public, max-age=10, stale-while-revalidate=30");
    expect(res.headers.vary).toMatch(/Accept-Encoding/);
    expect(res.headers.vary).toMatch(/Cookie/);
    expect(res.headers.etag).toMatch(/^W\/"/);
    expect(res.headers["set-cookie"]).toBeUndefined();
    const $ = load(res.text);
    expect($('meta[name="csrf-token"]').attr("content")).toBe("");
    expect($('meta[name="csrf-token"]').attr("data-session")).toBe("/shop/session.json");
    expect($('form.add-to-cart input[name="_csrf"]').val()).toBe("");

    // Revalidation: the same page answers 304 without a body.
    const again = await request(t.app).get(`/shop/p/${product.slug}`).set("If-None-Match", res.headers.etag!).expect(304);
    expect(again.text).toBe("");
  });

  it("gives the visitor the CSRF token through session.json, and a form posted with it adds to the cart", async () => {
    const product = await createProduct(t.deps, { title: "Token Bowl", variants: [{ priceMinor: 1500, stock: 3 }] });
    const agent = request.agent(t.app);
    const page = await agent.get(`/shop/p/${product.slug}`).expect(200);
    expect(page.headers["set-cookie"]).toBeUndefined();
    const session = await agent.get("/shop/session.json").expect(200);
    expect(session.headers["cache-control"]).toBe("no-store");
    expect(String(session.headers["set-cookie"])).toMatch(/bz_csrf=/);
    const csrf = session.body.csrfToken as string;
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    await agent.post("/shop/cart/items").type("form").send({ _csrf: csrf, variantId: product.variants[0]!.id, quantity: "1" }).expect(303);
    // Now the visitor has a cart: their pages are private, rendered for them, with their count and token.
    const mine = await agent.get(`/shop/p/${product.slug}`).expect(200);
    expect(mine.headers["cache-control"]).toBe("private, no-cache");
    expect(load(mine.text)('meta[name="csrf-token"]').attr("content")).toBe(csrf);
    expect(text(mine.text, ".cart-link")).toContain("1");
  });

  it("without JavaScript, the first form from a cached page is accepted when the browser says it came from this site, and only then", async () => {
    const product = await createProduct(t.deps, { title: "No-JS Jug", variants: [{ priceMinor: 1200, stock: 9 }] });
    const variantId = product.variants[0]!.id;
    const page = await request(t.app).get(`/shop/p/${product.slug}`).expect(200);
    expect(page.headers["set-cookie"]).toBeUndefined();
    const form = { _csrf: "", variantId, quantity: "1" };
    // What a browser sends for a form of this site: Sec-Fetch-Site, or (older browsers) an Origin of the same site.
    const sameSite = await request(t.app).post("/shop/cart/items").set("Sec-Fetch-Site", "same-origin").type("form").send(form).expect(303);
    expect(String(sameSite.headers["set-cookie"])).toMatch(/bz_csrf=/);
    expect(String(sameSite.headers["set-cookie"])).toMatch(/bz_cart=/);
    // A cross-site form, one from a sandboxed frame (Origin: null), a foreign Origin, or no word at all: refused.
    for (const headers of [{ "Sec-Fetch-Site": "cross-site" }, { "Sec-Fetch-Site": "same-site" }, { Origin: "null" }, { Origin: "https://evil.example" }, {}]) {
      const res = await request(t.app).post("/shop/cart/items").set(headers).type("form").send(form);
      expect(res.status, JSON.stringify(headers)).toBe(403);
    }
    // A visitor who already has the cookie needs its token: the browser's word does not replace it.
    const agent = request.agent(t.app);
    await agent.get("/shop/session.json").expect(200);
    await agent.post("/shop/cart/items").set("Sec-Fetch-Site", "same-origin").type("form").send(form).expect(403);
  });

  it("keeps a page chosen by ?lang= (which sets the language cookie) out of shared caches", async () => {
    const product = await createProduct(t.deps, { title: "Lang Cup", titleFa: "فنجان", variants: [{ priceMinor: 1000, stock: 2 }] });
    const res = await request(t.app).get(`/shop/p/${product.slug}?lang=fa`).expect(200);
    expect(res.headers["cache-control"]).toBe("private, no-cache");
    expect(load(res.text)("html").attr("dir")).toBe("rtl");
    // The cookie alone picks the language; Vary: Cookie keeps the two apart in a CDN.
    const fa = await request(t.app).get(`/shop/p/${product.slug}`).set("Cookie", "bz_lang=fa").expect(200);
    expect(fa.headers["cache-control"]).toBe("public, max-age=10, stale-while-revalidate=30");
    expect(load(fa.text)("h1").text()).toBe("فنجان");
    const en = await request(t.app).get(`/shop/p/${product.slug}`).expect(200);
    expect(load(en.text)("h1").text()).toBe("Lang Cup");
  });
});

describe("the in-process page cache", () => {
  it("renders a burst of requests for one page once", async () => {
    const product = await createProduct(t.deps, { title: "Burst Vase", variants: [{ priceMinor: 3000, stock: 9 }] });
    const before = stats();
    const answers = await Promise.all(Array.from({ length: 12 }, () => request(t.app).get(`/shop/p/${product.slug}`)));
    for (const res of answers) expect(res.status).toBe(200);
    const after = stats();
    expect(after.renders - before.renders).toBe(1);
    expect(after.hits - before.hits).toBe(11);
    // The same bytes for everyone: no per-request nonce or token in a cached page.
    for (const res of answers) {
      expect(res.text).toBe(answers[0]!.text);
      expect(res.headers["content-security-policy"]).not.toContain("nonce");
    }
    expect(load(answers[0]!.text)('script[type="application/ld+json"]').length).toBe(1);
  });

  it("shows a price change, a stock change, a hold and a new rating on the next request", async () => {
    const product = await createProduct(t.deps, { title: "Live Price Lamp", variants: [{ sku: "LPL-1", priceMinor: 4000, stock: 2 }] });
    const path = `/shop/p/${product.slug}`;
    const page = async () => (await request(t.app).get(path).expect(200)).text;
    expect(text(await page(), ".price")).toContain("$40.00");

    await request(t.app).patch(`/shop/api/v1/variants/${product.variants[0]!.id}`).set(api()).send({ priceMinor: 3500 }).expect(200);
    expect(text(await page(), ".price")).toContain("$35.00");

    // Stock changed in SQL without touching updatedAt, as checkout does.
    await t.db.$executeRaw`UPDATE "Variant" SET "stock" = 0 WHERE "id" = ${product.variants[0]!.id}`;
    expect(await page()).toContain("Sold out");
    await t.db.$executeRaw`UPDATE "Variant" SET "stock" = 1 WHERE "id" = ${product.variants[0]!.id}`;
    expect(await page()).not.toContain("Sold out");
    // A hold on the last one (someone is paying for it) makes it unavailable to others.
    const hold = await t.db.stockHold.create({ data: { variantId: product.variants[0]!.id, quantity: 1, status: "active", expiresAt: new Date(Date.now() + 600_000) } });
    expect(await page()).toContain("Sold out");
    await t.db.stockHold.update({ where: { id: hold.id }, data: { status: "released" } });
    expect(await page()).not.toContain("Sold out");

    const review = await t.db.review.create({ data: { productId: product.id, rating: 4, displayName: "Sara", body: "Lovely light." } });
    expect(load(await page())(".product__rating").length).toBe(0);
    await request(t.app).post(`/shop/api/v1/reviews/${review.id}/publish`).set(api()).send({}).expect(200);
    const rated = await page();
    expect(text(rated, ".product__rating")).toMatch(/4(\.0)?/);
    expect(rated).toContain("Lovely light.");
  });

  it("shows a new or moved tag and a tagged product's price change at once on the post page, its card and the gallery", async () => {
    const product = await createProduct(t.deps, { title: "Tagged Throw", variants: [{ priceMinor: 5000, stock: 4 }] });
    const other = await createProduct(t.deps, { title: "Second Throw", variants: [{ priceMinor: 2500, stock: 4 }] });
    const post = await createPost(t.deps, { caption: "Cached post" });
    const tag = await createTag(t.deps, { postId: post.id, productId: product.id, x: 0.2, y: 0.2 });
    const postPage = async () => load((await request(t.app).get(`/shop/posts/${post.id}`).expect(200)).text);
    const card = async () => load((await request(t.app).get(`/shop/posts/${post.id}/card`).expect(200)).text);
    const galleryBadge = async () => text((await request(t.app).get("/shop/gallery").expect(200)).text, `[data-post="${post.id}"] .bio-tile__badge`);
    expect((await postPage())(".tag-card").length).toBe(1);
    expect(await galleryBadge()).toBe("1 product");

    await request(t.app).post(`/shop/api/v1/posts/${post.id}/tags`).set(api()).send({ productId: other.id, x: 0.6, y: 0.6 }).expect(201);
    expect((await postPage())(".tag-card").length).toBe(2);
    expect((await card())(".tag-card").length).toBe(2);
    expect(await galleryBadge()).toBe("2 products");

    await request(t.app).patch(`/shop/api/v1/posts/${post.id}/tags/${tag.id}`).set(api()).send({ x: 0.5 }).expect(200);
    expect((await postPage())(`.hotspot[href="#tag-${tag.id}"]`).attr("data-x")).toBe("0.5");
    expect((await card())(`.hotspot[href="#tag-${tag.id}"]`).attr("data-x")).toBe("0.5");

    await request(t.app).patch(`/shop/api/v1/variants/${product.variants[0]!.id}`).set(api()).send({ priceMinor: 4200 }).expect(200);
    expect((await card())(`#tag-${tag.id}`).text()).toContain("$42.00");
  });

  it("renders every time with pageCache: false, with the same public headers", async () => {
    const off = await buildTestApp({ pageCache: false });
    try {
      const product = await createProduct(off.deps, { title: "Uncached Jug" });
      for (let i = 0; i < 3; i++) {
        const res = await request(off.app).get(`/shop/p/${product.slug}`).expect(200);
        expect(res.headers["cache-control"]).toBe("public, max-age=10, stale-while-revalidate=30");
      }
      expect(off.shop.bazaarche.pageCache).toEqual({ renders: 0, hits: 0, versionReads: 0 });
    } finally {
      await off.close();
    }
  });
});

describe("a live show's page", () => {
  it("is one page for every first visitor, rendered once per version; a claim, the next item, a pin, a flash deal, a price and an item edit show on the next request", async () => {
    const live = await liveApi(t.app, t.deps);
    const { session, items } = await liveShow(t.app, t.deps, live, { items: [{ claimCode: "1", title: "Glaze Mug", variants: [{ priceMinor: 2000, stock: 5 }] }, { claimCode: "2", title: "Glaze Bowl", variants: [{ priceMinor: 3000, stock: 3 }] }] });
    const path = `/shop/live/${session.code}`;
    const before = stats();
    const answers = await Promise.all(Array.from({ length: 8 }, () => request(t.app).get(path)));
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.headers["cache-control"]).toBe("public, max-age=10, stale-while-revalidate=30");
      expect(res.headers.vary).toMatch(/Cookie/);
      expect(res.headers["set-cookie"]).toBeUndefined();
      expect(res.text).toBe(answers[0]!.text);
    }
    expect(stats().renders - before.renders).toBe(1);
    const first = load(answers[0]!.text);
    expect(first('input[name="_csrf"]').first().val()).toBe("");
    expect(first("[data-live]").attr("data-seq")).toMatch(/^\d+$/);

    const page = async () => load((await request(t.app).get(path).expect(200)).text);
    const left = ($: ReturnType<typeof load>, itemId: string) => $(`article[data-item="${itemId}"] [data-left]`).text().trim();
    const onStage = ($: ReturnType<typeof load>) => $("article[data-item]:not([hidden])").attr("data-item");
    expect(left(await page(), items[0]!.id)).toBe("5 left");

    // A viewer claims two: the next first visitor sees 3 left.
    const viewer = await newViewer(t.app, session.code);
    await viewer.claim(items[0]!.id, items[0]!.variants[0]!.id, 2).expect(201);
    expect(left(await page(), items[0]!.id)).toBe("3 left");
    // The viewer, now with cookies, gets their own page, never a shared one.
    const own = await viewer.agent.get(path).expect(200);
    expect(own.headers["cache-control"]).toBe("no-store");
    expect(load(own.text)("[data-you-box]").attr("hidden")).toBeUndefined();

    // The host moves on, pins a message, starts a flash deal, edits the live price.
    await live.feature(session.id, items[1]!.id).expect(200);
    expect(onStage(await page())).toBe(items[1]!.id);
    await live.post(`/${session.id}/pin`, { message: "Free shipping tonight" }).expect(200);
    expect((await page())("[data-pin]").text()).toBe("Free shipping tonight");
    await live.post(`/${session.id}/flash`, { itemId: items[1]!.id, priceMinor: 1500, unitCap: 2, seconds: 60 }).expect(201);
    expect((await page())(`article[data-item="${items[1]!.id}"] [data-flash]`).attr("hidden")).toBeUndefined();
    await live.patch(`/${session.id}/items/${items[1]!.id}`, { livePriceMinor: 2500 }).expect(200);
    expect((await page())(`article[data-item="${items[1]!.id}"]`).text()).toContain("$25.00");
    // Stock changed outside the show (an admin edit, another channel's sale).
    await t.db.variant.update({ where: { id: items[1]!.variants[0]!.id }, data: { stock: 1 } });
    expect(left(await page(), items[1]!.id)).toMatch(/^1 left/);
  });
});
