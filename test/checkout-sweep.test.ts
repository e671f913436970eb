import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { pino } from "pino";
import { startCheckoutSweep, sweepExpiredCheckouts } from "../src/checkout/checkout-sweep.js";
import { createPaymentGateway } from "../src/payments/from-config.js";
import { LocalGateway } from "../src/payments/local-gateway.js";
import { StripeGateway } from "../src/payments/stripe-gateway.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { startFakeStripe, type FakeStripe } from "./helpers/fake-stripe.js";
import { newShopper, sessionIdFrom } from "./helpers/shopper.js";

/** The periodic sweep the server runs, and how the server picks its gateway. */
let stripe: FakeStripe;
let t: TestApp;
let clock = Date.parse("2026-11-20T10:00:00Z");
type LogLine = { level: number; msg: string };
const logged: LogLine[] = [];
const waiting: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

/** Resolves when the app logs a matching line: the sweep's own event, not a clock. */
function nextLog(match: (l: LogLine) => boolean) {
  return new Promise<LogLine>((resolve) => waiting.push({ match, resolve }));
}

beforeAll(async () => {
  stripe = await startFakeStripe();
  const write = (line: string) => {
    const entry = JSON.parse(line) as LogLine;
    logged.push(entry);
    for (const w of waiting.splice(0)) (w.match(entry) ? w.resolve(entry) : waiting.push(w));
  };
  const logger = pino({ level: "info" }, { write });
  t = await buildTestApp({ payments: stripe.gateway, now: () => new Date(clock), logger });
});
afterAll(async () => {
  await t.close();
  await stripe.close();
});

async function started(variantId: string) {
  const shopper = await newShopper(t.app);
  await shopper.add(variantId, 1).expect(303);
  const sessionId = sessionIdFrom((await shopper.checkout().expect(303)).headers.location);
  return { sessionId, order: await t.db.order.findUniqueOrThrow({ where: { paymentRef: sessionId } }) };
}

const stock = async (id: string) => {
  const v = await t.db.variant.findUniqueOrThrow({ where: { id } });
  return { stock: v.stock, reserved: v.reserved };
};
const status = async (id: string) => (await t.db.order.findUniqueOrThrow({ where: { id } })).status;

describe("checkout sweep", () => {
  it("settles a checkout paid while its webhook was delayed, and cancels the abandoned ones, once their hold is up", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 3 }] });
    const v = p.variants[0]!;
    const paid = await started(v.id);
    const abandoned = await started(v.id);
    const fresh = await started(v.id);
    stripe.complete(paid.sessionId);
    expect(await stock(v.id)).toEqual({ stock: 3, reserved: 3 });

    // Nothing is due yet: holds last 30 minutes.
    expect(await sweepExpiredCheckouts(t.deps)).toEqual({ paid: [], cancelledOrders: 0 });
    clock += 31 * 60_000;
    await t.db.order.update({ where: { id: fresh.order.id }, data: { createdAt: new Date(clock) } });
    await t.db.stockHold.updateMany({ where: { orderId: fresh.order.id }, data: { expiresAt: new Date(clock + 30 * 60_000) } });

    const result = await sweepExpiredCheckouts(t.deps);
    expect(result).toEqual({ paid: [paid.order.number], cancelledOrders: 1 });
    expect(await status(paid.order.id)).toBe("paid");
    expect(await status(abandoned.order.id)).toBe("cancelled");
    expect(await status(fresh.order.id)).toBe("pending");
    expect(await stock(v.id)).toEqual({ stock: 2, reserved: 1 });
    // A second pass finds nothing more to do.
    expect(await sweepExpiredCheckouts(t.deps)).toEqual({ paid: [], cancelledOrders: 0 });
  });

  it("still releases the stock when the provider cannot be asked, and logs why", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 1 }] });
    const { order } = await started(p.variants[0]!.id);
    clock += 31 * 60_000;
    stripe.failNext(/^\/v1\/checkout\/sessions\/cs_/, 500, 3);
    logged.length = 0;
    const result = await sweepExpiredCheckouts(t.deps);
    expect(result.cancelledOrders).toBeGreaterThanOrEqual(1);
    expect(await status(order.id)).toBe("cancelled");
    expect(await stock(p.variants[0]!.id)).toEqual({ stock: 1, reserved: 0 });
    expect(logged.some((l) => l.level === 50 && l.msg.includes("could not reconcile"))).toBe(true);
  });

  it("runs as the checkout.sweep job on the scheduler: a failing pass is recorded and logged, and stop() waits for the pass", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 2 }] });
    const { order } = await started(p.variants[0]!.id);
    clock += 31 * 60_000;
    // The deprecated embedding path still works: one job on the shared scheduler.
    const sweep = startCheckoutSweep(t.deps, { intervalMs: 20 });
    await vi.waitFor(async () => expect(await status(order.id)).toBe("cancelled"), { timeout: 30_000, interval: 50 });
    await sweep.stop();
    const lease = await t.db.jobLease.findUniqueOrThrow({ where: { name: "checkout.sweep" } });
    expect(lease.leaseUntil).toBeNull();
    expect(lease.lastStatus).toBe("ok");

    // A broken database: the pass fails, is recorded on the job and logged, and nothing throws.
    const broken = await buildTestApp({ logger: t.deps.logger });
    await broken.db.$executeRawUnsafe('ALTER TABLE "StockHold" RENAME TO "StockHoldGone"');
    const failing = startCheckoutSweep(broken.deps, { intervalMs: 60_000 });
    logged.length = 0;
    await failing.runNow();
    await failing.stop();
    const row = await broken.db.jobLease.findUniqueOrThrow({ where: { name: "checkout.sweep" } });
    expect(row.lastStatus).toBe("error");
    expect(row.lastError).toMatch(/StockHold/);
    expect(row.failures).toBeGreaterThanOrEqual(1);
    expect(logged.some((l) => l.level === 50 && l.msg.startsWith("job checkout.sweep failed"))).toBe(true);
    await broken.close();
  });
});

describe("payment gateway from the environment", () => {
  it("is Stripe when the keys are set, the local page otherwise", () => {
    expect(createPaymentGateway({ STRIPE_SECRET_KEY: "sk_test_abc", STRIPE_WEBHOOK_SECRET: "whsec_abc" })).toBeInstanceOf(StripeGateway);
    expect(createPaymentGateway({ STRIPE_SECRET_KEY: undefined, STRIPE_WEBHOOK_SECRET: undefined })).toBeInstanceOf(LocalGateway);
  });
});
