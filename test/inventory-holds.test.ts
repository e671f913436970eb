import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrismaClient } from "../src/generated/prisma/client.js";
import { adoptHoldsInTx, consumeOrderHoldsInTx, expireHoldsInTx, holdStockInTx, releaseOrderHoldsInTx } from "../src/inventory/holds.service.js";
import { buildTestApp, freshDatabase, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { createOrderRow } from "./helpers/orders.js";

/**
 * The inventory holds service that checkout and live claims share
 * (src/inventory). Checkout and live tests drive it through HTTP; these pin
 * down what they cannot see: the statements' lock order, all-or-nothing
 * reservation, and the hand-over of a claim's hold to an order and back.
 */
let t: TestApp;
// buildTestApp opens a database of its own too; the storefront's (t.deps.db) is the one watched here.
const db = () => t.deps.db;
const statements: { sql: string; args: unknown[] }[] = [];
let clock = new Date("2026-12-05T18:00:00Z").getTime();
beforeAll(async () => {
  const { db: setup, file } = await freshDatabase();
  await setup.$disconnect();
  // Sees every statement at the driver adapter, with its arguments.
  const adapter = new Proxy(new PrismaBetterSQLite3({ url: file!, timeout: 5000 }), {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      const wrap = (target: object): object =>
        new Proxy(target, {
          get(o, p, r) {
            const v = Reflect.get(o, p, r) as unknown;
            if (typeof v !== "function") return v;
            if (p === "queryRaw" || p === "executeRaw") return (q: { sql: string; args: unknown[] }, ...rest: unknown[]) => (statements.push({ sql: q.sql, args: q.args }), (v as (...a: unknown[]) => unknown).call(o, q, ...rest));
            if (p === "startTransaction") return async (...a: unknown[]) => wrap((await (v as (...x: unknown[]) => Promise<object>).apply(o, a)) as object);
            return (v as (...a: unknown[]) => unknown).bind(o);
          },
        });
      if (prop === "connect") return async (...args: unknown[]) => wrap((await (value as (...a: unknown[]) => Promise<object>).apply(obj, args)) as object);
      return (value as (...a: unknown[]) => unknown).bind(obj);
    },
  });
  t = await buildTestApp({ prisma: new PrismaClient({ adapter }), now: () => new Date(clock) });
});
afterAll(async () => {
  await t.deps.db.$disconnect();
  await t.close();
});

const reservedOf = async (id: string) => (await db().variant.findUniqueOrThrow({ where: { id } })).reserved;

