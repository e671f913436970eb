import type { Express } from "express";
import type { Deps } from "../../src/deps.js";
import { newShopper, type Shopper } from "./shopper.js";

export const TEST_ADDRESS = { email: "ana@example.com", name: "Ana Rossi", line1: "12 Via Roma", city: "Torino", postalCode: "10121", country: "IT" };

/**
 * A real order through HTTP with the local gateway: cart → /checkout → the
 * payment page → pay. Returns the order id and the pay page path.
 */
export async function payLocally(app: Express, deps: Deps, variantId: string, opts: { quantity?: number; shipping?: string; shopper?: Shopper; fields?: Record<string, string> } = {}) {
  const shopper = opts.shopper ?? (await newShopper(app));
  await shopper.add(variantId, opts.quantity ?? 1).expect(303);
  const started = await shopper.checkout().expect(303);
  const url = new URL(started.headers.location!);
  const payPath = url.pathname + url.search;
  const ref = url.pathname.split("/").pop()!;
  await shopper.agent
    .post(payPath)
    .type("form")
    .send({ _csrf: shopper.csrf, action: "pay", shipping: opts.shipping ?? "standard", ...TEST_ADDRESS, ...opts.fields })
    .expect(303);
  const order = await deps.db.order.findUniqueOrThrow({ where: { paymentRef: ref } });
  return { order, shopper, payPath, key: url.searchParams.get("key")! };
}

let next = 0;

/** An order row written straight to the database, for list and search tests that need many. */
export async function createOrderRow(
  deps: Deps,
  overrides: { status?: string; email?: string | null; customerName?: string | null; totalMinor?: number; createdAt?: Date; number?: number } = {},
) {
  next += 1;
  const total = overrides.totalMinor ?? 2500;
  return deps.db.order.create({
    data: {
      // Far above the checkout counter (1001, 1002, …), so the two never collide.
      number: overrides.number ?? 500_000 + next,
      status: overrides.status ?? "paid",
      currency: deps.shop.currency,
      subtotalMinor: total,
      totalMinor: total,
      email: overrides.email === undefined ? `buyer${next}@example.com` : overrides.email,
      customerName: overrides.customerName === undefined ? `Buyer ${next}` : overrides.customerName,
      paymentProvider: "local",
      createdAt: overrides.createdAt ?? new Date(Date.UTC(2026, 0, 1) + next * 60_000),
      lines: { create: [{ title: "Row Mug", sku: `ROW-${next}`, unitPriceMinor: total, quantity: 1, totalMinor: total }] },
    },
  });
}
