import { parse as parseCsv } from "csv-parse/sync";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeImage } from "../src/media/media.service.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct, testImage } from "./helpers/factories.js";
import { load } from "./helpers/html.js";
import { adminClients, buy, reviewLinkOf, setSettings, visitor } from "./helpers/reviews.js";

const BASE = "https://host.example/shop";
let t: TestApp;
let clients: Awaited<ReturnType<typeof adminClients>>;
let product: Awaited<ReturnType<typeof createProduct>>;
const ids = { web: "", verified: "", pending: "" };

beforeAll(async () => {
  t = await buildTestApp({ trustProxy: 1, publicUrl: BASE });
  clients = await adminClients(t);
  product = await createProduct(t.deps, { title: "Feed Mug", brand: "Clay & Co", variants: [{ sku: "FEED-MUG-1", gtin: "4006381333931" }], image: true });
  // A web review with a photo and markup, a verified and incentivized one through a request, a pending one.
  const v = await visitor(t);
  const web = await v.agent
    .post(`/shop/p/${product.slug}/reviews`)
    .set("Accept", "application/json")
    .set("X-CSRF-Token", v.csrf)
    .send({ rating: 4, title: "Good & <solid>", body: "Heavy mug, \"nice\" glaze.", displayName: "Web Wendy" })
    .expect(201);
  ids.web = web.body.data.id;
  const photo = await storeImage(t.deps, { bytes: await testImage({ color: "#884422" }) });
  await t.db.reviewPhoto.create({ data: { reviewId: ids.web, mediaId: photo.id } });
  await t.db.review.update({ where: { id: ids.web }, data: { hasPhotos: true } });

  await setSettings(t, { requestTrigger: "paid", requestDelayDays: 0, incentive: "A free coaster" });
  const order = await buy(t, product.variants[0]!.id);
  const { token } = await reviewLinkOf(t, order.id);
  const r = await v.agent
    .post(`/shop/reviews/write/${token}`)
    .set("Accept", "application/json")
    .set("X-CSRF-Token", v.csrf)
    .send({ orderLineId: order.lines[0]!.id, rating: 2, body: "Chipped rim after a week of use.", displayName: "Buyer Bo" })
    .expect(201);
  ids.verified = r.body.data.id;
  await setSettings(t, { requestTrigger: "fulfilled", requestDelayDays: 7, incentive: "" });

  await setSettings(t, { autoPublish: false });
  const pending = await v.agent.post(`/shop/p/${product.slug}/reviews`).set("Accept", "application/json").set("X-CSRF-Token", v.csrf).send({ rating: 5, body: "Not read yet by the shop.", displayName: "Pen" }).expect(201);
  ids.pending = pending.body.data.id;
  await setSettings(t, { autoPublish: true });
});
afterAll(() => t.close());

const xml = new XMLParser({ ignoreAttributes: false, parseTagValue: false, isArray: (name) => ["review", "reviewer_image", "sku", "gtin"].includes(name) });

async function reviewFeed() {
  const res = await request(t.app).get("/shop/feeds/google-reviews.xml").expect(200);
  expect(res.headers["content-type"]).toContain("application/xml");
  expect(res.headers["set-cookie"]).toBeUndefined();
  expect(XMLValidator.validate(res.text)).toBe(true);
  const doc = xml.parse(res.text);
  return { doc, reviews: (doc.feed.reviews?.review ?? []) as Record<string, any>[] };
}

describe("Google product review feed", () => {
  it("lists every published review (schema 2.4) with verified, incentivized and collection-method flags", async () => {
    const { doc, reviews } = await reviewFeed();
    expect(doc.feed.version).toBe("2.4");
    expect(doc.feed["@_xsi:noNamespaceSchemaLocation"]).toBe("http://www.google.com/shopping/reviews/schema/product/2.4/product_reviews.xsd");
    expect(doc.feed.publisher.name).toBe("Test Shop");
    expect(reviews.map((r) => r.review_id).sort()).toEqual([ids.web, ids.verified].sort());
    const web = reviews.find((r) => r.review_id === ids.web)!;
    expect(web).toMatchObject({
      is_verified_purchase: "false",
      is_incentivized_review: "false",
      collection_method: "unsolicited",
      title: "Good & <solid>",
      content: 'Heavy mug, "nice" glaze.',
      is_spam: "false",
      review_language: "en",
    });
    expect(web.reviewer.name["#text"]).toBe("Web Wendy");
    expect(web.ratings.overall).toMatchObject({ "#text": "4", "@_min": "1", "@_max": "5" });
    expect(web.review_url["#text"]).toBe(`${BASE}/p/${product.slug}#review-${ids.web}`);
    expect(web.reviewer_images.reviewer_image[0].url).toMatch(new RegExp(`^${BASE}/media/[0-9a-f]{32}-sq\\.jpg$`));
    const p = web.products.product;
    expect(p.product_ids.skus.sku).toEqual(["FEED-MUG-1"]);
    expect(p.product_ids.gtins.gtin).toEqual(["4006381333931"]);
    expect(p.product_ids.brands.brand).toBe("Clay & Co");
    expect(p.product_url).toBe(`${BASE}/p/${product.slug}`);
    const verified = reviews.find((r) => r.review_id === ids.verified)!;
    expect(verified).toMatchObject({ is_verified_purchase: "true", is_incentivized_review: "true", collection_method: "post_fulfillment" });
  });

  it("is a full feed: an unpublished review drops out, and comes back when published again", async () => {
    await clients.api("post", `/reviews/${ids.web}/unpublish`).send({ reason: "off_topic" }).expect(200);
    expect((await reviewFeed()).reviews.map((r) => r.review_id)).toEqual([ids.verified]);
    await clients.api("post", `/reviews/${ids.web}/publish`).send({}).expect(200);
    expect((await reviewFeed()).reviews).toHaveLength(2);
  });
});

