import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct, createToken } from "./helpers/factories.js";
import { load } from "./helpers/html.js";
import { createPost, createTag } from "./helpers/post-factories.js";
import { buildCountingTestApp } from "./helpers/query-count.js";

let t: TestApp;
let token: string;
beforeAll(async () => {
  t = await buildTestApp({ publicUrl: "https://shop.example/shop" });
  ({ token } = await createToken(t.deps));
});
afterAll(() => t.close());

const api = () => ({ Authorization: `Bearer ${token}` });

/** The tag card of one tag on a public page. */
async function cardOn(path: string, tagId: string) {
  const res = await request(t.app).get(path).expect(200);
  const $ = load(res.text);
  const card = $(`#tag-${tagId}`);
  return { $, card, exists: card.length > 0, text: card.text().replace(/\s+/g, " ").trim() };
}

describe("gallery and post pages", () => {
  it("shows published posts newest first, with numbered hotspots and product cards; hides drafts, hidden and scheduled posts", async () => {
    const mug = await createProduct(t.deps, { title: "Gallery Mug", variants: [{ priceMinor: 1800, stock: 5 }], image: true });
    const older = await createPost(t.deps, { caption: "Older post", publishedAt: new Date(Date.now() - 5 * 86400_000) });
    const newer = await createPost(t.deps, { caption: "Newer post" });
    const draft = await createPost(t.deps, { caption: "Draft post", status: "draft" });
    const hidden = await createPost(t.deps, { caption: "Hidden post", status: "hidden" });
    const scheduled = await createPost(t.deps, { caption: "Scheduled post", publishedAt: new Date(Date.now() + 86400_000) });
    const tag = await createTag(t.deps, { postId: newer.id, productId: mug.id, x: 0.25, y: 0.75 });

    const res = await request(t.app).get("/shop/gallery").expect(200);
    const $ = load(res.text);
    const ids = $(".bio-tile__link").map((_, el) => $(el).attr("data-post")).get();
    expect(ids.indexOf(newer.id)).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf(newer.id)).toBeLessThan(ids.indexOf(older.id));
    for (const p of [draft, hidden, scheduled]) expect(ids).not.toContain(p.id);
    expect($(`.bio-tile__link[data-post="${newer.id}"]`).attr("href")).toBe(`/shop/posts/${newer.id}`);

    // The gallery carries tiles only; the dialog fetches the post's card fragment when it opens.
    expect($(".tag-card").length).toBe(0);
    expect($(`.bio-tile__link[data-post="${newer.id}"]`).attr("data-card")).toBe(`/shop/posts/${newer.id}/card`);
    expect($(`.bio-tile__link[data-post="${newer.id}"] .bio-tile__badge`).text()).toBe("1 product");
    const fragment = await request(t.app).get(`/shop/posts/${newer.id}/card`).expect(200);
    expect(fragment.text).not.toContain("<html");
    const tpl = load(fragment.text);
    expect(tpl(".hotspot").attr("data-x")).toBe("0.25");
    expect(tpl(".hotspot").attr("data-y")).toBe("0.75");
    expect(tpl(`#tag-${tag.id}`).text()).toContain("Gallery Mug");
    expect(tpl(`#tag-${tag.id}`).text()).toContain("$18.00");
    expect(tpl(`#tag-${tag.id} a`).first().attr("href")).toBe(`/shop/p/${mug.slug}`);

    await request(t.app).get(`/shop/posts/${draft.id}`).expect(404);
    await request(t.app).get(`/shop/posts/${scheduled.id}`).expect(404);
    const page = await cardOn(`/shop/posts/${newer.id}`, tag.id);
    expect(page.text).toContain("In stock");
  });

  it("follows a price change at once (catalog API), on the gallery and the post page", async () => {
    const product = await createProduct(t.deps, { title: "Price Watch Bowl", variants: [{ sku: "PWB-1", priceMinor: 2400, stock: 3 }] });
    const post = await createPost(t.deps);
    const tag = await createTag(t.deps, { postId: post.id, productId: product.id, variantId: product.variants[0]!.id });
    expect((await cardOn(`/shop/posts/${post.id}`, tag.id)).text).toContain("$24.00");

    await request(t.app).patch(`/shop/api/v1/variants/${product.variants[0]!.id}`).set(api()).send({ priceMinor: 1950, compareAtMinor: 2400 }).expect(200);
    const after = await cardOn(`/shop/posts/${post.id}`, tag.id);
    expect(after.text).toContain("$19.50");
    expect(after.card.find(".tag-card__was").text()).toBe("$24.00");
    expect(after.text).not.toMatch(/\$24\.00 In stock/);
    expect((await cardOn(`/shop/posts/${post.id}/card`, tag.id)).text).toContain("$19.50");
  });

  it("shows a sold-out variant as sold out and offers an in-stock sibling, then drops the offer when the sibling sells out", async () => {
    const product = await createProduct(t.deps, {
      title: "Kilim Pouch",
      optionNames: ["Colour"],
      variants: [
        { sku: "KP-RED", option1: "Red", priceMinor: 3000, stock: 4 },
        { sku: "KP-BLUE", option1: "Blue", priceMinor: 3200, stock: 2 },
      ],
    });
    const [red, blue] = product.variants;
    const post = await createPost(t.deps);
    const tag = await createTag(t.deps, { postId: post.id, productId: product.id, variantId: red!.id });

    await request(t.app).patch(`/shop/api/v1/variants/${red!.id}`).set(api()).send({ stock: 0 }).expect(200);
    let page = await cardOn(`/shop/posts/${post.id}`, tag.id);
    expect(page.card.hasClass("tag-card--soldout")).toBe(true);
    expect(page.card.find(".tag-card__stock").text()).toBe("Sold out");
    expect(page.card.find(".tag-card__alt").attr("href")).toBe(`/shop/p/${product.slug}?variant=${blue!.id}`);
    expect(page.card.find(".tag-card__alt").text()).toContain("Blue is in stock");
    expect(page.card.find(".tag-card__alt").text()).toContain("$32.00");
    expect(page.$(".hotspot--soldout").length).toBe(1);

    // Stock held by a pending checkout counts too: offerFor subtracts active holds.
    await t.db.stockHold.create({ data: { variantId: blue!.id, quantity: 2, expiresAt: new Date(Date.now() + 600_000) } });
    page = await cardOn(`/shop/posts/${post.id}`, tag.id);
    expect(page.card.find(".tag-card__stock").text()).toBe("Sold out");
    expect(page.card.find(".tag-card__alt").length).toBe(0);

    // The in-stock filter leaves this post out now.
    const filtered = await request(t.app).get("/shop/gallery?available=1").expect(200);
    expect(load(filtered.text)(`[data-post="${post.id}"]`).length).toBe(0);
    const all = await request(t.app).get("/shop/gallery").expect(200);
    expect(load(all.text)(`[data-post="${post.id}"]`).length).toBe(1);
  });

  it("hides the tag of an archived product at once, and shows it again when restored", async () => {
    const product = await createProduct(t.deps, { title: "Archivable Vase" });
    const post = await createPost(t.deps);
    const tag = await createTag(t.deps, { postId: post.id, productId: product.id, x: 0.4, y: 0.4 });
    expect((await cardOn(`/shop/posts/${post.id}`, tag.id)).exists).toBe(true);

    await request(t.app).delete(`/shop/api/v1/products/${product.id}`).set(api()).expect(200);
    const hidden = await cardOn(`/shop/posts/${post.id}`, tag.id);
    expect(hidden.exists).toBe(false);
    expect(hidden.$(".hotspot").length).toBe(0);
    expect(hidden.$(".shoppable").text()).toContain("Nothing from this post is on sale right now.");
    expect((await request(t.app).get(`/shop/posts/${post.id}/card`).expect(200)).text).not.toContain("Archivable Vase");

    await request(t.app).patch(`/shop/api/v1/products/${product.id}/status`).set(api()).send({ status: "active" }).expect(200);
    expect((await cardOn(`/shop/posts/${post.id}`, tag.id)).exists).toBe(true);
  });

  it("hides the tag of a deleted product; the tag itself survives for Tag health", async () => {
    const product = await createProduct(t.deps, { title: "Doomed Lamp" });
    const post = await createPost(t.deps);
    const tag = await createTag(t.deps, { postId: post.id, productId: product.id });
    await t.db.product.delete({ where: { id: product.id } });
    expect((await cardOn(`/shop/posts/${post.id}`, tag.id)).exists).toBe(false);
    const row = await t.db.postTag.findUniqueOrThrow({ where: { id: tag.id } });
    expect(row.productId).toBeNull();
    expect(row.productTitle).toBe("Doomed Lamp");
  });

  it("filters the gallery to posts with something in stock, and drops sold-out tags from them", async () => {
    const inStock = await createProduct(t.deps, { title: "Filter In", variants: [{ stock: 2 }] });
    const soldOut = await createProduct(t.deps, { title: "Filter Out", variants: [{ stock: 0 }] });
    const mixed = await createPost(t.deps, { caption: "mixed" });
    const empty = await createPost(t.deps, { caption: "all sold out" });
    await createTag(t.deps, { postId: mixed.id, productId: inStock.id });
    const outTag = await createTag(t.deps, { postId: mixed.id, productId: soldOut.id, x: 0.2 });
    await createTag(t.deps, { postId: empty.id, productId: soldOut.id });

    const res = await request(t.app).get("/shop/gallery?available=1").expect(200);
    const $ = load(res.text);
    expect($('.chip[aria-current="page"]').text()).toBe("In stock only");
    expect($(`[data-post="${mixed.id}"]`).length).toBe(1);
    expect($(`[data-post="${empty.id}"]`).length).toBe(0);
    // The tile counts only what is in stock; the post itself still shows every tag, sold out ones marked.
    expect($(`[data-post="${mixed.id}"] .bio-tile__badge`).text()).toBe("1 product");
    // Opened from this gallery, the post shows what is in stock; opened on its own, every tag.
    expect($(`[data-post="${mixed.id}"]`).attr("data-card")).toBe(`/shop/posts/${mixed.id}/card?available=1`);
    const card = load((await request(t.app).get(`/shop/posts/${mixed.id}/card?available=1`).expect(200)).text);
    expect(card(".tag-card").text()).toContain("Filter In");
    expect(card("#tag-" + outTag.id).length).toBe(0);
    const whole = load((await request(t.app).get(`/shop/posts/${mixed.id}/card`).expect(200)).text);
    expect(whole("#tag-" + outTag.id).text()).toContain("Sold out");
  });

  it("shows 24 tiles a page with a plain link to the next page, and serves the next page's tiles as a fragment for the button", async () => {
    const collection = await t.db.collection.create({ data: { slug: "gallery-paging", title: "Paging" } });
    const product = await createProduct(t.deps, { title: "Paging Cup" });
    await t.db.collectionProduct.create({ data: { collectionId: collection.id, productId: product.id } });
    const made = [];
    for (let i = 0; i < 30; i++) {
      const post = await createPost(t.deps, { caption: `Paging ${i}`, publishedAt: new Date(Date.now() - 400 * 86400_000 - i * 1000) });
      await createTag(t.deps, { postId: post.id, productId: product.id });
      made.push(post.id);
    }
    const first = load((await request(t.app).get("/shop/gallery?collection=gallery-paging").expect(200)).text);
    expect(first(".bio-tile__link").map((_, el) => first(el).attr("data-post")).get()).toEqual(made.slice(0, 24));
    expect(first(".bio-tile img").first().attr("fetchpriority")).toBe("high");
    const more = first("[data-more]");
    expect(more.attr("href")).toBe("/shop/gallery?collection=gallery-paging&page=2");
    expect(more.attr("data-more")).toBe("/shop/gallery?part=tiles&collection=gallery-paging&page=2");

    // Without JavaScript: page 2 is a whole page with the last six posts and no further link.
    const second = load((await request(t.app).get("/shop/gallery?page=2&collection=gallery-paging").expect(200)).text);
    expect(second(".bio-tile__link").map((_, el) => second(el).attr("data-post")).get()).toEqual(made.slice(24));
    expect(second("[data-more]").length).toBe(0);
    expect(second(".bio-tile img").first().attr("fetchpriority")).toBeUndefined();

    // With it: only the tiles and the status line, no layout.
    const part = await request(t.app).get("/shop/gallery?page=2&collection=gallery-paging&part=tiles").expect(200);
    expect(part.text).not.toContain("<html");
    const $ = load(part.text);
    expect($("li .bio-tile__link").map((_, el) => $(el).attr("data-post")).get()).toEqual(made.slice(24));
    expect($("[data-loaded]").text()).toBe("6 more posts below.");
    expect($("[data-more]").length).toBe(0);
    const fa = load((await request(t.app).get("/shop/gallery?page=2&collection=gallery-paging&part=tiles&lang=fa").expect(200)).text);
    expect(fa("[data-loaded]").text()).toBe("۶ پست دیگر در پایین.");
  });

  it("filters by collection (where collection links lead) and answers 404 for an unknown one", async () => {
    const collection = await t.db.collection.create({ data: { slug: "gallery-linen", title: "Linen" } });
    const inIt = await createProduct(t.deps, { title: "Linen Apron" });
    await t.db.collectionProduct.create({ data: { collectionId: collection.id, productId: inIt.id } });
    const outside = await createProduct(t.deps, { title: "Not Linen" });
    const withIt = await createPost(t.deps);
    const without = await createPost(t.deps);
    await createTag(t.deps, { postId: withIt.id, productId: inIt.id });
    await createTag(t.deps, { postId: without.id, productId: outside.id });
    const $ = load((await request(t.app).get("/shop/gallery?collection=gallery-linen&utm_source=instagram").expect(200)).text);
    expect($("h1").text()).toBe("Posts with Linen");
    expect($(`[data-post="${withIt.id}"]`).length).toBe(1);
    expect($(`[data-post="${without.id}"]`).length).toBe(0);
    await request(t.app).get("/shop/gallery?collection=no-such-collection").expect(404);
  });

  it("shows video tags with their time and no hotspots", async () => {
    const product = await createProduct(t.deps, { title: "Video Scarf" });
    const video = await createPost(t.deps, { mediaType: "video", platform: "tiktok" });
    const tag = await createTag(t.deps, { postId: video.id, productId: product.id, startSec: 75, endSec: 92 });
    const page = await cardOn(`/shop/posts/${video.id}`, tag.id);
    expect(page.card.find(".tag-card__time").text()).toBe("1:15 to 1:32");
    expect(page.$(".hotspot").length).toBe(0);
    expect(page.$(".shoppable__links a").first().attr("href")).toMatch(/^https:\/\/www\.tiktok\.com\//);
    const fa = load((await request(t.app).get(`/shop/posts/${video.id}?lang=fa`).expect(200)).text);
    expect(fa(`#tag-${tag.id} .tag-card__time`).text()).toBe("از ۱:۱۵ تا ۱:۳۲");
  });

  it("renders in Persian, right to left, with Persian digits and prices", async () => {
    const product = await createProduct(t.deps, { title: "Rug", titleFa: "گلیم کوچک", variants: [{ priceMinor: 1250, stock: 2 }] });
    const post = await createPost(t.deps, { platform: "telegram" });
    const tag = await createTag(t.deps, { postId: post.id, productId: product.id });
    const $ = load((await request(t.app).get(`/shop/posts/${post.id}?lang=fa`).expect(200)).text);
    expect($("html").attr("dir")).toBe("rtl");
    expect($("h1").text()).toBe("پست تلگرام");
    const card = $(`#tag-${tag.id}`);
    expect(card.find(".tag-card__title").text()).toBe("گلیم کوچک");
    expect(card.find(".tag-card__price").text()).toMatch(/۱۲٫۵۰/);
    expect(card.find(".tag-card__stock").text()).toBe("فقط ۲ عدد باقی مانده");
  });

  it("gives the gallery and post pages Open Graph and Twitter Card tags with an absolute image, title, price and availability", async () => {
    const product = await createProduct(t.deps, { title: "Preview Teapot", variants: [{ priceMinor: 5400, stock: 3 }] });
    const post = await createPost(t.deps, { caption: "Tea time with the new teapot\nShop it below" });
    await createTag(t.deps, { postId: post.id, productId: product.id });
    const postPage = load((await request(t.app).get(`/shop/posts/${post.id}`).expect(200)).text);
    const meta = (p: string) => postPage(`meta[property="${p}"], meta[name="${p}"]`).attr("content");
    const photo = await t.db.media.findUniqueOrThrow({ where: { id: post.mediaId! } });
    expect(meta("og:image")).toBe(`https://shop.example/shop/media/${photo.storageKey}-sq.jpg`);
    expect(meta("og:url")).toBe(`https://shop.example/shop/posts/${post.id}`);
    expect(meta("og:title")).toBe("Tea time with the new teapot Shop it below · $54.00");
    expect(meta("og:type")).toBe("product");
    expect(meta("product:price:amount")).toBe("54.00");
    expect(meta("product:price:currency")).toBe("USD");
    expect(meta("product:availability")).toBe("in stock");
    expect(meta("og:description")).toContain("Shop Preview Teapot");
    expect(meta("twitter:card")).toBe("summary_large_image");
    expect(meta("twitter:image")).toBe(meta("og:image"));
    expect(meta("twitter:data1")).toBe("$54.00");
    expect(meta("twitter:data2")).toBe("In stock");

    // Sold out shows in the preview too.
    await t.db.variant.update({ where: { id: product.variants[0]!.id }, data: { stock: 0 } });
    const soldOut = load((await request(t.app).get(`/shop/posts/${post.id}`).expect(200)).text);
    expect(soldOut('meta[property="product:availability"]').attr("content")).toBe("out of stock");
    expect(soldOut('meta[name="twitter:data2"]').attr("content")).toBe("Sold out");

    const gallery = load((await request(t.app).get("/shop/gallery").expect(200)).text);
    const g = (p: string) => gallery(`meta[property="${p}"], meta[name="${p}"]`).attr("content");
    expect(g("og:url")).toBe("https://shop.example/shop/gallery");
    expect(g("og:title")).toBe("Shop our posts · Test Shop");
    expect(g("og:image")).toMatch(/^https:\/\/shop\.example\/shop\/media\/[0-9a-f]{32}-sq\.jpg$/);
    expect(g("og:description")).toMatch(/^\d+ shoppable posts from Test Shop, with \d+ products in stock\.$/);
    expect(g("twitter:data1")).toMatch(/^From \$\d+\.\d{2}$/);
    expect(g("twitter:data2")).toMatch(/^\d+ in stock$/);
  });
});

