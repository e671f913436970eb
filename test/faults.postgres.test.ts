// PostgreSQL restarting under load: a burst of real checkouts and payments
// while the server is restarted (fast shutdown: connections are cut
// mid-transaction, new ones refused until it is back). Requests that meet the
// outage answer 503 with Retry-After, the shoppers retry as browsers and
// Stripe would, the pool recovers by itself, and afterwards nothing is
// half-written: stock + held + sold is what it was, each order paid once.
// The server is a private instance (test/helpers/private-postgres.ts): the
// shared test server must stay up for the other files.
import type { Response } from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, postgresPoolOf, type Db } from "../src/db/client.js";
import { isDatabaseUnavailable } from "../src/db/errors.js";
import { migratePostgres } from "../src/db/migrate.js";
import { mountTestStorefront } from "./helpers/app.js";
import { onServer, urlForDatabase } from "./helpers/engine.js";
import { createProduct } from "./helpers/factories.js";
import { startPrivatePostgres, type PrivatePostgres } from "./helpers/private-postgres.js";
import { newShopper, type Shopper } from "./helpers/shopper.js";
import { TEST_ADDRESS } from "./helpers/orders.js";
import { inject } from "vitest";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";

let pg: PrivatePostgres;
let db: Db;
let shop: ReturnType<typeof mountTestStorefront>;

beforeAll(async () => {
  pg = await startPrivatePostgres({ maxConnections: 50 });
  await onServer(pg.url, (c) => c.query(`CREATE DATABASE shop`));
  const url = urlForDatabase(pg.url, "shop");
  await migratePostgres(url);
  // Production's timeouts (src/db/client.ts), not the test harness's long ones.
  db = await openDatabase(url, { poolSize: 5 });
  const dir = path.join(inject("testTmpDir"), randomUUID());
  mkdirSync(dir, { recursive: true });
  shop = mountTestStorefront(db, dir);
}, 180_000);
afterAll(async () => {
  // The server is stopped whatever happens to the pool, so no PostgreSQL is left behind; a pool that does not close fails the file instead of hanging it.
  let closed = false;
  try {
    closed = await Promise.race([(db?.$disconnect() ?? Promise.resolve()).then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000).unref())]);
  } finally {
    await pg?.stop();
  }
  expect(closed, "the pool closed within 30 s").toBe(true);
}, 120_000);

const OK = new Set([200, 201, 303]);

