import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct, testImage } from "./helpers/factories.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";
import { createPhoto, createPost, createTag } from "./helpers/post-factories.js";

let t: TestApp;
let agent: TestAgent;
let csrf: string;
beforeAll(async () => {
  t = await buildTestApp();
  const { email, password } = await createAdmin(t.deps);
  agent = request.agent(t.app);
  await signIn(agent, email, password);
  csrf = csrfFrom((await agent.get("/shop/admin/tokens").expect(200)).text);
});
afterAll(() => t.close());

async function formAction(pagePath: string) {
  const page = await agent.get(pagePath).expect(200);
  return load(page.text)("form.post-form").attr("action")!;
}

function fill(req: request.Test, fields: Record<string, string>) {
  for (const [k, v] of Object.entries(fields)) req.field(k, v);
  return req;
}

const counts = async () => ({ posts: await t.db.post.count(), tags: await t.db.postTag.count(), media: await t.db.media.count() });

describe("admin post pages", () => {
  it("are for signed-in admins only", async () => {
    await request(t.app).get("/shop/admin/posts").expect(303);
    await request(t.app).get("/shop/admin/posts/product-search?q=a").set("Accept", "application/json").expect(401);
    await request(t.app).get("/shop/admin/posts/tag-health").expect(303);
  });

  it("creates an image post from the form with an uploaded photo, then lists it", async () => {
    const action = await formAction("/shop/admin/posts/new");
    expect(action).toMatch(/^\/shop\/admin\/posts\?_csrf=/);
    const res = await fill(agent.post(action), {
      platform: "instagram",
      permalink: "https://www.instagram.com/p/abc123/",
      mediaType: "image",
      imageAlt: "Tea glasses on a walnut board",
      caption: "Morning tea ☕\nTap to shop.",
      publishedAt: "2026-11-20T09:30",
      status: "published",
    })
      .attach("image", await testImage({ color: "#8ab17d" }), { filename: "tea.jpg", contentType: "image/jpeg" })
      .expect(303);
    expect(res.headers.location).toMatch(/^\/shop\/admin\/posts\/\w+\?saved=1$/);
    const id = res.headers.location!.split("/").pop()!.split("?")[0]!;
    const post = await t.db.post.findUniqueOrThrow({ where: { id }, include: { media: true } });
    expect(post).toMatchObject({ platform: "instagram", mediaType: "image", status: "published", caption: "Morning tea ☕\nTap to shop." });
    expect(post.publishedAt?.toISOString()).toBe("2026-11-20T09:30:00.000Z");
    expect(post.media?.alt).toBe("Tea glasses on a walnut board");

    const edit = await agent.get(res.headers.location!).expect(200);
    const $ = load(edit.text);
    expect($(".alert--ok").text()).toContain("Saved.");
    expect($("#publishedAt").val()).toBe("2026-11-20T09:30");
    expect($(".tag-canvas img").attr("src")).toContain(post.media!.storageKey);

    const list = await agent.get("/shop/admin/posts").expect(200);
    expect(load(list.text)(`tr[data-post="${id}"]`).text()).toContain("Morning tea");
  });

  it("refuses a bad form with every problem named, keeps what was typed, and writes nothing", async () => {
    const before = await counts();
    const action = await formAction("/shop/admin/posts/new");
    const res = await fill(agent.post(action), {
      platform: "myspace",
      permalink: "javascript:alert(1)",
      mediaType: "image",
      caption: "Keep this caption",
      publishedAt: "next tuesday",
      status: "published",
    }).expect(400);
    const $ = load(res.text);
    const problems = $("#form-problems").text();
    expect(problems).toContain("platform");
    expect(problems).toContain("permalink");
    expect(problems).toContain("publishedAt");
    expect($("#permalink").attr("aria-invalid")).toBe("true");
    expect($("#caption").text()).toBe("Keep this caption");

    // Valid fields but published without a photo.
    const noPhoto = await fill(agent.post(await formAction("/shop/admin/posts/new")), { platform: "tiktok", mediaType: "image", status: "published" }).expect(400);
    expect(load(noPhoto.text)("#image-error").text()).toContain("needs its photo");

    // A field the form does not have.
    const extra = await fill(agent.post(await formAction("/shop/admin/posts/new")), { platform: "tiktok", mediaType: "image", status: "draft", clickCount: "99" }).expect(400);
    expect(load(extra.text)("#form-problems").text()).toContain("clickCount");

    // Not an image.
    const fake = await fill(agent.post(await formAction("/shop/admin/posts/new")), { platform: "tiktok", mediaType: "image", status: "published" })
      .attach("image", Buffer.from("not an image at all"), { filename: "x.jpg", contentType: "image/jpeg" })
      .expect(400);
    expect(load(fake.text)("#form-problems").text()).toContain("not an image we can read");
    expect(await counts()).toEqual(before);
  });

  it("saves a video post with a poster and places tags at seconds", async () => {
    const product = await createProduct(t.deps, { title: "Reel Scarf", variants: [{ sku: "REEL-1" }] });
    const action = await formAction("/shop/admin/posts/new");
    const res = await fill(agent.post(action), {
      platform: "tiktok",
      mediaType: "video",
      videoUrl: "https://www.tiktok.com/@shop/video/42",
      caption: "Scarf season",
      status: "published",
    })
      .attach("poster", await testImage({ color: "#264653" }), { filename: "poster.jpg", contentType: "image/jpeg" })
      .expect(303);
    const id = res.headers.location!.split("/").pop()!.split("?")[0]!;
    const page = await agent.get(`/shop/admin/posts/${id}`).expect(200);
    const tagForm = load(page.text)("form.tag-new");
    expect(tagForm.find('input[name="startSec"]').length).toBe(1);
    expect(tagForm.find('input[name="x"]').length).toBe(0);

    await agent.post(`/shop/admin/posts/${id}/tags`).type("form").send({ _csrf: csrf, product: "REEL-1", startSec: "12", endSec: "20.5" }).expect(303);
    const bad = await agent.post(`/shop/admin/posts/${id}/tags`).type("form").send({ _csrf: csrf, product: "REEL-1", x: "0.5", y: "0.5" }).expect(400);
    expect(load(bad.text)("#tag-problems").text()).toContain("startSec");
    const tags = await t.db.postTag.findMany({ where: { postId: id } });
    expect(tags.map((tg) => [tg.productId, tg.startSec, tg.endSec, tg.x])).toEqual([[product.id, 12, 20.5, null]]);

    const shop = await request(t.app).get(`/shop/posts/${id}`).expect(200);
    expect(load(shop.text)(".tag-card__time").text()).toBe("0:12 to 0:21");
    expect(load(shop.text)(".hotspot").length).toBe(0);
  });
});

