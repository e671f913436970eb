import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issuePersonalCodes } from "../src/coupons/coupons.service.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { startFakeStripe, type FakeStripe } from "./helpers/fake-stripe.js";
import { confirmationLinkFor, followAndConfirm, makeCoupon } from "./helpers/followers.js";
import { csrfFrom, load } from "./helpers/html.js";
import { deliverWebhook, newShopper, sessionIdFrom, shopperWithCart, type Shopper } from "./helpers/shopper.js";

let t: TestApp;
let clock = Date.parse("2026-11-20T10:00:00Z");
const DAY = 24 * 3600 * 1000;

beforeAll(async () => {
  t = await buildTestApp({ now: () => new Date(clock) });
});
afterAll(() => t.close());

const apply = (s: Shopper, code: string) => s.agent.post("/shop/cart/coupon").type("form").send({ _csrf: s.csrf, code }).set("Accept", "application/json");

async function shopperWith(variantId: string, qty = 1, base?: Shopper) {
  const s = base ?? (await newShopper(t.app));
  await s.add(variantId, qty).expect(303);
  return s;
}

/** Pays a local-gateway checkout through the payment page. */
async function payLocally(s: Shopper, url: string) {
  const u = new URL(url);
  const page = await s.agent.get(u.pathname + u.search).expect(200);
  return s.agent
    .post(u.pathname + u.search)
    .type("form")
    .send({ _csrf: csrfFrom(page.text), action: "pay", email: "p@example.com", name: "P", line1: "1 St", city: "C", postalCode: "1", country: "US", shipping: "standard" })
    .expect(303);
}

describe("following", () => {
  it("double opt-in: the follow counts from the confirmation, and the browser is remembered as that follower", async () => {
    const { shopper, follower } = await followAndConfirm(t.app, t.deps, { handle: "sara.makes" });
    expect(follower).toMatchObject({ status: "active", handle: "sara.makes", email: "sara.makes@example.com" });
    expect(follower.emailConfirmedAt?.getTime()).toBe(clock);
    expect(follower.followedAt?.getTime()).toBe(clock);
    const cart = await shopper.agent.get("/shop/follow").expect(200);
    expect(load(cart.text)(".alert--ok").text()).toContain("@sara.makes");
  });

  it("refuses forged, reused and expired confirmation links", async () => {
    const s = await newShopper(t.app);
    const page = await s.agent.get("/shop/follow");
    await s.agent.post("/shop/follow").type("form").send({ _csrf: csrfFrom(page.text), platform: "tiktok", handle: "@Tea_and_Clay", email: "tea@example.com", consent: "on" }).expect(200);
    const link = await confirmationLinkFor(t.deps, "tea@example.com");
    const forged = link.replace(/token=([^.]+)\.(.+)$/, "token=$1.AAAA$2");
    expect((await s.agent.get(forged).set("Accept", "application/json").expect(400)).body.error.code).toBe("link_invalid");
    await s.agent.get(link).expect(200);
    expect((await s.agent.get(link).set("Accept", "application/json").expect(400)).body.error.code).toBe("link_used");
    // A fresh link that is not used within 7 days stops working.
    await s.agent.post("/shop/follow").type("form").send({ _csrf: csrfFrom(page.text), platform: "tiktok", handle: "late_one", email: "late@example.com", consent: "on" }).expect(200);
    const late = await confirmationLinkFor(t.deps, "late@example.com");
    clock += 8 * DAY;
    await s.agent.get(late).expect(400);
  });

  it("names each bad field on the follow form and writes nothing", async () => {
    const s = await newShopper(t.app);
    const page = await s.agent.get("/shop/follow");
    const before = await t.db.follower.count();
    const res = await s.agent.post("/shop/follow").type("form").send({ _csrf: csrfFrom(page.text), platform: "myspace", handle: "<b>x</b>", email: "nope" }).expect(400);
    const text = load(res.text)("#follow-errors").text();
    expect(text).toContain("Choose the platform");
    expect(text).toContain("Letters, digits");
    expect(text).toContain("Enter the email");
    expect(text).toContain("Tick the box");
    expect(await t.db.follower.count()).toBe(before);
  });
});

