// What the dialect seam (src/db/dialect.ts) promises, checked over HTTP on
// whichever engine the suite runs on: searches ignore case, lists that tie on
// their sort key still page without skipping or repeating, dates keep their
// instant to the millisecond.
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct, createToken } from "./helpers/factories.js";
import { createOrderRow } from "./helpers/orders.js";

let t: TestApp;
let auth: { Authorization: string };
beforeAll(async () => {
  t = await buildTestApp();
  auth = { Authorization: `Bearer ${(await createToken(t.deps)).token}` };
});
afterAll(() => t.close());

const api = (path: string) => request(t.app).get(`/shop/api/v1${path}`).set(auth).expect(200);

describe("portable SQL", () => {
  it("searches ignore case: product title and SKU; order email and name", async () => {
    const p = await createProduct(t.deps, { title: "Speckled Teapot", variants: [{ sku: "POT-SPK-01" }] });
    for (const q of ["speckled", "TEAPOT", "pot-spk", "SPECKLED TEA"]) {
      expect((await api(`/products?q=${encodeURIComponent(q)}&status=active`)).body.data.map((x: { id: string }) => x.id), q).toEqual([p.id]);
    }
    const order = await createOrderRow(t.deps, { email: "Mixed.Case@Example.com", customerName: "Zoë Quinn" });
    for (const q of ["mixed.case@example.com", "MIXED.CASE", "zoë quinn"]) {
      expect((await api(`/orders?q=${encodeURIComponent(q)}`)).body.data.map((x: { id: string }) => x.id), q).toEqual([order.id]);
    }
  });

  it("pages through rows created in the same instant exactly once each, in a stable order", async () => {
    const at = new Date("2026-05-05T05:05:05.505Z");
    const made = [];
    for (let i = 0; i < 7; i++) made.push(await createOrderRow(t.deps, { createdAt: at, email: `tie${i}@example.com` }));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await api(`/orders?q=${encodeURIComponent("@example.com")}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...res.body.data.filter((o: { createdAt: string }) => o.createdAt === at.toISOString()).map((o: { id: string }) => o.id));
      cursor = res.body.nextCursor ?? undefined;
      if (!cursor) break;
    }
    expect([...seen].sort()).toEqual(made.map((o) => o.id).sort());
    // Newest first, and the unique id breaks the tie: descending ids.
    expect(seen).toEqual([...seen].sort().reverse());
    const again: string[] = [];
    cursor = undefined;
    for (let page = 0; page < 10; page++) {
      const res = await api(`/orders?q=${encodeURIComponent("@example.com")}&limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      again.push(...res.body.data.filter((o: { createdAt: string }) => o.createdAt === at.toISOString()).map((o: { id: string }) => o.id));
      cursor = res.body.nextCursor ?? undefined;
      if (!cursor) break;
    }
    expect(again).toEqual(seen);
  });

  it("keeps a date's instant to the millisecond, through Prisma and through hand-written SQL", async () => {
    const at = new Date("2026-11-20T23:59:59.987Z");
    const order = await createOrderRow(t.deps, { createdAt: at });
    expect((await t.db.order.findUniqueOrThrow({ where: { id: order.id } })).createdAt.toISOString()).toBe(at.toISOString());
    const [row] = await t.db.$queryRaw<{ createdAt: Date | string }[]>`SELECT "createdAt" FROM "Order" WHERE "id" = ${order.id} AND "createdAt" = ${at}`;
    expect(new Date(row!.createdAt).toISOString()).toBe(at.toISOString());
  });
});
