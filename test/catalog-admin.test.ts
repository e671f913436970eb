import { readFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct, testImage } from "./helpers/factories.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";

let t: TestApp;
let agent: TestAgent;
beforeAll(async () => {
  t = await buildTestApp();
  const { email, password } = await createAdmin(t.deps);
  agent = request.agent(t.app);
  await signIn(agent, email, password);
  await t.db.collection.create({ data: { slug: "gifts", title: "Gifts" } });
});
afterAll(() => t.close());

/** The form's multipart action (with its ?_csrf=) from a rendered page. */
async function formAction(pagePath: string) {
  const page = await agent.get(pagePath).expect(200);
  return load(page.text)("form.product-form").attr("action")!;
}

function fill(req: request.Test, fields: Record<string, string>) {
  for (const [k, v] of Object.entries(fields)) req.field(k, v);
  return req;
}

const newMug = {
  title: "Glazed Mug",
  description: "Line one.\nLine two.",
  status: "active",
  brand: "Studio",
  condition: "new",
  option1Name: "Colour",
  collections: "gifts",
  faTitle: "ماگ لعابی",
  "variants.0.sku": "GLZ-BLU",
  "variants.0.option1": "Blue",
  "variants.0.price": "28.50",
  "variants.0.stock": "4",
  "variants.1.sku": "GLZ-RED",
  "variants.1.option1": "Red",
  "variants.1.price": "30",
  "variants.1.compareAt": "35.00",
  "variants.1.stock": "0",
};

