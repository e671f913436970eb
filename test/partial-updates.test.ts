import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCoupon } from "../src/coupons/coupons.service.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct, createToken } from "./helpers/factories.js";
import { csrfFrom, signIn, submitForm } from "./helpers/html.js";
import { createLink, createPhoto, createPost, createTag } from "./helpers/post-factories.js";

/**
 * A partial update changes exactly the fields it names. Every route that
 * edits a record (JSON PATCH and PUT, and the admin edit forms) is checked
 * the same way: change one thing, read the whole record back, and only that
 * one thing differs. The admin forms are also submitted exactly as a browser
 * would send them unchanged, which must change nothing.
 */

let t: TestApp;
let auth: { Authorization: string };
let admin: TestAgent;
let csrf: string;

beforeAll(async () => {
  t = await buildTestApp();
  auth = { Authorization: `Bearer ${(await createToken(t.deps)).token}` };
  const { email, password } = await createAdmin(t.deps);
  admin = request.agent(t.app);
  await signIn(admin, email, password);
  csrf = csrfFrom((await admin.get("/shop/admin/posts").expect(200)).text);
});
afterAll(() => t.close());

const api = () => request(t.app);
const without = <T extends Record<string, unknown>>(row: T, ...keys: string[]) => Object.fromEntries(Object.entries(row).filter(([k]) => !["updatedAt", ...keys].includes(k)));

async function postState(id: string) {
  const post = await t.db.post.findUniqueOrThrow({ where: { id }, include: { tags: { orderBy: { id: "asc" } }, media: true, poster: true } });
  return { ...without(post, "tags", "media", "poster"), alt: post.media?.alt ?? post.poster?.alt ?? null, tags: post.tags.map((tag) => without(tag)) };
}

async function productState(id: string) {
  const p = await t.db.product.findUniqueOrThrow({
    where: { id },
    include: { variants: { orderBy: { id: "asc" } }, images: { orderBy: { position: "asc" } }, translations: { orderBy: { locale: "asc" } }, collections: { orderBy: { collectionId: "asc" } } },
  });
  return {
    ...without(p, "variants", "images", "translations", "collections"),
    variants: p.variants.map((v) => without(v)),
    images: p.images.map((i) => without(i, "id")),
    translations: p.translations.map((tr) => without(tr, "id")),
    collections: p.collections.map((c) => c.collectionId),
  };
}

async function couponState(id: string) {
  const c = await t.db.coupon.findUniqueOrThrow({ where: { id }, include: { products: { orderBy: { productId: "asc" } }, collections: { orderBy: { collectionId: "asc" } } } });
  return { ...without(c, "products", "collections"), products: c.products.map((p) => p.productId), collections: c.collections.map((x) => x.collectionId) };
}

/** Everything about a record that may differ between `before` and `after`: exactly `changed`. */
function expectOnlyChanged(before: Record<string, unknown>, after: Record<string, unknown>, changed: Record<string, unknown>) {
  expect(after).toEqual({ ...before, ...changed });
}

async function richProduct() {
  const collection = await t.db.collection.create({ data: { slug: `c-${Math.random().toString(36).slice(2, 8)}`, title: "Tea things", position: 1 } });
  const p = await createProduct(t.deps, { title: "Teapot", status: "active", brand: "Clay & Co", description: "Thrown by hand.", optionNames: ["Colour"], titleFa: "قوری", image: true, variants: [{ option1: "Blue", gtin: "12345678", compareAtMinor: 5000, priceMinor: 4000 }, { option1: "Sand", stock: 3 }] });
  await t.db.product.update({ where: { id: p.id }, data: { condition: "used", googleCategory: "Home & Garden > Kitchen", identifierExists: false } });
  await t.db.variant.update({ where: { id: p.variants[0]!.id }, data: { mpn: "TP-BLUE", weightGrams: 900 } });
  await t.db.productTranslation.update({ where: { productId_locale: { productId: p.id, locale: "fa" } }, data: { description: "دست‌ساز" } });
  await t.db.collectionProduct.create({ data: { collectionId: collection.id, productId: p.id } });
  return p;
}

async function richCoupon() {
  const product = await createProduct(t.deps);
  const coupon = await createCoupon(t.deps, {
    coupon: {
      code: `FOLLOW${Math.random().toString(36).slice(2, 7).toUpperCase()}`, description: "For our followers", kind: "fixed", percentOff: null, amountOffMinor: 700, scope: "products", productIds: [product.id], collectionSlugs: [],
      minSubtotalMinor: 2000, startsAt: new Date("2026-01-01T00:00:00Z"), endsAt: new Date("2027-01-01T00:00:00Z"), usageLimit: 40, perFollowerLimit: 2, minFollowDays: 30, followersOnly: true, requiredVerification: "email",
      liveSessionId: null, stackable: true, status: "disabled",
    },
    actor: { type: "system" },
  });
  return coupon;
}

