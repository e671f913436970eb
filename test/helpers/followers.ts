import type { Express } from "express";
import type { Deps } from "../../src/deps.js";
import { createCoupon } from "../../src/coupons/coupons.service.js";
import { CouponInput } from "../../src/coupons/coupons.schema.js";
import { csrfFrom } from "./html.js";
import { newShopper } from "./shopper.js";

/**
 * Follows through the real form and confirms through the emailed link, as a
 * person would. Returns the shopper (whose browser now carries the follower
 * cookie) and the follower row.
 */
export async function followAndConfirm(app: Express, deps: Deps, input: { platform?: string; handle: string; email?: string }) {
  const shopper = await newShopper(app);
  const page = await shopper.agent.get("/shop/follow").expect(200);
  await shopper.agent
    .post("/shop/follow")
    .type("form")
    .send({ _csrf: csrfFrom(page.text), platform: input.platform ?? "instagram", handle: input.handle, email: input.email ?? `${input.handle}@example.com`, consent: "on" })
    .expect(200);
  const link = await confirmationLinkFor(deps, input.email ?? `${input.handle}@example.com`);
  await shopper.agent.get(link).expect(200);
  const follower = await deps.db.follower.findFirstOrThrow({ where: { handleKey: input.handle.toLowerCase().replace(/^@/, ""), platform: input.platform ?? "instagram" } });
  return { shopper, follower };
}

/** The app-relative confirmation link from the newest follow email to an address. */
export async function confirmationLinkFor(deps: Deps, email: string) {
  const mail = await deps.db.outboxEmail.findFirstOrThrow({ where: { to: email, template: "follow_confirm" }, orderBy: { createdAt: "desc" } });
  // Absolute when the shop has a public URL, else relative to the shop (no Host header is trusted).
  const url = /(\S*\/follow\/confirm\?token=\S+)/.exec(mail.text)![1]!;
  const u = new URL(url, "http://shop.invalid/shop/");
  return url.startsWith("/") ? `/shop${u.pathname}${u.search}` : u.pathname + u.search;
}

/** A coupon through the real service, with the schema's defaults. */
export async function makeCoupon(deps: Deps, overrides: Record<string, unknown>) {
  const input = CouponInput.parse({ kind: "percent", percentOff: 10, ...overrides });
  return createCoupon(deps, { coupon: input, actor: { type: "system" } });
}