describe("tag editor (no-JS forms and the JSON its script uses)", () => {
  it("adds a tag by SKU (that variant) or by slug (the product), at x/y, and says so", async () => {
    const product = await createProduct(t.deps, { title: "Editor Mug", optionNames: ["Colour"], variants: [{ sku: "ED-MUG-R", option1: "Red" }, { sku: "ED-MUG-B", option1: "Blue" }] });
    const post = await createPost(t.deps);
    const bySku = await agent.post(`/shop/admin/posts/${post.id}/tags`).type("form").send({ _csrf: csrf, product: "ED-MUG-B", x: "0.42", y: "0,55" }).expect(303);
    expect(bySku.headers.location).toBe(`/shop/admin/posts/${post.id}?tag=added#tags`);
    await agent.post(`/shop/admin/posts/${post.id}/tags`).type("form").send({ _csrf: csrf, product: product.slug, x: "۰٫۲", y: "0.9" }).expect(303);
    const tags = await t.db.postTag.findMany({ where: { postId: post.id }, orderBy: { createdAt: "asc" } });
    expect(tags.map((tg) => [tg.variantId, tg.x, tg.y])).toEqual([
      [product.variants[1]!.id, 0.42, 0.55],
      [null, 0.2, 0.9],
    ]);
    const page = await agent.get(`/shop/admin/posts/${post.id}?tag=added`).expect(200);
    const $ = load(page.text);
    expect($(".alert--ok").text()).toContain("Tag added.");
    expect($(".tag-pin[data-pin]").map((_, el) => $(el).attr("data-x")).get()).toEqual(["0.42", "0.2"]);
    expect($(`#tag-row-${tags[0]!.id} select[name="variantId"] option[selected]`).text()).toContain("Blue");
  });

  it("moves the existing tag when the same product is tagged again on a photo (Instagram's rule)", async () => {
    const product = await createProduct(t.deps, { title: "Retag Board" });
    const post = await createPost(t.deps);
    await agent.post(`/shop/admin/posts/${post.id}/tags`).type("form").send({ _csrf: csrf, productId: product.id, x: "0.1", y: "0.1" }).expect(303);
    const again = await agent.post(`/shop/admin/posts/${post.id}/tags`).type("form").send({ _csrf: csrf, productId: product.id, x: "0.8", y: "0.7" }).expect(303);
    expect(again.headers.location).toContain("tag=moved");
    const tags = await t.db.postTag.findMany({ where: { postId: post.id } });
    expect(tags.map((tg) => [tg.x, tg.y])).toEqual([[0.8, 0.7]]);
  });

  it("refuses coordinates outside [0, 1], a missing or archived product and unknown fields, naming the field and writing nothing", async () => {
    const product = await createProduct(t.deps, { title: "Bounds Cup", variants: [{ sku: "BOUNDS-1" }] });
    const other = await createProduct(t.deps, { title: "Other Cup", variants: [{ sku: "OTHER-1" }] });
    const archived = await createProduct(t.deps, { title: "Gone Cup", status: "archived" });
    const post = await createPost(t.deps);
    const before = await t.db.postTag.count();
    const cases: [Record<string, string>, string][] = [
      [{ product: "BOUNDS-1", x: "1.5", y: "0.5" }, "x must be at most 1"],
      [{ product: "BOUNDS-1", x: "0.5", y: "-0.1" }, "y must be at least 0"],
      [{ product: "BOUNDS-1", x: "left", y: "0.5" }, "x is a number from 0 to 1"],
      [{ product: "BOUNDS-1", x: "0.5" }, "First click the photo where the product is"],
      [{ product: "NO-SUCH-SKU", x: "0.5", y: "0.5" }, 'no product with the SKU or URL slug "NO-SUCH-SKU"'],
      [{ productId: "c000000000000000000000000", x: "0.5", y: "0.5" }, "Product: no product with id"],
      [{ productId: archived.id, x: "0.5", y: "0.5" }, "is archived"],
      [{ productId: product.id, variantId: other.variants[0]!.id, x: "0.5", y: "0.5" }, "Variant: "],
      [{ x: "0.5", y: "0.5" }, "choose the product"],
      [{ product: "BOUNDS-1", x: "0.5", y: "0.5", price: "1" }, "price"],
    ];
    for (const [fields, message] of cases) {
      const res = await agent.post(`/shop/admin/posts/${post.id}/tags`).type("form").send({ _csrf: csrf, ...fields });
      expect(res.status, JSON.stringify(fields)).toBe(400);
      expect(load(res.text)("#tag-problems").text(), JSON.stringify(fields)).toContain(message);
    }
    // What was typed stays in the form.
    const res = await agent.post(`/shop/admin/posts/${post.id}/tags`).type("form").send({ _csrf: csrf, product: "BOUNDS-1", x: "1.5", y: "0.25" }).expect(400);
    expect(load(res.text)("#tag-x").val()).toBe("1.5");
    expect(load(res.text)("#tag-x").attr("aria-invalid")).toBe("true");
    expect(load(res.text)("#tag-y").val()).toBe("0.25");
    // The same as JSON (the editor's script asks for JSON).
    const json = await agent.post(`/shop/admin/posts/${post.id}/tags`).set("Accept", "application/json").type("form").send({ _csrf: csrf, product: "BOUNDS-1", x: "2", y: "0.5" }).expect(400);
    expect(json.body.error.details).toEqual([{ field: "x", message: "x must be at most 1 (the right edge)." }]);
    // Without the CSRF token nothing happens either.
    await agent.post(`/shop/admin/posts/${post.id}/tags`).type("form").send({ product: "BOUNDS-1", x: "0.5", y: "0.5" }).expect(403);
    expect(await t.db.postTag.count()).toBe(before);
  });

  it("moves a tag from the editor's script (JSON, X-CSRF-Token) and removes it", async () => {
    const product = await createProduct(t.deps, { title: "Drag Me", optionNames: ["Size"], variants: [{ option1: "S" }, { option1: "L" }] });
    const post = await createPost(t.deps);
    const tag = await createTag(t.deps, { postId: post.id, productId: product.id, variantId: product.variants[1]!.id, x: 0.3, y: 0.3 });
    const moved = await agent
      .post(`/shop/admin/posts/${post.id}/tags/${tag.id}`)
      .set({ Accept: "application/json", "X-CSRF-Token": csrf })
      .type("form")
      .send({ x: "0.61", y: "0.27" })
      .expect(200);
    // Only x and y were sent: the tagged variant stays.
    expect(moved.body.data).toMatchObject({ id: tag.id, x: 0.61, y: 0.27, productId: product.id, variantId: product.variants[1]!.id });
    const bad = await agent.post(`/shop/admin/posts/${post.id}/tags/${tag.id}`).set({ Accept: "application/json", "X-CSRF-Token": csrf }).type("form").send({ x: "1.01" }).expect(400);
    expect(bad.body.error.message).toContain("x must be at most 1");
    expect(await t.db.postTag.findUniqueOrThrow({ where: { id: tag.id } })).toMatchObject({ x: 0.61, y: 0.27 });

    await agent.post(`/shop/admin/posts/${post.id}/tags/${tag.id}/delete`).type("form").send({ _csrf: csrf }).expect(303);
    expect(await t.db.postTag.count({ where: { id: tag.id } })).toBe(0);
    await agent.post(`/shop/admin/posts/${post.id}/tags/${tag.id}/delete`).type("form").send({ _csrf: csrf }).expect(404);
  });

  it("warns past 20 tags on a photo post (Instagram's limit) but keeps them", async () => {
    const post = await createPost(t.deps);
    for (let i = 0; i < 20; i++) {
      const p = await createProduct(t.deps, { title: `Many ${i}` });
      await createTag(t.deps, { postId: post.id, productId: p.id, x: (i + 1) / 25, y: 0.5 });
    }
    let page = load((await agent.get(`/shop/admin/posts/${post.id}`).expect(200)).text);
    expect(page("#tag-warning").length).toBe(0);
    const last = await createProduct(t.deps, { title: "Number 21" });
    const added = await agent.post(`/shop/admin/posts/${post.id}/tags`).set("Accept", "application/json").type("form").send({ _csrf: csrf, productId: last.id, x: "0.5", y: "0.9" }).expect(201);
    expect(added.body.count).toBe(21);
    expect(added.body.warning).toContain("at most 20 on a photo post");
    page = load((await agent.get(`/shop/admin/posts/${post.id}`).expect(200)).text);
    expect(page("#tag-warning").text()).toContain("This post has 21 tags. Instagram shows at most 20");
    const fa = load((await agent.get(`/shop/admin/posts/${post.id}?lang=fa`).expect(200)).text);
    expect(fa("#tag-warning").text()).toContain("۲۱ برچسب");
    await agent.get("/shop/admin/posts?lang=en").expect(200); // back to English for the next tests
  });

  it("searches products by title, Persian title or SKU for the tag picker, leaving archived ones out", async () => {
    await createProduct(t.deps, { title: "Searchable Teapot", titleFa: "قوری جست‌وجوپذیر", variants: [{ sku: "TEAPOT-77", priceMinor: 4500, stock: 2 }] });
    await createProduct(t.deps, { title: "Searchable Archived Teapot", status: "archived" });
    const byTitle = await agent.get("/shop/admin/posts/product-search?q=Searchable").expect(200);
    expect(byTitle.body.data.map((p: { title: string }) => p.title)).toEqual(["Searchable Teapot"]);
    expect(byTitle.body.data[0].variants[0]).toMatchObject({ sku: "TEAPOT-77", price: "$45.00", availability: "in_stock" });
    const bySku = await agent.get("/shop/admin/posts/product-search?q=TEAPOT-7").expect(200);
    expect(bySku.body.data).toHaveLength(1);
    const byFa = await agent.get(`/shop/admin/posts/product-search?q=${encodeURIComponent("قوری")}&lang=fa`).expect(200);
    expect(byFa.body.data[0].title).toBe("قوری جست‌وجوپذیر");
    await agent.get("/shop/admin/posts?lang=en").expect(200); // the ?lang=fa above is remembered in a cookie
    await agent.get(`/shop/admin/posts/product-search?q=${"x".repeat(101)}`).set("Accept", "application/json").expect(400);
  });
});

