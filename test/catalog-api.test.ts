import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct, createToken } from "./helpers/factories.js";

let t: TestApp;
let auth: { Authorization: string };
beforeAll(async () => {
  t = await buildTestApp();
  auth = { Authorization: `Bearer ${(await createToken(t.deps)).token}` };
  await t.db.collection.create({ data: { slug: "ceramics", title: "Ceramics" } });
});
afterAll(() => t.close());

const mug = (overrides: Record<string, unknown> = {}) => ({
  title: "Speckled Mug",
  description: "Thrown on the wheel.",
  brand: "Studio",
  status: "active",
  optionNames: ["Colour"],
  collections: ["ceramics"],
  translations: { fa: { title: "ماگ خال‌دار", description: "" } },
  variants: [
    { sku: "MUG-SPK-WHT", option1: "White", priceMinor: 2800, stock: 5 },
    { sku: "MUG-SPK-BLK", option1: "Black", priceMinor: 3000, compareAtMinor: 3500, stock: 0, gtin: "4006381333931" },
  ],
  ...overrides,
});

describe("POST /api/v1/products", () => {
  it("creates a product with variants, translation and collection, and shows it in the shop", async () => {
    const res = await request(t.app).post("/shop/api/v1/products").set(auth).send(mug()).expect(201);
    expect(res.headers.location).toBe(`/shop/api/v1/products/${res.body.data.id}`);
    expect(res.body.data).toMatchObject({ slug: "speckled-mug", status: "active", optionNames: ["Colour"] });
    expect(res.body.data.variants.map((v: { sku: string; availability: string }) => [v.sku, v.availability])).toEqual([
      ["MUG-SPK-WHT", "in_stock"],
      ["MUG-SPK-BLK", "out_of_stock"],
    ]);
    expect(res.body.data.translations).toEqual([{ locale: "fa", title: "ماگ خال‌دار", description: "" }]);
    const page = await request(t.app).get("/shop/p/speckled-mug").expect(200);
    expect(page.text).toContain("Speckled Mug");
    const audit = await t.db.auditLog.findFirst({ where: { action: "product.create", entityId: res.body.data.id } });
    expect(audit?.actorType).toBe("api");
  });

  it("gives a second product with the same title its own slug", async () => {
    const res = await request(t.app).post("/shop/api/v1/products").set(auth).send(mug({ variants: [{ sku: "MUG-2", priceMinor: 100, stock: 1 }], optionNames: [] })).expect(201);
    expect(res.body.data.slug).toBe("speckled-mug-2");
  });

  it.each([
    [{ variants: [] }, "variants", "at least one variant"],
    [{ variants: [{ sku: "X1", priceMinor: -1, stock: 1 }], optionNames: [] }, "variants.0.priceMinor", "negative"],
    [{ variants: [{ sku: "X1", priceMinor: 12.5, stock: 1 }], optionNames: [] }, "variants.0.priceMinor", "whole number"],
    [{ variants: [{ sku: "X1", priceMinor: 100, stock: -2 }], optionNames: [] }, "variants.0.stock", "negative"],
    [{ variants: [{ sku: "X1", priceMinor: 100, stock: 1, gtin: "12ab" }], optionNames: [] }, "variants.0.gtin", "GTIN"],
    [{ variants: [{ sku: "X1", priceMinor: 100, compareAtMinor: 90, stock: 1 }], optionNames: [] }, "variants.0.compareAtMinor", "higher"],
    [{ variants: [{ sku: "DUP", option1: "A", priceMinor: 1, stock: 1 }, { sku: "dup", option1: "B", priceMinor: 1, stock: 1 }] }, "variants.1.sku", "used twice"],
    [{ variants: [{ sku: "S1", option1: "A", priceMinor: 1, stock: 1 }, { sku: "S2", option1: "a", priceMinor: 1, stock: 1 }] }, "variants.1.option1", "same options"],
    [{ status: "live" }, "status", "One of"],
    [{ title: "" }, "title", "title"],
    [{ secret: 1 }, "(root)", "Unrecognized"],
  ])("rejects bad input %# naming the field, writing nothing", async (overrides, field, message) => {
    const before = await t.db.product.count();
    const res = await request(t.app).post("/shop/api/v1/products").set(auth).send(mug({ title: "Bad one", ...overrides })).expect(400);
    const detail = res.body.error.details.find((d: { field: string }) => d.field === field);
    expect(detail, JSON.stringify(res.body.error.details)).toBeTruthy();
    expect(detail.message).toContain(message);
    expect(await t.db.product.count()).toBe(before);
  });

  it("refuses a currency other than the shop's", async () => {
    const res = await request(t.app).post("/shop/api/v1/products").set(auth).send(mug({ title: "Euro mug", optionNames: [], variants: [{ sku: "EUR-1", priceMinor: 100, stock: 1, currency: "EUR" }] })).expect(400);
    expect(res.body.error.message).toContain("this shop sells in USD");
  });

  it("refuses a SKU another product already has, naming that product, and writes nothing", async () => {
    const before = await t.db.product.count();
    const res = await request(t.app).post("/shop/api/v1/products").set(auth).send(mug({ title: "Copycat", optionNames: [], variants: [{ sku: "MUG-SPK-WHT", priceMinor: 1, stock: 1 }] })).expect(409);
    expect(res.body.error.message).toBe('SKU MUG-SPK-WHT already belongs to "Speckled Mug".');
    expect(await t.db.product.count()).toBe(before);
  });

  it("refuses unknown collections without creating the product", async () => {
    const before = await t.db.product.count();
    await request(t.app).post("/shop/api/v1/products").set(auth).send(mug({ title: "Lost", collections: ["nope"], optionNames: [], variants: [{ sku: "LOST-1", priceMinor: 1, stock: 1 }] })).expect(400);
    expect(await t.db.product.count()).toBe(before);
    expect(await t.db.variant.count({ where: { sku: "LOST-1" } })).toBe(0);
  });
});