describe("coupon refusals name the exact reason", () => {
  it.each([
    ["not started", { code: "SOON10", startsAt: "2026-12-24T00:00:00Z" }, "SOON10 is not valid yet: it starts on December 24, 2026."],
    ["expired", { code: "OLD10", endsAt: "2026-01-01T00:00:00Z" }, "OLD10 has expired: it ended on January 1, 2026."],
    ["not a follower", { code: "FANS10", followersOnly: true }, "FANS10 is for followers only."],
    ["limit reached", { code: "GONE10", usageLimit: 1 }, "GONE10 has reached its usage limit."],
    ["minimum subtotal", { code: "BIG10", minSubtotalMinor: 10_000 }, "BIG10 needs a subtotal of at least $100.00. Add $75.00 more."],
    ["not for these products", { code: "OTHER10", scope: "products", productIds: ["__placeholder__"] }, "OTHER10 does not apply to the products in your cart."],
  ])("%s", async (_name, overrides, message) => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 2500, stock: 50 }] });
    const other = await createProduct(t.deps);
    const fixed = { ...overrides } as Record<string, unknown>;
    if (Array.isArray(fixed.productIds)) fixed.productIds = [other.id];
    const coupon = await makeCoupon(t.deps, fixed);
    if (coupon.usageLimit === 1) await t.db.coupon.update({ where: { id: coupon.id }, data: { usedCount: 1 } });
    const s = await shopperWith(p.variants[0]!.id);
    const res = await apply(s, String(overrides.code)).expect(422);
    expect(res.body.error.message).toContain(message);
    // The cart page shows the localized reason next to the field.
    const html = await s.agent.post("/shop/cart/coupon").type("form").send({ _csrf: s.csrf, code: String(overrides.code) }).expect(422);
    expect(load(html.text)("#coupon-error").text()).toContain(message);
  });

  it("unknown codes, in any case and with spaces", async () => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 2500, stock: 5 }] });
    await makeCoupon(t.deps, { code: "SPRING15", percentOff: 15 });
    const s = await shopperWith(p.variants[0]!.id);
    expect((await apply(s, "NOPE99").expect(422)).body.error.details.reason).toBe("unknown_code");
    const ok = await apply(s, "  spring15 ").expect(200);
    expect(ok.body.data).toEqual({ code: "SPRING15", discountMinor: 375, freeShipping: false });
    const cart = await s.agent.get("/shop/cart").expect(200);
    expect(load(cart.text)("#cart-discount").text()).toBe("−$3.75");
    expect(load(cart.text)("#cart-total").text()).toBe("$21.25");
  });

  it("follow too recent, with the date it becomes eligible; verification too low", async () => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 2500, stock: 5 }] });
    await makeCoupon(t.deps, { code: "LOYAL30", followersOnly: true, minFollowDays: 30 });
    await makeCoupon(t.deps, { code: "LISTED", followersOnly: true, requiredVerification: "imported" });
    const { shopper } = await followAndConfirm(t.app, t.deps, { handle: "newbie" });
    await shopper.add(p.variants[0]!.id, 1).expect(303);
    const recent = await apply(shopper, "LOYAL30").expect(422);
    expect(recent.body.error.details.reason).toBe("follow_too_recent");
    expect(new Date(recent.body.error.details.eligibleAt).getTime()).toBe(clock + 30 * DAY);
    const html = await shopper.agent.post("/shop/cart/coupon").type("form").send({ _csrf: shopper.csrf, code: "LOYAL30" });
    expect(load(html.text)("#coupon-error").text()).toContain(new Intl.DateTimeFormat("en-US", { dateStyle: "long", timeZone: "UTC" }).format(new Date(clock + 30 * DAY)));
    expect((await apply(shopper, "LISTED").expect(422)).body.error.details.reason).toBe("verification_too_low");
    clock += 31 * DAY;
    await apply(shopper, "LOYAL30").expect(200);
  });

  it("one coupon per order unless both stack", async () => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 10_000, stock: 5 }] });
    await makeCoupon(t.deps, { code: "SOLO20", percentOff: 20 });
    await makeCoupon(t.deps, { code: "STACKA", percentOff: 5, stackable: true });
    await makeCoupon(t.deps, { code: "STACKB", kind: "fixed", percentOff: null, amountOffMinor: 500, stackable: true });
    const s = await shopperWith(p.variants[0]!.id);
    await apply(s, "SOLO20").expect(200);
    const clash = await apply(s, "STACKA").expect(422);
    expect(clash.body.error.message).toBe("STACKA cannot be combined with SOLO20. Remove one of them.");
    const s2 = await shopperWith(p.variants[0]!.id);
    await apply(s2, "STACKA").expect(200);
    await apply(s2, "STACKB").expect(200);
    const cart = await s2.agent.get("/shop/cart").set("Accept", "application/json");
    expect(cart.body.data.discountMinor).toBe(1000);
  });

  it("limits wrong guesses per address", async () => {
    const limited = await buildTestApp({ couponAttemptsPer15Min: 3 });
    try {
      const p = await createProduct(limited.deps, { variants: [{ stock: 5 }] });
      await makeCoupon(limited.deps, { code: "REAL10" });
      const s = await newShopper(limited.app);
      await s.add(p.variants[0]!.id, 1).expect(303);
      const tryCode = (code: string) => s.agent.post("/shop/cart/coupon").type("form").send({ _csrf: s.csrf, code }).set("Accept", "application/json");
      for (const guess of ["AAAA1", "AAAA2", "AAAA3"]) expect((await tryCode(guess)).status).toBe(422);
      const blocked = await tryCode("REAL10");
      expect(blocked.status).toBe(429);
      expect(blocked.body.error.message).toContain("Too many wrong codes");
    } finally {
      await limited.close();
    }
  });
});