describe("holds", () => {
  it("reserve variants in id order, one statement per variant, so overlapping multi-line holds cannot deadlock", async () => {
    const product = await createProduct(t.deps, { variants: [{ stock: 5 }, { stock: 5 }, { stock: 5 }] });
    const [a, b, c] = [...product.variants].sort((x, y) => (x.id < y.id ? -1 : 1));
    const order = await createOrderRow(t.deps, { status: "pending" });
    statements.length = 0;
    const taken = await db().$transaction((tx) => holdStockInTx(tx, t.deps, { lines: [{ variantId: c!.id, quantity: 1 }, { variantId: a!.id, quantity: 1 }, { variantId: b!.id, quantity: 2 }, { variantId: a!.id, quantity: 1 }], expiresAt: new Date(clock + 60_000), orderId: order.id }));
    expect(taken.ok).toBe(true);
    const updates = statements.filter((s) => /^UPDATE "Variant" SET "reserved" = "reserved" \+/.test(s.sql));
    expect(updates.map((u) => [u.args[1], u.args[0]])).toEqual([[a!.id, 2], [b!.id, 2], [c!.id, 1]]);
    expect([await reservedOf(a!.id), await reservedOf(b!.id), await reservedOf(c!.id)]).toEqual([2, 2, 1]);
  });

  it("all or nothing: a shortfall gives back what the same call reserved, and writes no hold", async () => {
    const product = await createProduct(t.deps, { variants: [{ stock: 5 }, { stock: 1 }] });
    const [x, y] = product.variants;
    const before = await db().stockHold.count();
    const taken = await db().$transaction((tx) => holdStockInTx(tx, t.deps, { lines: [{ variantId: x!.id, quantity: 2 }, { variantId: y!.id, quantity: 3 }], expiresAt: new Date(clock + 60_000) }));
    expect(taken).toEqual({ ok: false, shortfall: { variantId: y!.id, available: 1 } });
    expect([await reservedOf(x!.id), await reservedOf(y!.id)]).toEqual([0, 0]);
    expect(await db().stockHold.count()).toBe(before);
  });

  it("an order takes a claim's hold over (same row, reserved unchanged), gives it back while the claim's time runs, and consumes it when paid", async () => {
    const product = await createProduct(t.deps, { variants: [{ stock: 3 }] });
    const v = product.variants[0]!;
    const session = await db().liveSession.create({ data: { title: "s", code: `inv-${Date.now()}`, startsAt: new Date(clock) } });
    const claimExpires = new Date(clock + 10 * 60_000);
    const claim = await db().liveClaim.create({ data: { liveSessionId: session.id, variantId: v.id, claimant: "web:x", expiresAt: claimExpires } });
    const held = await db().$transaction((tx) => holdStockInTx(tx, t.deps, { lines: [{ variantId: v.id, quantity: 1 }], expiresAt: claimExpires, liveClaimId: claim.id }));
    if (!held.ok) throw new Error("not held");
    const holdId = held.holdIds[0]!;
    const order = await createOrderRow(t.deps, { status: "pending" });
    const orderExpires = new Date(clock + 30 * 60_000);
    expect(await db().$transaction((tx) => adoptHoldsInTx(tx, t.deps, { holdIds: [holdId], orderId: order.id, expiresAt: orderExpires }))).toBe(true);
    expect(await db().stockHold.findUniqueOrThrow({ where: { id: holdId } })).toMatchObject({ status: "active", orderId: order.id, expiresAt: orderExpires });
    expect(await reservedOf(v.id)).toBe(1);
    // A second order cannot take it too.
    const other = await createOrderRow(t.deps, { status: "pending" });
    expect(await db().$transaction((tx) => adoptHoldsInTx(tx, t.deps, { holdIds: [holdId], orderId: other.id, expiresAt: orderExpires }))).toBe(false);

    // The order is cancelled while the claim's time runs: the hold goes back to the claim.
    await db().$transaction((tx) => releaseOrderHoldsInTx(tx, t.deps, { orderId: order.id }));
    expect(await db().stockHold.findUniqueOrThrow({ where: { id: holdId } })).toMatchObject({ status: "active", orderId: null, expiresAt: claimExpires });
    expect(await reservedOf(v.id)).toBe(1);

    // Taken over again and paid: the unit leaves stock and reservation together.
    await db().$transaction((tx) => adoptHoldsInTx(tx, t.deps, { holdIds: [holdId], orderId: other.id, expiresAt: orderExpires }));
    expect(await db().$transaction((tx) => consumeOrderHoldsInTx(tx, t.deps, { orderId: other.id }))).toBe(1);
    expect(await db().variant.findUniqueOrThrow({ where: { id: v.id }, select: { stock: true, reserved: true } })).toEqual({ stock: 2, reserved: 0 });
    expect((await db().stockHold.findUniqueOrThrow({ where: { id: holdId } })).status).toBe("consumed");
  });

  it("after the claim's time, a cancelled order releases the hold; expired holds without an order are released, orders with one reported", async () => {
    const product = await createProduct(t.deps, { variants: [{ stock: 4 }] });
    const v = product.variants[0]!;
    const session = await db().liveSession.create({ data: { title: "s", code: `inv2-${Date.now()}`, startsAt: new Date(clock) } });
    const claim = await db().liveClaim.create({ data: { liveSessionId: session.id, variantId: v.id, claimant: "web:y", expiresAt: new Date(clock + 60_000) } });
    const fromClaim = await db().$transaction((tx) => holdStockInTx(tx, t.deps, { lines: [{ variantId: v.id, quantity: 1 }], expiresAt: new Date(clock + 60_000), liveClaimId: claim.id }));
    const order = await createOrderRow(t.deps, { status: "pending" });
    await db().$transaction((tx) => adoptHoldsInTx(tx, t.deps, { holdIds: fromClaim.ok ? fromClaim.holdIds : [], orderId: order.id, expiresAt: new Date(clock + 30 * 60_000) }));
    const loose = await db().$transaction((tx) => holdStockInTx(tx, t.deps, { lines: [{ variantId: v.id, quantity: 2 }], expiresAt: new Date(clock + 60_000) }));
    const pendingOrder = await createOrderRow(t.deps, { status: "pending" });
    await db().$transaction((tx) => holdStockInTx(tx, t.deps, { lines: [{ variantId: v.id, quantity: 1 }], expiresAt: new Date(clock + 60_000), orderId: pendingOrder.id }));
    expect(await reservedOf(v.id)).toBe(4);

    clock += 2 * 60_000;
    await db().$transaction((tx) => releaseOrderHoldsInTx(tx, t.deps, { orderId: order.id }));
    expect(await reservedOf(v.id)).toBe(3);
    const expired = await db().$transaction((tx) => expireHoldsInTx(tx, t.deps, { variantIds: [v.id] }));
    expect(expired.orderIds).toEqual([pendingOrder.id]);
    expect(expired.releasedHoldIds).toEqual(loose.ok ? loose.holdIds : []);
    expect(await reservedOf(v.id)).toBe(1);
  });
});