describe("PUT /api/v1/products/:id", () => {
  it("updates fields, matches variants by SKU, adds new ones and archives the ones left out", async () => {
    const p = await createProduct(t.deps, { title: "Board", optionNames: ["Size"], variants: [{ sku: "BRD-S", option1: "S" }, { sku: "BRD-M", option1: "M" }] });
    const body = {
      title: "Walnut Board",
      status: "active",
      optionNames: ["Size"],
      variants: [
        { sku: "BRD-M", option1: "M", priceMinor: 4800, stock: 6 },
        { sku: "BRD-L", option1: "L", priceMinor: 6200, stock: 1 },
      ],
    };
    const res = await request(t.app).put(`/shop/api/v1/products/${p.id}`).set(auth).send(body).expect(200);
    expect(res.body.data.title).toBe("Walnut Board");
    expect(res.body.data.slug).toBe(p.slug);
    expect(res.body.data.variants.map((v: { sku: string }) => v.sku)).toEqual(["BRD-M", "BRD-L"]);
    const medium = await t.db.variant.findUniqueOrThrow({ where: { sku: "BRD-M" } });
    expect(medium.id).toBe(p.variants[1]!.id);
    const small = await t.db.variant.findUniqueOrThrow({ where: { sku: "BRD-S" } });
    expect(small.archivedAt).not.toBeNull();
  });

  it("answers 404 for an unknown product", async () => {
    await request(t.app).put("/shop/api/v1/products/nope").set(auth).send(mug({ title: "Ghost", optionNames: [], variants: [{ sku: "G-1", priceMinor: 1, stock: 1 }] })).expect(404);
  });
});

describe("status and archive", () => {
  it("archives through DELETE: gone from the shop, kept in the database", async () => {
    const p = await createProduct(t.deps, { slug: "to-archive" });
    await request(t.app).get("/shop/p/to-archive").expect(200);
    const res = await request(t.app).delete(`/shop/api/v1/products/${p.id}`).set(auth).expect(200);
    expect(res.body.data.status).toBe("archived");
    await request(t.app).get("/shop/p/to-archive").expect(404);
    await request(t.app).patch(`/shop/api/v1/products/${p.id}/status`).set(auth).send({ status: "active" }).expect(200);
    await request(t.app).get("/shop/p/to-archive").expect(200);
  });
});

describe("PATCH /api/v1/variants/:id", () => {
  it("sets stock and price", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 3, priceMinor: 1000 }] });
    const res = await request(t.app).patch(`/shop/api/v1/variants/${p.variants[0]!.id}`).set(auth).send({ stock: 9, priceMinor: 1200 }).expect(200);
    expect(res.body.data).toMatchObject({ stock: 9, priceMinor: 1200 });
  });

  it("never takes stock below zero, even with parallel decrements", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 5 }] });
    const id = p.variants[0]!.id;
    const results = await Promise.all(Array.from({ length: 12 }, () => request(t.app).patch(`/shop/api/v1/variants/${id}`).set(auth).send({ stockDelta: -1 })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(5);
    expect(results.filter((r) => r.status === 409)).toHaveLength(7);
    expect((await t.db.variant.findUniqueOrThrow({ where: { id } })).stock).toBe(0);
  });

  it("rejects an empty or contradictory patch", async () => {
    const p = await createProduct(t.deps);
    await request(t.app).patch(`/shop/api/v1/variants/${p.variants[0]!.id}`).set(auth).send({}).expect(400);
    await request(t.app).patch(`/shop/api/v1/variants/${p.variants[0]!.id}`).set(auth).send({ stock: 1, stockDelta: 1 }).expect(400);
  });
});