describe("Tag health", () => {
  it("lists broken and sold-out tags with the suggested fix, and the fixes work", async () => {
    const archived = await createProduct(t.deps, { title: "Health Archived" });
    const deleted = await createProduct(t.deps, { title: "Health Deleted" });
    const sibling = await createProduct(t.deps, {
      title: "Health Sizes",
      optionNames: ["Size"],
      variants: [
        { sku: "HS-S", option1: "S", stock: 0 },
        { sku: "HS-M", option1: "M", stock: 3 },
      ],
    });
    const healthy = await createProduct(t.deps, { title: "Health Fine" });
    const post = await createPost(t.deps, { caption: "Health check post" });
    const tArchived = await createTag(t.deps, { postId: post.id, productId: archived.id, x: 0.1 });
    const tDeleted = await createTag(t.deps, { postId: post.id, productId: deleted.id, x: 0.2 });
    const tSoldOut = await createTag(t.deps, { postId: post.id, productId: sibling.id, variantId: sibling.variants[0]!.id, x: 0.3 });
    const tFine = await createTag(t.deps, { postId: post.id, productId: healthy.id, x: 0.4 });
    await t.db.product.update({ where: { id: archived.id }, data: { status: "archived" } });
    await t.db.product.delete({ where: { id: deleted.id } });

    const page = load((await agent.get("/shop/admin/posts/tag-health").expect(200)).text);
    const row = (id: string) => page(`tr[data-tag="${id}"]`);
    expect(row(tArchived.id).attr("data-severity")).toBe("broken");
    expect(row(tArchived.id).text()).toContain('"Health Archived" is archived, so the tag is hidden.');
    expect(row(tArchived.id).text()).toContain("Restore the product, or remove the tag.");
    expect(row(tArchived.id).find(`a[href="/shop/admin/products/${archived.id}"]`).length).toBe(1);
    expect(row(tDeleted.id).attr("data-problem")).toBe("product_deleted");
    expect(row(tDeleted.id).text()).toContain("Health Deleted");
    expect(row(tDeleted.id).text()).toContain("Remove the tag, or tag another product in its place.");
    expect(row(tSoldOut.id).attr("data-severity")).toBe("warning");
    expect(row(tSoldOut.id).text()).toContain("HS-S is sold out; shoppers are offered M (HS-M) instead.");
    expect(row(tFine.id).length).toBe(0);
    // Broken rows come first.
    const order = page("tr[data-tag]").map((_, el) => page(el).attr("data-severity")).get();
    expect(order.indexOf("warning")).toBeGreaterThan(order.lastIndexOf("broken"));

    // One-click fixes: retag to the in-stock size, remove the deleted product's tag.
    const retag = row(tSoldOut.id).find("form").first();
    await agent.post(retag.attr("action")!).type("form").send({ _csrf: csrf, variantId: retag.find('input[name="variantId"]').val(), return: "health" }).expect(303, /tag-health\?fixed=1/);
    expect((await t.db.postTag.findUniqueOrThrow({ where: { id: tSoldOut.id } })).variantId).toBe(sibling.variants[1]!.id);
    await agent.post(`/shop/admin/posts/${post.id}/tags/${tDeleted.id}/delete`).type("form").send({ _csrf: csrf, return: "health" }).expect(303);
    const after = load((await agent.get("/shop/admin/posts/tag-health?fixed=1").expect(200)).text);
    expect(after(`tr[data-tag="${tSoldOut.id}"]`).length).toBe(0);
    expect(after(`tr[data-tag="${tDeleted.id}"]`).length).toBe(0);
    expect(after(`tr[data-tag="${tArchived.id}"]`).length).toBe(1);
  });
});