describe("atomic redemption", () => {
  it("200 parallel checkouts against a limit of 10: exactly 10 committed redemptions and 10 discounted paid orders", async () => {
    const p = await createProduct(t.deps, { title: "Drop", variants: [{ priceMinor: 5000, stock: 1000 }] });
    const coupon = await makeCoupon(t.deps, { code: "FIRST10", percentOff: 20, usageLimit: 10 });
    // Carts are made directly (the apply-a-code path has its own tests); the
    // 200 checkouts below are real, parallel HTTP requests.
    const shoppers: Shopper[] = [];
    for (let batch = 0; batch < 10; batch++) {
      shoppers.push(...(await Promise.all(Array.from({ length: 20 }, () => shopperWithCart(t.app, t.deps, { items: [{ variantId: p.variants[0]!.id, quantity: 1 }], couponCodes: ["FIRST10"] })))));
    }
    const results = await Promise.all(shoppers.map((s) => s.checkout().set("Accept", "application/json")));
    const won = results.map((r, i) => ({ r, s: shoppers[i]! })).filter(({ r }) => r.status === 201);
    expect(won).toHaveLength(10);
    expect(results.filter((r) => r.status === 422 && r.body.error.details.reason === "limit_reached")).toHaveLength(190);
    expect((await t.db.coupon.findUniqueOrThrow({ where: { id: coupon.id } })).usedCount).toBe(10);

    await Promise.all(won.map(({ r, s }) => payLocally(s, r.body.data.url)));
    expect(await t.db.redemption.count({ where: { couponId: coupon.id, status: "committed" } })).toBe(10);
    const paid = await t.db.order.findMany({ where: { couponId: coupon.id, status: "paid" } });
    expect(paid).toHaveLength(10);
    for (const o of paid) expect([o.subtotalMinor, o.discountMinor, o.totalMinor]).toEqual([5000, 1000, 4500]);
    expect((await t.db.variant.findUniqueOrThrow({ where: { id: p.variants[0]!.id } })).stock).toBe(990);
  }, 120_000);

  it("once per follower holds against 20 parallel checkouts by the same follower, and after unfollow and follow again", async () => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 3000, stock: 100 }] });
    const coupon = await makeCoupon(t.deps, { code: "THANKYOU", percentOff: 10, followersOnly: true });
    const { shopper, follower } = await followAndConfirm(t.app, t.deps, { handle: "greedy" });
    const followerCookie = (await shopper.agent.get("/shop/follow")).request.cookies;
    expect(followerCookie).toContain("bz_follower=");
    // Twenty browsers of the same follower, each with the code applied.
    const browsers = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const s = await newShopper(t.app);
        s.agent.jar.setCookie(/bz_follower=[^;]+/.exec(followerCookie)![0], "127.0.0.1", "/shop");
        await s.add(p.variants[0]!.id, 1).expect(303);
        await apply(s, "THANKYOU").expect(200);
        return s;
      }),
    );
    const results = await Promise.all(browsers.map((s) => s.checkout().set("Accept", "application/json")));
    const won = results.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 422 && r.body.error.details.reason === "already_used")).toHaveLength(19);
    await payLocally(browsers[results.indexOf(won[0]!)]!, won[0]!.body.data.url);
    expect(await t.db.redemption.count({ where: { couponId: coupon.id, status: "committed", personKey: follower.personKey } })).toBe(1);

    // Unfollow, follow again with the same handle and a new email: still used.
    const manage = await shopper.agent.get("/shop/follow");
    const manageLink = load(manage.text)('a[href*="/follow/manage?token="]').attr("href")!;
    const managePage = await shopper.agent.get(manageLink).expect(200);
    await shopper.agent.post("/shop/follow/manage/unfollow").type("form").send({ _csrf: csrfFrom(managePage.text), token: new URL(manageLink, "http://x").searchParams.get("token") }).expect(200);
    const again = await followAndConfirm(t.app, t.deps, { handle: "Greedy", email: "greedy-new@example.com" });
    await again.shopper.add(p.variants[0]!.id, 1).expect(303);
    expect((await apply(again.shopper, "THANKYOU").expect(422)).body.error.details.reason).toBe("already_used");
  }, 60_000);

  it("a follower who erases their data while a redemption is reserved: the order completes and the limit still holds", async () => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 2000, stock: 10 }] });
    const coupon = await makeCoupon(t.deps, { code: "ERASEME", percentOff: 50, followersOnly: true });
    const { shopper, follower } = await followAndConfirm(t.app, t.deps, { handle: "privacy.first" });
    await shopper.add(p.variants[0]!.id, 1).expect(303);
    await apply(shopper, "ERASEME").expect(200);
    const started = await shopper.checkout().set("Accept", "application/json").expect(201);
    const manage = load((await shopper.agent.get("/shop/follow")).text)('a[href*="/follow/manage?token="]').attr("href")!;
    const token = new URL(manage, "http://x").searchParams.get("token")!;
    const managePage = await shopper.agent.get(manage).expect(200);
    await shopper.agent.post("/shop/follow/manage/erase").type("form").send({ _csrf: csrfFrom(managePage.text), token }).expect(200);
    const erased = await t.db.follower.findUniqueOrThrow({ where: { id: follower.id } });
    expect(erased).toMatchObject({ status: "erased", email: null, handle: "(erased)" });
    await payLocally(shopper, started.body.data.url);
    expect(await t.db.redemption.count({ where: { couponId: coupon.id, status: "committed" } })).toBe(1);
    const back = await followAndConfirm(t.app, t.deps, { handle: "privacy.first", email: "back@example.com" });
    await back.shopper.add(p.variants[0]!.id, 1).expect(303);
    expect((await apply(back.shopper, "ERASEME").expect(422)).body.error.details.reason).toBe("already_used");
  });

  it("a cancelled checkout gives the use back", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 10 }] });
    const coupon = await makeCoupon(t.deps, { code: "ONLYONE", usageLimit: 1 });
    const s = await shopperWith(p.variants[0]!.id);
    await apply(s, "ONLYONE").expect(200);
    const started = await s.checkout().set("Accept", "application/json").expect(201);
    expect((await t.db.coupon.findUniqueOrThrow({ where: { id: coupon.id } })).usedCount).toBe(1);
    const u = new URL(started.body.data.url);
    const page = await s.agent.get(u.pathname + u.search);
    await s.agent.post(u.pathname + u.search).type("form").send({ _csrf: csrfFrom(page.text), action: "cancel" }).expect(303);
    const cancel = await s.agent.get(`/shop/checkout/cancel/${(await t.db.order.findFirstOrThrow({ where: { couponId: coupon.id } })).id}${u.search}`);
    expect(cancel.status).toBe(303);
    expect((await t.db.coupon.findUniqueOrThrow({ where: { id: coupon.id } })).usedCount).toBe(0);
    expect(await t.db.redemption.count({ where: { couponId: coupon.id, status: "released" } })).toBe(1);
  });
});

