import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { setCookies } from "./helpers/html.js";
import { createPost, createTag } from "./helpers/post-factories.js";

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ publicUrl: "https://shop.example/shop" });
});
afterAll(() => t.close());

describe("embeddable gallery", () => {
  it("serves the script and its stylesheet so any site can load them, without cookies", async () => {
    const js = await request(t.app).get("/shop/embed/gallery.js").set("Origin", "https://blog.example").expect(200);
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(js.headers["cross-origin-resource-policy"]).toBe("cross-origin");
    expect(js.headers["access-control-allow-origin"]).toBe("*");
    expect(setCookies(js)).toEqual([]);
    // Written for strict host CSPs: no eval, no inline handlers or style attributes, text set as text.
    expect(js.text).not.toMatch(/\beval\(|new Function|innerHTML|insertAdjacentHTML|setAttribute\("style"|\.cssText/);
    expect(js.text).toContain("attachShadow");
    const css = await request(t.app).get("/shop/embed/gallery.css").expect(200);
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
    expect(css.headers["access-control-allow-origin"]).toBe("*");
  });

  it("answers /embed/gallery.json cross-origin (GET only, no credentials, no cookies) with live prices and absolute URLs", async () => {
    const product = await createProduct(t.deps, { title: "Embed Bowl", titleFa: "کاسهٔ جاسازی", variants: [{ priceMinor: 3100, stock: 4 }], image: true });
    const post = await createPost(t.deps, { caption: "Embedded post" });
    const tag = await createTag(t.deps, { postId: post.id, productId: product.id, x: 0.3, y: 0.6 });

    const res = await request(t.app).get("/shop/embed/gallery.json?limit=60").set("Origin", "https://blog.example").set("Cookie", "bz_lang=fa").expect(200);
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    expect(res.headers["access-control-allow-credentials"]).toBeUndefined();
    expect(res.headers["cache-control"]).toBe("public, no-cache");
    expect(res.headers.etag).toBeTruthy();
    expect(setCookies(res)).toEqual([]);
    expect(res.body).toMatchObject({ lang: "en", dir: "ltr", shop: { name: "Test Shop", url: "https://shop.example/shop/gallery" } });
    const item = res.body.posts.find((p: { id: string }) => p.id === post.id);
    expect(item).toMatchObject({ url: `https://shop.example/shop/posts/${post.id}`, caption: "Embedded post", platformLabel: "Instagram", shopLabel: "1 product" });
    expect(item.image.src).toMatch(/^https:\/\/shop\.example\/shop\/media\/[0-9a-f]{32}-640\.webp$/);
    expect(item.tags).toEqual([
      expect.objectContaining({ id: tag.id, x: 0.3, y: 0.6, title: "Embed Bowl", price: "$31.00", soldOut: false, stock: "In stock", url: `https://shop.example/shop/p/${product.slug}` }),
    ]);

    // Same request after a price change: the new price, no stale copy.
    await t.db.variant.update({ where: { id: product.variants[0]!.id }, data: { priceMinor: 2800 } });
    const again = await request(t.app).get("/shop/embed/gallery.json?limit=60").set("If-None-Match", res.headers.etag as string).expect(200);
    expect(again.body.posts.find((p: { id: string }) => p.id === post.id).tags[0].price).toBe("$28.00");

    const fa = await request(t.app).get("/shop/embed/gallery.json?lang=fa&limit=60").expect(200);
    expect(fa.body).toMatchObject({ lang: "fa", dir: "rtl" });
    expect(fa.body.posts.find((p: { id: string }) => p.id === post.id).tags[0].title).toBe("کاسهٔ جاسازی");
  });

  it("honours limit and the in-stock filter", async () => {
    const soldOut = await createProduct(t.deps, { variants: [{ stock: 0 }] });
    const post = await createPost(t.deps, { caption: "Only sold-out things" });
    await createTag(t.deps, { postId: post.id, productId: soldOut.id });
    const all = await request(t.app).get("/shop/embed/gallery.json?limit=60").expect(200);
    expect(all.body.posts.map((p: { id: string }) => p.id)).toContain(post.id);
    const inStock = await request(t.app).get("/shop/embed/gallery.json?limit=60&available=1").expect(200);
    expect(inStock.body.posts.map((p: { id: string }) => p.id)).not.toContain(post.id);
    const one = await request(t.app).get("/shop/embed/gallery.json?limit=1").expect(200);
    expect(one.body.posts).toHaveLength(1);
  });

  it("answers a preflight, and refuses other methods with 405", async () => {
    const pre = await request(t.app).options("/shop/embed/gallery.json").set("Origin", "https://blog.example").set("Access-Control-Request-Method", "GET").expect(204);
    expect(pre.headers["access-control-allow-origin"]).toBe("*");
    expect(pre.headers["access-control-allow-methods"]).toBe("GET, HEAD");
    const post = await request(t.app).post("/shop/embed/gallery.json").set("Accept", "application/json").send({}).expect(405);
    expect(post.headers.allow).toBe("GET, HEAD, OPTIONS");
  });

  it("lets other sites show the photos, while the shop's own pages keep their strict CSP", async () => {
    const product = await createProduct(t.deps, { image: true });
    const image = await t.db.productImage.findFirstOrThrow({ where: { productId: product.id }, include: { media: true } });
    const media = await request(t.app).get(`/shop/media/${image.media.storageKey}-320.webp`).expect(200);
    expect(media.headers["cross-origin-resource-policy"]).toBe("cross-origin");
    const gallery = await request(t.app).get("/shop/gallery").expect(200);
    const csp = gallery.headers["content-security-policy"] as string;
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(gallery.headers["cross-origin-resource-policy"]).toBe("same-origin");
    // Our pages carry no inline style attributes or handlers for the CSP to block.
    expect(gallery.text).not.toMatch(/\sstyle=|\son[a-z]+=/);
  });
});