describe("JSON API", () => {
  it("PATCH /posts/:id with one field keeps a draft a draft, its caption, permalink, platform and media", async () => {
    const post = await createPost(t.deps, { status: "draft", publishedAt: null, platform: "tiktok", caption: "Work in progress", permalink: "https://www.tiktok.com/@shop/video/1" });
    const before = await postState(post.id);
    await api().patch(`/shop/api/v1/posts/${post.id}`).set(auth).send({ imageAlt: "Blue teapot on a shelf" }).expect(200);
    expectOnlyChanged(before, await postState(post.id), { alt: "Blue teapot on a shelf" });
    const gallery = await api().get("/shop/gallery").expect(200);
    expect(gallery.text).not.toContain(post.id);
  });

  it("PATCH /posts/:id edits the caption of a video post with tags", async () => {
    const product = await createProduct(t.deps);
    const post = await createPost(t.deps, { mediaType: "video" });
    await createTag(t.deps, { postId: post.id, productId: product.id, startSec: 3, endSec: 9 });
    const before = await postState(post.id);
    const res = await api().patch(`/shop/api/v1/posts/${post.id}`).set(auth).send({ caption: "Now with sound" }).expect(200);
    expect(res.body.data.mediaType).toBe("video");
    expectOnlyChanged(before, await postState(post.id), { caption: "Now with sound" });
  });

  it("PATCH /posts/:id changes each field alone and nothing else", async () => {
    const post = await createPost(t.deps, { status: "hidden", platform: "pinterest" });
    const changes: [Record<string, unknown>, Record<string, unknown>][] = [
      [{ platform: "youtube" }, { platform: "youtube" }],
      [{ permalink: "https://www.youtube.com/watch?v=abc" }, { permalink: "https://www.youtube.com/watch?v=abc" }],
      [{ caption: "Fresh words" }, { caption: "Fresh words" }],
      [{ publishedAt: "2026-05-01T10:00:00.000Z" }, { publishedAt: new Date("2026-05-01T10:00:00.000Z") }],
      [{ status: "draft" }, { status: "draft" }],
    ];
    for (const [body, changed] of changes) {
      const before = await postState(post.id);
      await api().patch(`/shop/api/v1/posts/${post.id}`).set(auth).send(body).expect(200);
      expectOnlyChanged(before, await postState(post.id), changed);
    }
    await api().patch(`/shop/api/v1/posts/${post.id}`).set(auth).send({}).expect(400);
  });

  it("PATCH /posts/:id/tags/:tagId moves a pin and keeps its product and variant", async () => {
    const product = await createProduct(t.deps, { variants: [{ option1: "S" }, { option1: "M" }] });
    const post = await createPost(t.deps);
    const tag = await createTag(t.deps, { postId: post.id, productId: product.id, variantId: product.variants[1]!.id, x: 0.2, y: 0.3 });
    const before = await postState(post.id);
    await api().patch(`/shop/api/v1/posts/${post.id}/tags/${tag.id}`).set(auth).send({ x: 0.9 }).expect(200);
    const after = await postState(post.id);
    expect(after.tags[0]).toEqual({ ...before.tags[0], x: 0.9 });
  });

  it("PUT /products/:id with only a title keeps status, brand, condition, collections, translation, images and every variant field", async () => {
    const p = await richProduct();
    const before = await productState(p.id);
    await api().put(`/shop/api/v1/products/${p.id}`).set(auth).send({ title: "Teapot, large" }).expect(200);
    expectOnlyChanged(before, await productState(p.id), { title: "Teapot, large" });
  });

  it("PUT /products/:id edits one field of one variant and one field of the translation, keeping the rest", async () => {
    const p = await richProduct();
    const [blue, sand] = p.variants;
    const before = await productState(p.id);
    await api().put(`/shop/api/v1/products/${p.id}`).set(auth).send({ variants: [{ id: blue!.id, priceMinor: 4200 }, { sku: sand!.sku }], translations: { fa: { title: "قوری بزرگ" } } }).expect(200);
    const after = await productState(p.id);
    expect(after.variants).toEqual(before.variants.map((v) => (v.id === blue!.id ? { ...v, priceMinor: 4200 } : v)));
    expect(after.translations).toEqual([{ ...before.translations[0], title: "قوری بزرگ" }]);
    expectOnlyChanged(without(before, "variants", "translations"), without(after, "variants", "translations"), {});
    // The merged product is still judged whole: a price below the compare-at rule is refused by name.
    const bad = await api().put(`/shop/api/v1/products/${p.id}`).set(auth).send({ variants: [{ id: blue!.id, compareAtMinor: 10 }, { id: sand!.id }] }).expect(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(["variants.0.compareAtMinor"]);
  });

  it("PATCH /variants/:id changes the price only", async () => {
    const p = await richProduct();
    const before = await productState(p.id);
    await api().patch(`/shop/api/v1/variants/${p.variants[1]!.id}`).set(auth).send({ priceMinor: 3100 }).expect(200);
    const after = await productState(p.id);
    expect(after.variants).toEqual(before.variants.map((v) => (v.id === p.variants[1]!.id ? { ...v, priceMinor: 3100 } : v)));
  });

  it("PUT /coupons/:id with some fields keeps a disabled follower-only coupon disabled and follower-only", async () => {
    const coupon = await richCoupon();
    const before = await couponState(coupon.id);
    await api().put(`/shop/api/v1/coupons/${coupon.id}`).set(auth).send({ code: coupon.code, kind: "fixed", amountOffMinor: 900, usageLimit: 60 }).expect(200);
    expectOnlyChanged(before, await couponState(coupon.id), { amountOffMinor: 900, usageLimit: 60 });
    // Switching the kind leaves no stale amount, and the merged coupon must still make sense.
    await api().put(`/shop/api/v1/coupons/${coupon.id}`).set(auth).send({ kind: "percent" }).expect(400);
    await api().put(`/shop/api/v1/coupons/${coupon.id}`).set(auth).send({ kind: "percent", percentOff: 15 }).expect(200);
    expect(await couponState(coupon.id)).toMatchObject({ kind: "percent", percentOff: 15, amountOffMinor: null, status: "disabled", followersOnly: true });
  });

  it("PATCH /links/:id changes one label", async () => {
    const link = await createLink(t.deps, { targetType: "page", path: "/gallery", channel: "instagram-bio", hostName: "Ava", utmSource: "instagram", utmMedium: "social", utmCampaign: "spring" });
    const before = without(await t.db.shortLink.findUniqueOrThrow({ where: { id: link.id } }));
    await api().patch(`/shop/api/v1/links/${link.id}`).set(auth).send({ utmCampaign: "summer" }).expect(200);
    expectOnlyChanged(before, without(await t.db.shortLink.findUniqueOrThrow({ where: { id: link.id } })), { utmCampaign: "summer" });
  });

  it("PATCH /reviews/settings changes one setting", async () => {
    const start = await api().patch("/shop/api/v1/reviews/settings").set(auth).send({ autoPublish: false, requestsEnabled: false, incentive: "A 10% code", requestDelayDays: 12 }).expect(200);
    await api().patch("/shop/api/v1/reviews/settings").set(auth).send({ requestTrigger: "paid" }).expect(200);
    const after = await api().get("/shop/api/v1/reviews/settings").set(auth).expect(200);
    expect(after.body.data).toEqual({ ...start.body.data, requestTrigger: "paid" });
    await api().patch("/shop/api/v1/reviews/settings").set(auth).send({}).expect(400);
  });
});

describe("admin edit forms", () => {
  it("posts: a form carrying only the caption keeps a draft a draft with its permalink and platform", async () => {
    const post = await createPost(t.deps, { status: "draft", publishedAt: null, platform: "tiktok" });
    const before = await postState(post.id);
    await admin.post(`/shop/admin/posts/${post.id}`).type("form").send({ _csrf: csrf, caption: "Edited in the admin" }).expect(303);
    expectOnlyChanged(before, await postState(post.id), { caption: "Edited in the admin" });
  });

  it("posts: the edit form of a video post, sent back unchanged, changes nothing", async () => {
    const product = await createProduct(t.deps);
    const post = await createPost(t.deps, { mediaType: "video", status: "draft", publishedAt: null });
    await createTag(t.deps, { postId: post.id, productId: product.id, startSec: 1 });
    const before = await postState(post.id);
    const page = await admin.get(`/shop/admin/posts/${post.id}`).expect(200);
    await submitForm(admin, page.text, "form.post-form").expect(303);
    expectOnlyChanged(before, await postState(post.id), {});
  });

  it("products: a form carrying only the title keeps everything else; the edit form sent back unchanged changes nothing", async () => {
    const p = await richProduct();
    const before = await productState(p.id);
    await admin.post(`/shop/admin/products/${p.id}`).type("form").send({ _csrf: csrf, title: "Teapot (2 l)" }).expect(303);
    expectOnlyChanged(before, await productState(p.id), { title: "Teapot (2 l)" });
    const page = await admin.get(`/shop/admin/products/${p.id}`).expect(200);
    await submitForm(admin, page.text, "form.product-form").expect(303);
    expectOnlyChanged(before, await productState(p.id), { title: "Teapot (2 l)" });
  });

  it("products: a checkbox the form shows unticked is saved as unticked", async () => {
    const p = await richProduct();
    await t.db.product.update({ where: { id: p.id }, data: { identifierExists: true } });
    const before = await productState(p.id);
    // What the browser sends for an unticked box: only the hidden "" before it; no collection ticked either.
    await admin.post(`/shop/admin/products/${p.id}`).type("form").send(`_csrf=${encodeURIComponent(csrf)}&identifierExists=&collections=`).expect(303);
    expectOnlyChanged(before, await productState(p.id), { identifierExists: false, collections: [] });
  });

  it("coupons: a form carrying only the description keeps a disabled follower-only coupon as it was; the form sent back unchanged changes nothing", async () => {
    const coupon = await richCoupon();
    const before = await couponState(coupon.id);
    await admin.post(`/shop/admin/coupons/${coupon.id}`).type("form").send({ _csrf: csrf, description: "Thank you for following" }).expect(303);
    expectOnlyChanged(before, await couponState(coupon.id), { description: "Thank you for following" });
    const page = await admin.get(`/shop/admin/coupons/${coupon.id}`).expect(200);
    await submitForm(admin, page.text, "form.product-form").expect(303);
    expectOnlyChanged(before, await couponState(coupon.id), { description: "Thank you for following" });
    await admin.post(`/shop/admin/coupons/${coupon.id}`).type("form").send(`_csrf=${encodeURIComponent(csrf)}&stackable=`).expect(303);
    expect(await couponState(coupon.id)).toMatchObject({ stackable: false, followersOnly: true, status: "disabled" });
  });

  it("links: a form carrying only one label keeps the others", async () => {
    const link = await createLink(t.deps, { targetType: "page", path: "/gallery", channel: "print", hostName: "Nima", utmSource: "flyer", utmCampaign: "market" });
    const before = without(await t.db.shortLink.findUniqueOrThrow({ where: { id: link.id } }));
    await admin.post(`/shop/admin/links/${link.id}`).type("form").send({ _csrf: csrf, utmCampaign: "winter-market" }).expect(303);
    expectOnlyChanged(before, without(await t.db.shortLink.findUniqueOrThrow({ where: { id: link.id } })), { utmCampaign: "winter-market" });
  });

  it("review settings: a form carrying only the delay keeps the checkboxes; the form sent back unchanged changes nothing", async () => {
    await api().patch("/shop/api/v1/reviews/settings").set(auth).send({ autoPublish: true, requestsEnabled: true, requestDelayDays: 5 }).expect(200);
    const before = (await api().get("/shop/api/v1/reviews/settings").set(auth)).body.data;
    await admin.post("/shop/admin/reviews/settings").type("form").send({ _csrf: csrf, requestDelayDays: "9" }).expect(303);
    const after = (await api().get("/shop/api/v1/reviews/settings").set(auth)).body.data;
    expect(after).toEqual({ ...before, requestDelayDays: 9 });
    const page = await admin.get("/shop/admin/reviews/settings").expect(200);
    await submitForm(admin, page.text, "form.settings-form").expect(303);
    expect((await api().get("/shop/api/v1/reviews/settings").set(auth)).body.data).toEqual(after);
  });

  it("tags: the tag form carrying only x keeps y, the product and the variant", async () => {
    const product = await createProduct(t.deps, { variants: [{ option1: "S" }, { option1: "M" }] });
    const post = await createPost(t.deps, { mediaId: (await createPhoto(t.deps)).id });
    const tag = await createTag(t.deps, { postId: post.id, productId: product.id, variantId: product.variants[0]!.id, x: 0.1, y: 0.7 });
    const before = await postState(post.id);
    await admin.post(`/shop/admin/posts/${post.id}/tags/${tag.id}`).type("form").send({ _csrf: csrf, x: "0.4" }).expect(303);
    expect((await postState(post.id)).tags[0]).toEqual({ ...before.tags[0], x: 0.4 });
  });
});
