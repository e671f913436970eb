import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import type { Express } from "express";
import { CART_COOKIE, createCartWithItems } from "../../src/checkout/cart.service.js";
import type { Deps } from "../../src/deps.js";
import { csrfFrom } from "./html.js";

/** The app under test: in this process, or the base URL of an app process (./processes.ts). */
export type AppTarget = Express | string;

/** A shopper's browser: its own cookies, CSRF token and cart. */
export async function newShopper(app: AppTarget) {
  const agent = request.agent(app);
  // The cart page is the cheapest page that carries the CSRF token.
  const page = await agent.get("/shop/cart").expect(200);
  const csrf = csrfFrom(page.text);
  return {
    agent,
    csrf,
    add: (variantId: string, quantity = 1, extra: Record<string, unknown> = {}) =>
      agent.post("/shop/cart/items").type("form").send({ _csrf: csrf, variantId, quantity, ...extra }),
    checkout: (extra: Record<string, unknown> = {}) => agent.post("/shop/checkout").type("form").send({ _csrf: csrf, ...extra }),
  };
}

export type Shopper = Awaited<ReturnType<typeof newShopper>>;

/** A shopper whose cart (items, codes) was made directly, for tests that need many carts fast. */
export async function shopperWithCart(app: AppTarget, deps: Deps, cart: { items: { variantId: string; quantity: number }[]; couponCodes?: string[] }) {
  const shopper = await newShopper(app);
  const token = await createCartWithItems(deps, cart);
  shopper.agent.jar.setCookie(`${CART_COOKIE}=${token}`, "127.0.0.1", "/shop");
  return shopper;
}

/** Sends a signed Stripe webhook the way Stripe does (raw JSON body). */
export function deliverWebhook(app: AppTarget, event: { payload: string; signature: string }) {
  return request(app).post("/shop/webhooks/stripe").set("Content-Type", "application/json").set("Stripe-Signature", event.signature).send(event.payload);
}

export function sessionIdFrom(location: string | undefined) {
  const m = /\/pay\/(cs_test_[0-9a-f]+)$/.exec(location ?? "");
  if (!m) throw new Error(`not a Stripe checkout URL: ${location}`);
  return m[1]!;
}

export type { TestAgent };