describe("admin product pages", () => {
  it("needs a signed-in admin", async () => {
    await request(t.app).get("/shop/admin/products").expect(303);
    await request(t.app).get("/shop/admin/products/new").expect(303);
  });

  it("creates a product from the form, with an uploaded image re-encoded and its EXIF removed", async () => {
    const action = await formAction("/shop/admin/products/new");
    expect(action).toMatch(/^\/shop\/admin\/products\?_csrf=/);
    const photo = await testImage({ exif: true, width: 900, height: 700 });
    expect((await sharp(photo).metadata()).exif).toBeDefined();
    const res = await fill(agent.post(action), newMug).attach("newImages", photo, { filename: "mug.jpg", contentType: "image/jpeg" }).expect(303);
    expect(res.headers.location).toMatch(/^\/shop\/admin\/products\/\w+\?saved=1$/);

    const product = await t.db.product.findUniqueOrThrow({
      where: { slug: "glazed-mug" },
      include: { variants: { orderBy: { position: "asc" } }, images: { include: { media: true } }, translations: true, collections: true },
    });
    expect(product.variants.map((v) => [v.sku, v.priceMinor, v.compareAtMinor, v.stock])).toEqual([
      ["GLZ-BLU", 2850, null, 4],
      ["GLZ-RED", 3000, 3500, 0],
    ]);
    expect(product.description).toBe("Line one.\nLine two.");
    expect(product.translations[0]?.title).toBe("ماگ لعابی");
    expect(product.collections).toHaveLength(1);
    expect(product.images).toHaveLength(1);
    const key = product.images[0]!.media.storageKey;
    for (const file of [`${key}-640.webp`, `${key}-sq.jpg`]) {
      const meta = await sharp(readFileSync(path.join(t.deps.uploadsDir, file))).metadata();
      expect(meta.exif).toBeUndefined();
    }
    const sq = await sharp(readFileSync(path.join(t.deps.uploadsDir, `${key}-sq.jpg`))).metadata();
    expect([sq.width, sq.height]).toEqual([800, 800]);

    const edit = await agent.get(res.headers.location!).expect(200);
    expect(load(edit.text)(".alert--ok").text()).toContain("Saved.");
    expect(load(edit.text)('input[name="variants.0.price"]').val()).toBe("28.50");
    const shop = await request(t.app).get("/shop/p/glazed-mug").expect(200);
    expect(load(shop.text)(".gallery__main img").attr("alt")).toBe("Glazed Mug");
  });

  it("shows every problem next to its field, keeps what was typed, and writes nothing", async () => {
    const before = { products: await t.db.product.count(), media: await t.db.media.count() };
    const action = await formAction("/shop/admin/products/new");
    const res = await fill(agent.post(action), {
      ...newMug,
      title: "",
      "variants.0.price": "12.345",
      "variants.1.stock": "lots",
      "variants.1.compareAt": "1.00",
    })
      .attach("newImages", await testImage(), { filename: "a.jpg", contentType: "image/jpeg" })
      .expect(400);
    const $ = load(res.text);
    expect($("#form-problems").text()).toContain("Give the product a title.");
    expect($("#variants-0-price-error").text()).toContain("more than 2 decimals");
    expect($("#variants-1-stock-error").text()).toContain("not a whole number");
    expect($("#title").attr("aria-invalid")).toBe("true");
    expect($('input[name="variants.0.sku"]').val()).toBe("GLZ-BLU");
    expect($('input[name="variants.0.price"]').val()).toBe("12.345");
    expect(await t.db.product.count()).toBe(before.products);
    expect(await t.db.media.count()).toBe(before.media);
  });

  it("names the other product when a SKU is taken", async () => {
    await createProduct(t.deps, { title: "Owner of SKU", variants: [{ sku: "TAKEN-1" }] });
    const action = await formAction("/shop/admin/products/new");
    const res = await fill(agent.post(action), { title: "Thief", status: "draft", "variants.0.sku": "TAKEN-1", "variants.0.price": "1" }).expect(409);
    expect(load(res.text)("#form-problems").text()).toContain('SKU TAKEN-1 already belongs to "Owner of SKU".');
    expect(await t.db.product.count({ where: { title: "Thief" } })).toBe(0);
  });

  it("refuses a file that is not an image, and an oversized one", async () => {
    const action = await formAction("/shop/admin/products/new");
    const fake = await fill(agent.post(action), { ...newMug, title: "Fake image", "variants.0.sku": "FAKE-1", "variants.1.sku": "FAKE-2" })
      .attach("newImages", Buffer.from("#!/bin/sh\necho not an image\n"), { filename: "photo.jpg", contentType: "image/jpeg" })
      .expect(400);
    expect(load(fake.text)("#form-problems").text()).toContain("not an image we can read");
    expect(await t.db.product.count({ where: { title: "Fake image" } })).toBe(0);

    const action2 = await formAction("/shop/admin/products/new");
    const big = await agent.post(action2).field("title", "Huge").attach("newImages", Buffer.alloc(11 * 1024 * 1024, 1), { filename: "huge.jpg", contentType: "image/jpeg" });
    expect(big.status).toBe(413);
    expect(big.text).toContain("at most 10 MB");
  });

  it("edits prices, removes a variant (archived), reorders images and sets alt text", async () => {
    const p = await createProduct(t.deps, { title: "Editable", optionNames: ["Size"], variants: [{ sku: "ED-S", option1: "S" }, { sku: "ED-M", option1: "M" }], image: true });
    const second = await t.db.media.create({ data: { storageKey: "f".repeat(32), mime: "image/webp", width: 10, height: 10, bytes: 1 } });
    await t.db.productImage.create({ data: { productId: p.id, mediaId: second.id, position: 1 } });
    const page = await agent.get(`/shop/admin/products/${p.id}`).expect(200);
    const $ = load(page.text);
    const fields: Record<string, string> = {};
    $("form.product-form input, form.product-form textarea, form.product-form select").each((_, el) => {
      const name = $(el).attr("name");
      const type = $(el).attr("type");
      if (!name || type === "file") return;
      if (type === "checkbox") {
        if ($(el).attr("checked") !== undefined) fields[name] = "on";
        return;
      }
      fields[name] = String($(el).is("select") ? ($(el).find("option[selected]").attr("value") ?? "") : ($(el).val() ?? ""));
    });
    fields["variants.0.price"] = "19.99";
    fields["variants.1.remove"] = "on";
    fields["images.0.position"] = "2";
    fields["images.1.position"] = "1";
    fields["images.1.alt"] = "Second photo";
    fields.status = "active";
    await fill(agent.post(load(page.text)("form.product-form").attr("action")!), fields).expect(303);
    const after = await t.db.product.findUniqueOrThrow({ where: { id: p.id }, include: { variants: true, images: { orderBy: { position: "asc" } } } });
    expect(after.variants.find((v) => v.sku === "ED-S")?.priceMinor).toBe(1999);
    expect(after.variants.find((v) => v.sku === "ED-M")?.archivedAt).not.toBeNull();
    expect(after.images.map((i) => [i.mediaId, i.alt])).toEqual([
      [second.id, "Second photo"],
      [expect.any(String), "Editable photo"],
    ]);
  });

  it("archives and restores from the edit page", async () => {
    const p = await createProduct(t.deps, { slug: "arch-me" });
    const page = await agent.get(`/shop/admin/products/${p.id}`);
    await agent.post(`/shop/admin/products/${p.id}/status`).type("form").send({ _csrf: csrfFrom(page.text), status: "archived" }).expect(303);
    await request(t.app).get("/shop/p/arch-me").expect(404);
    const again = await agent.get(`/shop/admin/products/${p.id}`);
    expect(load(again.text)(".page-head__actions button").text()).toContain("Restore as draft");
    expect((await t.db.auditLog.findFirst({ where: { entityId: p.id, action: "product.archive" } }))?.actorType).toBe("admin");
  });

  it("lists, searches and filters products", async () => {
    await createProduct(t.deps, { title: "Findable Teapot", variants: [{ sku: "TEA-POT-1", stock: 3, priceMinor: 4500 }] });
    await createProduct(t.deps, { title: "Draft Thing", status: "draft" });
    const all = await agent.get("/shop/admin/products").expect(200);
    expect(all.text).toContain("Findable Teapot");
    expect(load(all.text)('a[href="/shop/admin/products/import"]').text()).toBe("Import CSV");
    await agent.get("/shop/admin/products/import").expect(200);
    const bySku = await agent.get("/shop/admin/products?q=TEA-POT").expect(200);
    const rows = load(bySku.text)("tbody tr");
    expect(rows).toHaveLength(1);
    expect(rows.text()).toContain("3 available of 3");
    expect(rows.text()).toContain("$45.00");
    const drafts = await agent.get("/shop/admin/products?status=draft").expect(200);
    expect(drafts.text).toContain("Draft Thing");
    expect(drafts.text).not.toContain("Findable Teapot");
    const weird = await agent.get(`/shop/admin/products?q=${encodeURIComponent("a&b #c")}`).expect(200);
    expect(load(weird.text)('nav.tabs a').first().attr("href")).toBe("/shop/admin/products?q=a%26b+%23c");
  });

  it("answers 404 for an unknown product", async () => {
    await agent.get("/shop/admin/products/nope").expect(404);
  });
});