describe("PostgreSQL restarts during a burst of checkouts", () => {
  it("answers 503 with Retry-After meanwhile, recovers by itself, and leaves stock, holds, sales and payments consistent", async () => {
    const STOCK = 30;
    const SHOPPERS = 40;
    const p = await createProduct(shop.deps, { variants: [{ stock: STOCK, priceMinor: 1500 }] });
    const variantId = p.variants[0]!.id;
    const statuses: number[] = [];
    const retryAfter: (string | undefined)[] = [];
    let restarted = false;

    /** One browser step, sent again while the shop answers 503 (as a browser retry or Stripe's redelivery would). */
    async function step(send: () => Promise<Response>, accept: (r: Response) => boolean): Promise<Response> {
      for (let attempt = 0; attempt < 200; attempt++) {
        const r = await send();
        statuses.push(r.status);
        if (r.status === 503) {
          retryAfter.push(r.headers["retry-after"]);
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        if (!accept(r)) throw new Error(`unexpected ${r.status}: ${r.text.slice(0, 300)}`);
        return r;
      }
      throw new Error("the shop did not come back");
    }

    const buy = async (i: number) => {
      // Spread the start a little, so the burst is still going when the restart lands.
      await new Promise((resolve) => setTimeout(resolve, i * 25));
      let shopper: Shopper | null = null;
      while (!shopper) {
        // The cart page gives the CSRF token; it too may meet the outage.
        shopper = await newShopper(shop.app).catch(async () => {
          statuses.push(503);
          await new Promise((resolve) => setTimeout(resolve, 100));
          return null;
        });
      }
      const s = shopper;
      // Once every unit is held by the checkouts ahead, the cart itself says sold out (409) before a checkout can.
      const added = await step(() => s.add(variantId, 1), (r) => r.status === 303 || (r.status === 409 && r.text.includes("is sold out")));
      if (added.status === 409) return "sold_out";
      const started = await step(() => s.checkout().set("Accept", "application/json"), (r) => r.status === 201 || (r.status === 409 && r.body.error.code === "out_of_stock"));
      if (started.status === 409) return "sold_out";
      const pay = new URL(started.body.data.url as string);
      const payPath = pay.pathname + pay.search;
      await step(() => s.agent.post(payPath).type("form").send({ _csrf: s.csrf, action: "pay", shipping: "standard", ...TEST_ADDRESS }), (r) => r.status === 303);
      return "bought";
    };

    const burst = Promise.all(Array.from({ length: SHOPPERS }, (_, i) => buy(i)));
    // Restart once the burst is under way: after the first successful responses.
    while (statuses.filter((s) => OK.has(s)).length < 20) await new Promise((resolve) => setTimeout(resolve, 20));
    await pg.restart();
    restarted = true;
    const outcomes = await burst;
    expect(restarted).toBe(true);

    // The outage was seen, and answered as it should be: 503 + Retry-After, never a 500.
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
    expect(retryAfter.every((v) => v === "5")).toBe(true);
    // The same pool serves again, without a restart of the app, and every connection the restart broke was given back (none leaked).
    expect((await newShopper(shop.app)).csrf).toBeTruthy();
    const pool = postgresPoolOf(db)!;
    await expect.poll(() => pool.totalCount - pool.idleCount).toBe(0);

    // Nothing half-written.
    const variant = await db.variant.findUniqueOrThrow({ where: { id: variantId } });
    const paidLines = await db.orderLine.aggregate({ where: { variantId, order: { status: "paid" } }, _sum: { quantity: true } });
    const activeHolds = await db.stockHold.aggregate({ where: { variantId, status: "active" }, _sum: { quantity: true } });
    const sold = paidLines._sum.quantity ?? 0;
    expect(variant.stock + sold).toBe(STOCK);
    expect(variant.reserved).toBe(activeHolds._sum.quantity ?? 0);
    expect(variant.stock - variant.reserved).toBeGreaterThanOrEqual(0);
    expect(await db.order.count({ where: { status: "paid", lines: { some: { variantId } } } })).toBe(outcomes.filter((o) => o === "bought").length);
    expect(outcomes.filter((o) => o === "bought").length).toBeGreaterThan(0);

    const orders = await db.order.findMany({ where: { lines: { some: { variantId } } }, include: { holds: true } });
    for (const order of orders) {
      const paidAudits = await db.auditLog.count({ where: { entityId: order.id, action: "order.paid" } });
      if (order.status === "paid") {
        expect(paidAudits).toBe(1);
        expect(order.holds.map((h) => h.status)).toEqual(["consumed"]);
        expect(await db.outboxEmail.count({ where: { dedupeKey: `order:${order.id}:confirmation` } })).toBe(1);
      } else {
        expect(paidAudits).toBe(0);
        expect(order.holds.every((h) => h.status !== "consumed")).toBe(true);
      }
    }
  }, 300_000);
});

describe("a pooled connection the server drops while it changes hands", () => {
  it("does not crash the process: the connection is marked broken, its next query fails as unavailable, and the pool replaces it", async () => {
    const pool = postgresPoolOf(db)!;
    // The state pg-pool leaves a connection in between handing it out and its taker's first line: checked out, the pool's idle
    // listener removed, the taker's not yet added. In .ci/run the restart's FATAL landed exactly there and was thrown uncaught.
    const client = await pool.connect();
    let released = false;
    try {
      expect(client.listenerCount("error"), "a listener from the pool's connect hook").toBeGreaterThan(0);
      const ended = new Promise((resolve) => client.once("end", resolve));
      // The same message a restart sends (57P01, administrator command), from the real server.
      const [{ terminated }] = (await pool.query("SELECT pg_terminate_backend($1) AS terminated", [(client as unknown as { processID: number }).processID])).rows;
      expect(terminated).toBe(true);
      await ended;
      const failure = await client.query("SELECT 1").then(
        () => null,
        (err: unknown) => err,
      );
      expect(isDatabaseUnavailable(failure), String(failure)).toBe(true);
      client.release();
      released = true;
      expect(pool.totalCount - pool.idleCount).toBe(0);
      // The shop carries on with a fresh connection.
      expect((await newShopper(shop.app)).csrf).toBeTruthy();
    } finally {
      if (!released) client.release(new Error("test failed"));
    }
  });
});