describe("personal codes and live-only codes", () => {
  it("a personal code works once, only for its follower", async () => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 4000, stock: 10 }] });
    const coupon = await makeCoupon(t.deps, { code: "VIP", percentOff: 25, followersOnly: true });
    const owner = await followAndConfirm(t.app, t.deps, { handle: "vip.one" });
    const stranger = await followAndConfirm(t.app, t.deps, { handle: "not.vip" });
    const issued = await issuePersonalCodes(t.deps, { couponId: coupon.id, filter: { followerIds: [owner.follower.id], limit: 10, notify: true }, actor: { type: "system" } });
    expect(issued).toHaveLength(1);
    const code = issued[0]!.code;
    expect(code).toMatch(/^VIP-[A-Z2-9]{12}$/);
    expect(await t.db.outboxEmail.count({ where: { to: "vip.one@example.com", template: "personal_code" } })).toBe(1);
    await stranger.shopper.add(p.variants[0]!.id, 1).expect(303);
    expect((await apply(stranger.shopper, code.toLowerCase()).expect(422)).body.error.details.reason).toBe("not_follower");
    await owner.shopper.add(p.variants[0]!.id, 1).expect(303);
    await apply(owner.shopper, code).expect(200);
    const started = await owner.shopper.checkout().set("Accept", "application/json").expect(201);
    await payLocally(owner.shopper, started.body.data.url);
    await owner.shopper.add(p.variants[0]!.id, 1).expect(303);
    expect((await apply(owner.shopper, code).expect(422)).body.error.details.reason).toBe("already_used");
  });

  it("a live-only code works only inside the live session's window", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 10 }] });
    const live = await t.db.liveSession.create({ data: { title: "Friday live", code: "fri", startsAt: new Date(clock + 3600_000), endsAt: new Date(clock + 2 * 3600_000) } });
    await makeCoupon(t.deps, { code: "LIVENOW", liveSessionId: live.id });
    const s = await shopperWith(p.variants[0]!.id);
    expect((await apply(s, "LIVENOW").expect(422)).body.error.details.reason).toBe("live_only");
    clock += 90 * 60_000;
    await apply(s, "LIVENOW").expect(200);
    clock += 60 * 60_000;
    const cart = await s.agent.get("/shop/cart").set("Accept", "application/json");
    expect(cart.body.data.canCheckout).toBe(false);
    expect(cart.body.data.coupons[0].refusal.reason).toBe("live_only");
  });
});

