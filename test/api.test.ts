import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct, createToken } from "./helpers/factories.js";

let t: TestApp;
let token: string;
beforeAll(async () => {
  t = await buildTestApp();
  token = (await createToken(t.deps, { name: "main" })).token;
});
afterAll(() => t.close());

const auth = () => ({ Authorization: `Bearer ${token}` });

describe("/api/v1 authentication", () => {
  it("needs a Bearer token and says how to get one", async () => {
    const res = await request(t.app).get("/shop/api/v1/me").expect(401);
    expect(res.headers["www-authenticate"]).toContain("Bearer");
    expect(res.body).toEqual({ error: { code: "unauthorized", message: expect.stringContaining("Authorization: Bearer"), details: null } });
  });

  it("refuses unknown tokens and ignores admin cookies", async () => {
    const res = await request(t.app).get("/shop/api/v1/me").set("Authorization", "Bearer bz_not-a-real-token-at-all").expect(401);
    expect(res.body.error.code).toBe("invalid_token");
  });

  it("accepts a valid token and records when it was last used", async () => {
    const res = await request(t.app).get("/shop/api/v1/me").set(auth()).expect(200);
    expect(res.body.data.token.name).toBe("main");
    expect(res.body.data.token).not.toHaveProperty("tokenHash");
    const row = await t.db.apiToken.findFirstOrThrow({ where: { name: "main" } });
    expect(row.lastUsedAt).not.toBeNull();
  });

  it("creates, lists and revokes tokens; a revoked token stops working at once", async () => {
    const created = await request(t.app).post("/shop/api/v1/tokens").set(auth()).send({ name: "CI" }).expect(201);
    const fresh = created.body.data.token as string;
    expect(fresh).toMatch(/^bz_/);
    await request(t.app).get("/shop/api/v1/me").set("Authorization", `Bearer ${fresh}`).expect(200);
    const list = await request(t.app).get("/shop/api/v1/tokens").set(auth()).expect(200);
    expect(list.body.data.map((x: { name: string }) => x.name)).toContain("CI");
    expect(JSON.stringify(list.body)).not.toContain(fresh);
    await request(t.app).delete(`/shop/api/v1/tokens/${created.body.data.id}`).set(auth()).expect(200);
    await request(t.app).get("/shop/api/v1/me").set("Authorization", `Bearer ${fresh}`).expect(401);
  });

  it("does not let a token revoke itself", async () => {
    const me = await request(t.app).get("/shop/api/v1/me").set(auth());
    const res = await request(t.app).delete(`/shop/api/v1/tokens/${me.body.data.token.id}`).set(auth()).expect(409);
    expect(res.body.error.code).toBe("conflict");
  });

  it("validates bodies and names the field; unknown fields are rejected", async () => {
    const res = await request(t.app).post("/shop/api/v1/tokens").set(auth()).send({ name: "", role: "root" }).expect(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.message).toMatch(/name/);
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: "name" })]));
    expect(await t.db.apiToken.count({ where: { name: "" } })).toBe(0);
  });

  it("answers bad JSON with a 400 in the error shape", async () => {
    const res = await request(t.app).post("/shop/api/v1/tokens").set(auth()).set("Content-Type", "application/json").send('{"name": "x",').expect(400);
    expect(res.body).toEqual({ error: { code: "invalid_json", message: "The request body is not valid JSON.", details: null } });
  });

  it("answers an unknown API route with a JSON 404", async () => {
    const res = await request(t.app).get("/shop/api/v1/nope").set(auth()).expect(404);
    expect(res.body.error.code).toBe("not_found");
  });
});

describe("/api/v1/products", () => {
  it("lists every status with variants and availability, paginated by cursor", async () => {
    await createProduct(t.deps, { title: "Api A", variants: [{ sku: "API-A", stock: 2 }] });
    await createProduct(t.deps, { title: "Api B", status: "draft", variants: [{ sku: "API-B", stock: 0 }] });
    const first = await request(t.app).get("/shop/api/v1/products?limit=1").set(auth()).expect(200);
    expect(first.body.data).toHaveLength(1);
    expect(first.body.nextCursor).toBeTruthy();
    const second = await request(t.app).get(`/shop/api/v1/products?limit=1&cursor=${first.body.nextCursor}`).set(auth()).expect(200);
    const both = [...first.body.data, ...second.body.data];
    expect(both.map((p: { title: string }) => p.title).sort()).toEqual(["Api A", "Api B"]);
    const b = both.find((p: { title: string }) => p.title === "Api B");
    expect(b.status).toBe("draft");
    expect(b.variants[0]).toMatchObject({ sku: "API-B", availability: "out_of_stock", available: 0 });
  });

  it("filters by search and status, and rejects bad query values", async () => {
    const res = await request(t.app).get("/shop/api/v1/products?q=API-A").set(auth()).expect(200);
    expect(res.body.data.map((p: { title: string }) => p.title)).toEqual(["Api A"]);
    const bad = await request(t.app).get("/shop/api/v1/products?status=gone&limit=500").set(auth()).expect(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["limit", "status"]);
  });

  it("returns one product with images, or a 404", async () => {
    const p = await createProduct(t.deps, { title: "Api C", image: true });
    const res = await request(t.app).get(`/shop/api/v1/products/${p.id}`).set(auth()).expect(200);
    expect(res.body.data.images).toHaveLength(1);
    await request(t.app).get("/shop/api/v1/products/missing").set(auth()).expect(404);
  });
});