describe("deleting a post", () => {
  it("asks first, then deletes the post and its tags; a tracked link to it stays", async () => {
    const product = await createProduct(t.deps);
    const post = await createPost(t.deps, { caption: "Delete me" });
    await createTag(t.deps, { postId: post.id, productId: product.id });
    const link = await t.db.shortLink.create({ data: { code: "to-deleted-post", targetType: "post", postId: post.id, channel: "instagram-story" } });
    const confirm = load((await agent.get(`/shop/admin/posts/${post.id}/delete`).expect(200)).text);
    expect(confirm("h1").text()).toBe("Delete this post?");
    await agent.post(`/shop/admin/posts/${post.id}/delete`).type("form").send({ _csrf: csrf }).expect(303, /\/shop\/admin\/posts$/);
    expect(await t.db.post.count({ where: { id: post.id } })).toBe(0);
    expect(await t.db.postTag.count({ where: { postId: post.id } })).toBe(0);
    expect((await t.db.shortLink.findUniqueOrThrow({ where: { id: link.id } })).postId).toBeNull();
  });

  it("keeps the photo when a post is edited without a new upload", async () => {
    const photo = await createPhoto(t.deps, { color: "#e9c46a" });
    const post = await createPost(t.deps, { mediaId: photo.id, caption: "Before" });
    const action = await formAction(`/shop/admin/posts/${post.id}`);
    await fill(agent.post(action), { platform: "pinterest", mediaType: "image", caption: "After", status: "hidden", permalink: "", publishedAt: "", imageAlt: "New alt", videoUrl: "" }).expect(303);
    const saved = await t.db.post.findUniqueOrThrow({ where: { id: post.id }, include: { media: true } });
    expect(saved).toMatchObject({ platform: "pinterest", caption: "After", status: "hidden", mediaId: photo.id });
    expect(saved.media?.alt).toBe("New alt");
  });
});