describe("queries per page", () => {
  it("does not grow with the number of tags (nor posts): a fixed set of SQL statements", async () => {
    const c = await buildCountingTestApp();
    try {
      const products = [];
      for (let i = 0; i < 12; i++) products.push(await createProduct(c.deps, { title: `Count ${i}`, optionNames: ["Size"], variants: [{ option1: "S" }, { option1: "M", stock: 0 }], image: i % 2 === 0 }));
      const statementsFor = async (path: string) => {
        c.log.reset();
        await request(c.app).get(path).expect(200);
        return c.log.count;
      };
      const post1 = await createPost(c.deps);
      await createTag(c.deps, { postId: post1.id, productId: products[0]!.id });
      // The page cache's version reads go through a reader opened once per database (one statement, the first time).
      await request(c.app).get("/shop/posts/no-such-post").expect(404);
      const oneTag = await statementsFor("/shop/gallery");
      const onePostPage = await statementsFor(`/shop/posts/${post1.id}`);

      // Ten times the tags on more posts, variants and sold-out siblings included.
      for (let p = 0; p < 5; p++) {
        const post = await createPost(c.deps);
        for (let i = 0; i < 12; i++) {
          const product = products[i]!;
          await createTag(c.deps, { postId: post.id, productId: product.id, variantId: product.variants[i % 2]!.id, x: i / 12, y: 0.5 });
        }
      }
      for (let i = 1; i < 12; i++) await createTag(c.deps, { postId: post1.id, productId: products[i]!.id, x: i / 12 });
      expect(await c.db.postTag.count()).toBe(72);
      const manyTags = await statementsFor("/shop/gallery");
      const manyPostPage = await statementsFor(`/shop/posts/${post1.id}`);
      const filtered = await statementsFor("/shop/gallery?available=1");

      expect(manyTags).toBe(oneTag);
      expect(manyPostPage).toBe(onePostPage);
      expect(filtered).toBe(oneTag);
      // And the number is small: posts, tags, catalog, images, holds (plus the shop's own per-request lookups).
      expect(oneTag).toBeLessThanOrEqual(8);
    } finally {
      await c.close();
    }
  });
});