describe("discounts reach Stripe", () => {
  let stripe: FakeStripe;
  let s2: TestApp;
  beforeAll(async () => {
    stripe = await startFakeStripe();
    s2 = await buildTestApp({ payments: stripe.gateway });
  });
  afterAll(async () => {
    await s2.close();
    await stripe.close();
  });

  it("Stripe charges exactly our total, and the order records the discount", async () => {
    const p = await createProduct(s2.deps, { variants: [{ priceMinor: 3333, stock: 5 }] });
    await makeCoupon(s2.deps, { code: "THIRD", percentOff: 33 });
    const shopper = await newShopper(s2.app);
    await shopper.add(p.variants[0]!.id, 3).expect(303);
    await shopper.agent.post("/shop/cart/coupon").type("form").send({ _csrf: shopper.csrf, code: "third" }).expect(303);
    const res = await shopper.checkout().expect(303);
    const sessionId = sessionIdFrom(res.headers.location);
    const order = await s2.db.order.findUniqueOrThrow({ where: { paymentRef: sessionId } });
    expect(order).toMatchObject({ subtotalMinor: 9999, discountMinor: 3299, totalMinor: 6700 });
    const couponCall = stripe.requests.find((r) => r.path === "/v1/coupons" && r.idempotencyKey === `order:${order.id}:coupon`)!;
    expect(couponCall.body).toMatchObject({ amount_off: "3299", currency: "usd", duration: "once" });
    const session = stripe.complete(sessionId, { shippingIndex: 0 });
    expect(session.amount_total).toBe(6700 + 500);
    await deliverWebhook(s2.app, stripe.event("checkout.session.completed", session)).expect(200);
    expect(await s2.db.order.findUniqueOrThrow({ where: { id: order.id } })).toMatchObject({ status: "paid", totalMinor: 7200, amountMismatch: false });
  });

  it("free shipping is sent to Stripe as zero-priced shipping options", async () => {
    const p = await createProduct(s2.deps, { variants: [{ priceMinor: 1000, stock: 5 }] });
    await makeCoupon(s2.deps, { code: "SHIPFREE", kind: "free_shipping", percentOff: null });
    const shopper = await newShopper(s2.app);
    await shopper.add(p.variants[0]!.id, 1).expect(303);
    await shopper.agent.post("/shop/cart/coupon").type("form").send({ _csrf: shopper.csrf, code: "SHIPFREE" }).expect(303);
    const res = await shopper.checkout().expect(303);
    const create = stripe.requests.filter((r) => r.path === "/v1/checkout/sessions").at(-1)!;
    expect((create.body.shipping_options as { shipping_rate_data: { fixed_amount: { amount: string } } }[]).map((o) => o.shipping_rate_data.fixed_amount.amount)).toEqual(["0", "0"]);
    const session = stripe.complete(sessionIdFrom(res.headers.location), { shippingIndex: 1 });
    await deliverWebhook(s2.app, stripe.event("checkout.session.completed", session)).expect(200);
    const order = await s2.db.order.findUniqueOrThrow({ where: { paymentRef: session.id } });
    expect(order).toMatchObject({ shippingMinor: 0, totalMinor: 1000, status: "paid" });
  });
});

