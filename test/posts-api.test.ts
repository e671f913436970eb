import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct, createToken, testImage } from "./helpers/factories.js";
import { createPhoto, createPost, createTag } from "./helpers/post-factories.js";

let t: TestApp;
let auth: { Authorization: string };
beforeAll(async () => {
  t = await buildTestApp();
  const { token } = await createToken(t.deps);
  auth = { Authorization: `Bearer ${token}` };
});
afterAll(() => t.close());

const api = (method: "get" | "post" | "patch" | "put" | "delete", path: string) => request(t.app)[method](`/shop/api/v1${path}`).set(auth);

describe("/api/v1/posts", () => {
  it("needs a token", async () => {
    await request(t.app).get("/shop/api/v1/posts").expect(401);
  });

  it("creates, reads, lists, changes and deletes a post", async () => {
    const photo = await createPhoto(t.deps);
    const created = await api("post", "/posts")
      .send({ platform: "telegram", permalink: "https://t.me/shop/12", mediaId: photo.id, caption: "New batch", publishedAt: "2026-11-01T10:00:00Z", imageAlt: "Six mugs" })
      .expect(201);
    const id = created.body.data.id as string;
    expect(created.headers.location).toBe(`/shop/api/v1/posts/${id}`);
    expect(created.body.data).toMatchObject({ platform: "telegram", mediaType: "image", status: "published", caption: "New batch", tags: [], warning: null });
    expect(created.body.data.image).toMatchObject({ storageKey: photo.storageKey, alt: "Six mugs" });

    expect((await api("get", `/posts/${id}`).expect(200)).body.data.permalink).toBe("https://t.me/shop/12");
    const list = await api("get", "/posts?status=published&limit=100").expect(200);
    expect(list.body.data.map((p: { id: string }) => p.id)).toContain(id);

    const changed = await api("patch", `/posts/${id}`).send({ caption: "New batch, restocked", status: "hidden" }).expect(200);
    expect(changed.body.data).toMatchObject({ caption: "New batch, restocked", status: "hidden", platform: "telegram" });

    await api("delete", `/posts/${id}`).expect(200);
    await api("get", `/posts/${id}`).expect(404);
  });

  it("refuses bad posts with a 400 naming the field, and writes nothing", async () => {
    const before = await t.db.post.count();
    const cases: [Record<string, unknown>, string][] = [
      [{ platform: "myspace" }, "platform"],
      [{ platform: "instagram", permalink: "javascript:alert(1)", status: "draft" }, "permalink"],
      [{ platform: "instagram", status: "published" }, "image"],
      [{ platform: "tiktok", mediaType: "video", status: "published", videoUrl: "https://www.tiktok.com/@s/video/1" }, "poster"],
      [{ platform: "instagram", mediaId: "c000000000000000000000000" }, "mediaId"],
      [{ platform: "instagram", status: "draft", clickCount: 3 }, "clickCount"],
      [{ platform: "instagram", status: "draft", caption: "x".repeat(2201) }, "caption"],
    ];
    for (const [body, field] of cases) {
      const res = await api("post", "/posts").send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.body.error.details), JSON.stringify(body)).toContain(field);
    }
    expect(await t.db.post.count()).toBe(before);
  });

  it("takes the photo as the raw request body, re-encoded like an upload", async () => {
    const draft = await api("post", "/posts").send({ platform: "pinterest", status: "draft" }).expect(201);
    const id = draft.body.data.id as string;
    const res = await api("put", `/posts/${id}/image?alt=A%20pinned%20bowl`).set("Content-Type", "image/jpeg").send(await testImage({ color: "#f4a261" })).expect(200);
    expect(res.body.data.image.alt).toBe("A pinned bowl");
    await api("patch", `/posts/${id}`).send({ status: "published" }).expect(200);
    await api("put", `/posts/${id}/image`).set("Content-Type", "image/jpeg").send(Buffer.from("nope")).expect(400);
    await api("put", `/posts/${id}/image`).set("Content-Type", "text/plain").send("hello").expect(415);
    await api("put", `/posts/${id}/poster`).set("Content-Type", "image/jpeg").send(await testImage()).expect(409);
  });

  it("refuses to switch a tagged post between image and video", async () => {
    const product = await createProduct(t.deps);
    const post = await createPost(t.deps);
    await createTag(t.deps, { postId: post.id, productId: product.id });
    const poster = await createPhoto(t.deps);
    const res = await api("patch", `/posts/${post.id}`).send({ mediaType: "video", videoUrl: "https://youtu.be/x", posterId: poster.id }).expect(409);
    expect(res.body.error.details[0].field).toBe("mediaType");
    expect((await t.db.post.findUniqueOrThrow({ where: { id: post.id } })).mediaType).toBe("image");
  });
});