describe("ratings in the Pinterest feed", () => {
  it("carries average_review_rating, number_of_ratings and number_of_reviews from the rating summary; the ETag changes with them", async () => {
    const bare = await createProduct(t.deps, { title: "Unrated Mug", image: true });
    const first = await request(t.app).get("/shop/feeds/pinterest.csv").expect(200);
    const rows = parseCsv(first.text, { columns: true, bom: true }) as Record<string, string>[];
    const mug = rows.find((r) => r.id === product.variants[0]!.id)!;
    expect(mug).toMatchObject({ average_review_rating: "3.0", number_of_ratings: "2", number_of_reviews: "2" });
    const unrated = rows.find((r) => r.id === bare.variants[0]!.id)!;
    expect(unrated).toMatchObject({ average_review_rating: "", number_of_ratings: "" });

    await clients.api("post", `/reviews/${ids.pending}/publish`).send({}).expect(200);
    const second = await request(t.app).get("/shop/feeds/pinterest.csv").set("If-None-Match", first.headers.etag!).expect(200);
    expect(second.headers.etag).not.toBe(first.headers.etag);
    const again = (parseCsv(second.text, { columns: true, bom: true }) as Record<string, string>[]).find((r) => r.id === product.variants[0]!.id)!;
    expect(again).toMatchObject({ average_review_rating: "3.7", number_of_ratings: "3" });
    await clients.api("post", `/reviews/${ids.pending}/reject`).send({ reason: "spam" }).expect(200);
  });
});

describe("the embeddable reviews widget", () => {
  it("serves its script and stylesheet for other origins, without cookies", async () => {
    const js = await request(t.app).get("/shop/embed/reviews.js").expect(200);
    expect(js.headers["content-type"]).toContain("text/javascript");
    expect(js.headers["cross-origin-resource-policy"]).toBe("cross-origin");
    expect(js.headers["set-cookie"]).toBeUndefined();
    expect(js.text).toContain("attachShadow");
    expect(js.text).not.toMatch(/innerHTML|insertAdjacentHTML|eval\(/);
    const css = await request(t.app).get("/shop/embed/reviews.css").expect(200);
    expect(css.headers["content-type"]).toContain("text/css");
    expect(css.headers["access-control-allow-origin"]).toBe("*");
  });

  it("answers the JSON with CORS, published reviews only, absolute photo URLs and labels in the asked language", async () => {
    const res = await request(t.app).get(`/shop/embed/reviews.json?product=${product.slug}&lang=fa&limit=5`).set("Origin", "https://blog.example.org").expect(200);
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    expect(res.headers["set-cookie"]).toBeUndefined();
    const data = res.body.data;
    expect(data).toMatchObject({ lang: "fa", dir: "rtl", product: { slug: product.slug, url: `${BASE}/p/${product.slug}#reviews` }, summary: { count: 2, average: 3 } });
    expect(data.reviews.map((r: { id: string }) => r.id).sort()).toEqual([ids.web, ids.verified].sort());
    expect(data.reviews.find((r: { id: string }) => r.id === ids.web).photos[0].url).toMatch(new RegExp(`^${BASE}/media/`));
    expect(data.labels.verified).toBe("خریدار تأییدشده");
    expect(JSON.stringify(data)).not.toMatch(/email|Pen/);
    // The photos it points at may be shown on another site.
    const photo = new URL(data.reviews.find((r: { id: string }) => r.id === ids.web).photos[0].url).pathname;
    const img = await request(t.app).get(photo).expect(200);
    expect(img.headers["cross-origin-resource-policy"]).toBe("cross-origin");
  });

  it("404s an unknown or draft product, 405s other methods, answers a preflight", async () => {
    const draft = await createProduct(t.deps, { status: "draft" });
    await request(t.app).get(`/shop/embed/reviews.json?product=${draft.slug}`).expect(404);
    await request(t.app).get("/shop/embed/reviews.json?product=nope").expect(404);
    await request(t.app).get("/shop/embed/reviews.json").expect(404);
    await request(t.app).post("/shop/embed/reviews.json").expect(405);
    const pre = await request(t.app).options("/shop/embed/reviews.json").expect(204);
    expect(pre.headers["access-control-allow-methods"]).toBe("GET, HEAD");
  });
});

describe("review counts on cards", () => {
  it("product cards on the grid show stars and the review count", async () => {
    const page = await (await visitor(t)).agent.get("/shop/").expect(200);
    const $ = load(page.text);
    const card = $(".card").filter((_, el) => $(el).find(".card__title").text() === "Feed Mug");
    expect(card.find(".card__rating").text()).toContain("(2)");
  });

  it("product tags on a post show the product's stars and review count", async () => {
    const media = await storeImage(t.deps, { bytes: await testImage({ color: "#336699" }) });
    const post = await t.db.post.create({ data: { platform: "instagram", mediaId: media.id, caption: "New mugs", publishedAt: new Date(), tags: { create: [{ productId: product.id, x: 0.5, y: 0.5 }] } } });
    const page = await (await visitor(t)).agent.get(`/shop/posts/${post.id}`).expect(200);
    const $ = load(page.text);
    expect($(".tag-card__rating").first().text()).toContain("(2)");
    expect($(".tag-card__rating .stars").attr("aria-label")).toBe("3 out of 5 from 2 reviews");
  });
});