describe("follower imports", () => {
  it("reports every bad row with its line, imports all or nothing, and matches imported handles to confirmed people", async () => {
    const { importFollowers } = await import("../src/followers/followers.service.js");
    const bad = "handle,platform,followed_at\n@ok.one,instagram,2026-01-05\n,instagram,2026-01-05\n@x,myspace,2026-01-05\n@ok.one,instagram,2026-02-01\n@late,tiktok,2099-01-01\n@baddate,tiktok,yesterday\n";
    const report = await importFollowers(t.deps, { csv: bad, dryRun: true, actor: { type: "system" } });
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => [p.line, p.column])).toEqual([
      [3, "handle"],
      [4, "platform"],
      [5, "handle"],
      [6, "followed_at"],
      [7, "followed_at"],
    ]);
    const before = await t.db.follower.count();
    expect((await importFollowers(t.deps, { csv: bad, dryRun: false, actor: { type: "system" } })).ok).toBe(false);
    expect(await t.db.follower.count()).toBe(before);

    const good = "Handle,Platform,Followed At\n@imported.fan,instagram,2025-06-01T00:00:00Z\nsecond_fan,tiktok,\n";
    const dry = await importFollowers(t.deps, { csv: good, dryRun: true, actor: { type: "system" } });
    expect(dry).toMatchObject({ ok: true, created: 2, updated: 0 });
    expect(await t.db.follower.count()).toBe(before);
    await importFollowers(t.deps, { csv: good, dryRun: false, actor: { type: "system" } });
    const fan = await t.db.follower.findFirstOrThrow({ where: { handleKey: "imported.fan" } });
    expect(fan).toMatchObject({ status: "active", emailConfirmedAt: null });
    expect(fan.followedAt?.toISOString()).toBe("2025-06-01T00:00:00.000Z");

    // The same person confirms that handle by email: verified both ways, earliest follow date kept.
    const { follower } = await followAndConfirm(t.app, t.deps, { handle: "Imported.Fan" });
    expect(follower.id).toBe(fan.id);
    expect(follower.emailConfirmedAt).not.toBeNull();
    expect(follower.importedAt).not.toBeNull();
    expect(follower.followedAt?.toISOString()).toBe("2025-06-01T00:00:00.000Z");
  });
});

describe("follower self-service", () => {
  it("exports the follower's data as JSON", async () => {
    const { shopper } = await followAndConfirm(t.app, t.deps, { handle: "data.please" });
    const link = load((await shopper.agent.get("/shop/follow")).text)('a[href*="/follow/manage?token="]').attr("href")!;
    const token = new URL(link, "http://x").searchParams.get("token")!;
    const res = await request(t.app).get(`/shop/follow/manage/export?token=${encodeURIComponent(token)}`).expect(200);
    expect(res.headers["content-disposition"]).toContain("attachment");
    expect(res.body).toMatchObject({ platform: "instagram", handle: "data.please", email: "data.please@example.com", status: "active" });
    await request(t.app).get(`/shop/follow/manage/export?token=${encodeURIComponent(token.slice(0, -3))}xyz`).expect(400);
  });
});