describe("/api/v1/posts/:id/tags", () => {
  it("adds, moves (re-tagging the same product) and removes tags, with their live state", async () => {
    const product = await createProduct(t.deps, { title: "API Tray", variants: [{ priceMinor: 4100, stock: 1 }] });
    const post = await createPost(t.deps);
    const added = await api("post", `/posts/${post.id}/tags`).send({ productId: product.id, x: 0.1, y: 0.2 }).expect(201);
    expect(added.body).toMatchObject({ moved: false, count: 1, warning: null, data: { productId: product.id, x: 0.1, y: 0.2 } });
    const again = await api("post", `/posts/${post.id}/tags`).send({ productId: product.id, x: 0.3, y: 0.4 }).expect(200);
    expect(again.body).toMatchObject({ moved: true, count: 1, data: { id: added.body.data.id, x: 0.3, y: 0.4 } });

    const moved = await api("patch", `/posts/${post.id}/tags/${added.body.data.id}`).send({ y: 0.9 }).expect(200);
    expect(moved.body.data).toMatchObject({ x: 0.3, y: 0.9 });
    const read = await api("get", `/posts/${post.id}`).expect(200);
    expect(read.body.data.tags[0]).toMatchObject({ title: "API Tray", priceMinor: 4100, availability: "in_stock", state: "in_stock", problem: null });

    await api("delete", `/posts/${post.id}/tags/${added.body.data.id}`).expect(200);
    expect(await t.db.postTag.count({ where: { postId: post.id } })).toBe(0);
  });

  it("refuses out-of-range coordinates, missing products and posts, and unknown fields; nothing is written", async () => {
    const product = await createProduct(t.deps);
    const other = await createProduct(t.deps);
    const post = await createPost(t.deps);
    const before = await t.db.postTag.count();
    const cases: [Record<string, unknown>, string, number][] = [
      [{ productId: product.id, x: 1.2, y: 0.5 }, "x", 400],
      [{ productId: product.id, x: 0.5, y: -0.01 }, "y", 400],
      [{ productId: product.id, x: "0.5", y: 0.5 }, "x", 400],
      [{ productId: "c000000000000000000000000", x: 0.5, y: 0.5 }, "productId", 400],
      [{ productId: product.id, variantId: other.variants[0]!.id, x: 0.5, y: 0.5 }, "variantId", 400],
      [{ productId: product.id, startSec: 3 }, "x", 400],
      [{ productId: product.id, x: 0.5, y: 0.5, colour: "red" }, "colour", 400],
    ];
    for (const [body, field, status] of cases) {
      const res = await api("post", `/posts/${post.id}/tags`).send(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      // Named as the field, or (an unknown field) in the message of the root issue.
      expect(JSON.stringify(res.body.error.details), JSON.stringify(body)).toContain(field);
    }
    await api("post", "/posts/c000000000000000000000000/tags").send({ productId: product.id, x: 0.5, y: 0.5 }).expect(404);
    const video = await createPost(t.deps, { mediaType: "video" });
    const reversed = await api("post", `/posts/${video.id}/tags`).send({ productId: product.id, startSec: 10, endSec: 5 }).expect(400);
    expect(reversed.body.error.details[0].field).toBe("endSec");
    expect(await t.db.postTag.count()).toBe(before);
  });

  it("reports Tag health as JSON", async () => {
    const gone = await createProduct(t.deps, { title: "API Gone" });
    const post = await createPost(t.deps);
    const tag = await createTag(t.deps, { postId: post.id, productId: gone.id });
    await t.db.product.update({ where: { id: gone.id }, data: { status: "archived" } });
    const res = await api("get", "/posts/tag-health").expect(200);
    expect(res.body.data.problems).toContainEqual(expect.objectContaining({ tagId: tag.id, severity: "broken", problem: "product_archived", title: "API Gone" }));
  });
});
