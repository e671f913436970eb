// The race tests again, with the requests spread over THREE app processes
// serving one PostgreSQL database, each with its own pool of five
// connections: what production with several instances behind a load
// balancer does. (The same scenarios run in-process in checkout-*.test.ts and
// coupons.test.ts on both engines.) Children: test/helpers/app-process.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { startFakeStripe, type FakeStripe } from "./helpers/fake-stripe.js";
import { followAndConfirm, makeCoupon } from "./helpers/followers.js";
import { startAppProcesses, type AppProcesses } from "./helpers/processes.js";
import { deliverWebhook, newShopper, sessionIdFrom, shopperWithCart } from "./helpers/shopper.js";

let t: TestApp;
let stripe: FakeStripe;
let apps: AppProcesses;

beforeAll(async () => {
  stripe = await startFakeStripe();
  t = await buildTestApp({ payments: stripe.gateway });
  apps = await startAppProcesses(3, { DATABASE_URL: t.url, POOL_SIZE: 5, STRIPE_PORT: stripe.port });
}, 180_000);
afterAll(async () => {
  await apps?.stop();
  await t?.close();
  await stripe?.close();
});

const variantState = async (id: string) => {
  const v = await t.db.variant.findUniqueOrThrow({ where: { id } });
  return { stock: v.stock, reserved: v.reserved };
};

describe("three app processes, one PostgreSQL database", () => {
  it("serves the same shop from each process", async () => {
    expect(new Set(apps.urls).size).toBe(3);
    const p = await createProduct(t.deps, { title: "Seen everywhere" });
    for (const url of apps.urls) {
      const shopper = await newShopper(url);
      expect((await shopper.agent.get(`/shop/p/${p.slug}`).expect(200)).text).toContain("Seen everywhere");
    }
  });

  it("45 checkouts for 8 in stock: exactly 8 holds; then each webhook twice, to different processes: 8 paid, stock 0", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 8, priceMinor: 2500 }] });
    const v = p.variants[0]!;
    const shoppers = await Promise.all(Array.from({ length: 45 }, (_, i) => shopperWithCart(apps.pick(i), t.deps, { items: [{ variantId: v.id, quantity: 1 }] })));
    const results = await Promise.all(shoppers.map((s) => s.checkout().set("Accept", "application/json")));
    expect(results.filter((r) => r.status === 201)).toHaveLength(8);
    expect(results.filter((r) => r.status === 409).map((r) => r.body.error.code)).toEqual(Array(37).fill("out_of_stock"));
    expect(await variantState(v.id)).toEqual({ stock: 8, reserved: 8 });

    const events = results.filter((r) => r.status === 201).map((r) => stripe.event("checkout.session.completed", stripe.complete(sessionIdFrom(r.body.data.url))));
    const deliveries = await Promise.all([...events, ...events].map((e, i) => deliverWebhook(apps.pick(i + 1), e)));
    expect(deliveries.map((d) => d.status)).toEqual(Array(16).fill(200));
    expect(await t.db.order.count({ where: { status: "paid", lines: { some: { variantId: v.id } } } })).toBe(8);
    expect(await t.db.paymentEvent.count({ where: { id: { in: events.map((e) => e.id) } } })).toBe(8);
    expect(await variantState(v.id)).toEqual({ stock: 0, reserved: 0 });
  });

  it("one webhook delivered nine times at once, three to each process: paid once, one email, one ledger row", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 3 }] });
    const v = p.variants[0]!;
    const shopper = await newShopper(apps.pick(0));
    await shopper.add(v.id, 2).expect(303);
    const started = await shopper.checkout().set("Accept", "application/json").expect(201);
    const sessionId = sessionIdFrom(started.body.data.url);
    const order = await t.db.order.findUniqueOrThrow({ where: { paymentRef: sessionId } });
    const event = stripe.event("checkout.session.completed", stripe.complete(sessionId));
    const deliveries = await Promise.all(Array.from({ length: 9 }, (_, i) => deliverWebhook(apps.pick(i), event)));
    expect(deliveries.map((d) => d.status)).toEqual(Array(9).fill(200));
    expect(deliveries.filter((d) => d.body.outcome === "paid")).toHaveLength(1);
    expect(await variantState(v.id)).toEqual({ stock: 1, reserved: 0 });
    expect(await t.db.paymentEvent.count({ where: { id: event.id } })).toBe(1);
    expect(await t.db.outboxEmail.count({ where: { dedupeKey: `order:${order.id}:confirmation` } })).toBe(1);
    expect(await t.db.auditLog.count({ where: { entityId: order.id, action: "order.paid" } })).toBe(1);
  });

  it("60 checkouts against a coupon limit of 10: exactly 10 reserved, however the requests are spread", async () => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 5000, stock: 500 }] });
    const coupon = await makeCoupon(t.deps, { code: "SPREAD10", percentOff: 20, usageLimit: 10 });
    const shoppers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => shopperWithCart(apps.pick(i), t.deps, { items: [{ variantId: p.variants[0]!.id, quantity: 1 }], couponCodes: ["SPREAD10"] })),
    );
    const results = await Promise.all(shoppers.map((s) => s.checkout().set("Accept", "application/json")));
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    expect(results.filter((r) => r.status === 422 && r.body.error.details.reason === "limit_reached")).toHaveLength(50);
    expect((await t.db.coupon.findUniqueOrThrow({ where: { id: coupon.id } })).usedCount).toBe(10);
    expect(await t.db.redemption.count({ where: { couponId: coupon.id, status: "reserved" } })).toBe(10);
    expect(await variantState(p.variants[0]!.id)).toEqual({ stock: 500, reserved: 10 });
  });

  it("once per follower: 15 browsers of the same follower on three processes, one redemption", async () => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 3000, stock: 100 }] });
    const coupon = await makeCoupon(t.deps, { code: "ONCEEACH", percentOff: 10, followersOnly: true });
    const { shopper, follower } = await followAndConfirm(t.app, t.deps, { handle: "everywhere" });
    const cookie = /bz_follower=[^;]+/.exec((await shopper.agent.get("/shop/follow")).request.cookies)![0];
    const browsers = await Promise.all(
      Array.from({ length: 15 }, async (_, i) => {
        const s = await shopperWithCart(apps.pick(i), t.deps, { items: [{ variantId: p.variants[0]!.id, quantity: 1 }], couponCodes: ["ONCEEACH"] });
        s.agent.jar.setCookie(cookie, "127.0.0.1", "/shop");
        return s;
      }),
    );
    const results = await Promise.all(browsers.map((s) => s.checkout().set("Accept", "application/json")));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 422 && r.body.error.details.reason === "already_used")).toHaveLength(14);
    expect(await t.db.redemption.count({ where: { couponId: coupon.id, personKey: follower.personKey, status: { in: ["reserved", "committed"] } } })).toBe(1);
  });

  it("carts holding the same two variants in opposite orders never deadlock: every checkout answers, stock adds up", async () => {
    const a = await createProduct(t.deps, { variants: [{ stock: 20 }] });
    const b = await createProduct(t.deps, { variants: [{ stock: 20 }] });
    const [va, vb] = [a.variants[0]!.id, b.variants[0]!.id];
    const shoppers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        shopperWithCart(apps.pick(i), t.deps, {
          items: i % 2 === 0 ? [{ variantId: va, quantity: 1 }, { variantId: vb, quantity: 1 }] : [{ variantId: vb, quantity: 1 }, { variantId: va, quantity: 1 }],
        }),
      ),
    );
    const results = await Promise.all(shoppers.map((s) => s.checkout().set("Accept", "application/json")));
    // No 500 (deadlock) and no 503: each checkout either holds both or neither.
    expect(results.filter((r) => r.status === 201)).toHaveLength(20);
    expect(results.filter((r) => r.status === 409)).toHaveLength(20);
    expect(await variantState(va)).toEqual({ stock: 20, reserved: 20 });
    expect(await variantState(vb)).toEqual({ stock: 20, reserved: 20 });
    expect(await t.db.stockHold.count({ where: { variantId: { in: [va, vb] }, status: "active" } })).toBe(40);
  });

  // Last: a deadlock is retried (so the answers above would hide one); the
  // server's own count says whether any happened. Backends report it when
  // they exit, so the app processes are stopped first.
  it("no transaction of this file deadlocked", async () => {
    await apps.stop();
    const deadlocks = async () => Number((await t.db.$queryRaw<{ n: bigint }[]>`SELECT deadlocks AS n FROM pg_stat_database WHERE datname = current_database()`)[0]!.n);
    expect(await deadlocks()).toBe(0);
  });
});
