import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { expect } from "vitest";
import { updateReviewSettings } from "../../src/reviews/settings.js";
import type { ReviewSettings } from "../../src/reviews/reviews.schema.js";
import type { TestApp } from "./app.js";
import { createAdmin, createToken } from "./factories.js";
import { csrfFrom, load, signIn } from "./html.js";

let ipCounter = 0;

/**
 * A fresh client address. The public review endpoints are rate limited per
 * IP; with `trustProxy: 1` each simulated visitor sends its own
 * X-Forwarded-For, so only the tests about limits ever meet one.
 */
export function nextIp() {
  ipCounter++;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

/** A shopper's browser from its own address: cookies, CSRF token. */
export async function visitor(t: TestApp, ip = nextIp()) {
  const agent = request.agent(t.app);
  agent.set("X-Forwarded-For", ip);
  const home = await agent.get("/shop/").expect(200);
  return { agent, ip, csrf: csrfFrom(home.text) };
}
export type Visitor = Awaited<ReturnType<typeof visitor>>;

export interface ReviewFields {
  rating?: string | number;
  title?: string;
  body?: string;
  displayName?: string;
  email?: string;
  incentivized?: string;
  variantId?: string;
  [extra: string]: string | number | undefined;
}

/**
 * Writes a review through the real multipart form (action URL from the form
 * page, photos attached) and checks the status code it answers.
 */
export async function postReviewForm(v: Visitor, slug: string, fields: ReviewFields, photos: Buffer[] = [], expected = 303, opts: { json?: boolean } = {}) {
  const page = await v.agent.get(`/shop/p/${slug}/reviews/new`).expect(200);
  const action = load(page.text)("form.review-form").attr("action");
  expect(action).toMatch(new RegExp(`^/shop/p/${slug}/reviews\\?_csrf=`));
  let req = v.agent.post(action!);
  if (opts.json) req = req.set("Accept", "application/json");
  for (const [k, val] of Object.entries(fields)) if (val !== undefined) req = req.field(k, String(val));
  for (const [i, bytes] of photos.entries()) req = req.attach("photos", bytes, { filename: `photo-${i}.jpg`, contentType: "image/jpeg" });
  const res = await req;
  expect(res.status, res.text.slice(0, 500)).toBe(expected);
  return res;
}

/** Writes a review as JSON (the same endpoint; CSRF in the header). */
export function postReviewJson(v: Visitor, slug: string, body: Record<string, unknown>) {
  return v.agent.post(`/shop/p/${slug}/reviews`).set("Accept", "application/json").set("X-CSRF-Token", v.csrf).send(body);
}

let reviewCounter = 0;
/** A review that passes every filter; its text differs each time so it is never held as a copy. */
export const goodReview = (overrides: ReviewFields = {}): ReviewFields => ({
  rating: 4,
  title: "Lovely glaze",
  body: `The colour is deeper than in the photos and it holds heat well (mug ${++reviewCounter}).`,
  displayName: "Mina K.",
  ...overrides,
});

/** A signed-in admin browser and an API token, for moderation through both doors. */
export async function adminClients(t: TestApp) {
  const { email, password } = await createAdmin(t.deps);
  const admin = request.agent(t.app);
  await signIn(admin, email, password);
  const page = await admin.get("/shop/admin/reviews").expect(200);
  const csrf = csrfFrom(page.text);
  const { token } = await createToken(t.deps);
  const api = (method: "get" | "post" | "patch" | "put" | "delete", path: string) =>
    request(t.app)[method](`/shop/api/v1${path}`).set("Authorization", `Bearer ${token}`).set("Accept", "application/json");
  return { admin: admin as TestAgent, csrf, api, email };
}

export async function setSettings(t: TestApp, patch: Partial<ReviewSettings>) {
  await updateReviewSettings(t.deps, { patch, actor: { type: "system" } });
}

/** Recount of a product's published reviews straight from the Review table. */
export async function recount(t: TestApp, productId: string) {
  const rows = await t.db.review.findMany({ where: { productId, status: "published" }, select: { rating: true } });
  const stars = [1, 2, 3, 4, 5].map((n) => rows.filter((r) => r.rating === n).length);
  return { count: rows.length, sum: rows.reduce((a, r) => a + r.rating, 0), star1: stars[0], star2: stars[1], star3: stars[2], star4: stars[3], star5: stars[4] };
}

export async function summaryOf(t: TestApp, productId: string) {
  const s = await t.db.ratingSummary.findUnique({ where: { productId } });
  return s ? { count: s.count, sum: s.sum, star1: s.star1, star2: s.star2, star3: s.star3, star4: s.star4, star5: s.star5 } : { count: 0, sum: 0, star1: 0, star2: 0, star3: 0, star4: 0, star5: 0 };
}

/** Buys a variant through cart → checkout → the local payment page, as a browser does. */
export async function buy(t: TestApp, variantId: string, opts: { email?: string; name?: string; quantity?: number } = {}) {
  const v = await visitor(t);
  await v.agent.post("/shop/cart/items").type("form").send({ _csrf: v.csrf, variantId, quantity: opts.quantity ?? 1 }).expect(303);
  const res = await v.agent.post("/shop/checkout").type("form").send({ _csrf: v.csrf, email: opts.email ?? "buyer@example.com" }).expect(303);
  const url = new URL(res.headers.location!, "http://x");
  const ref = url.pathname.split("/").pop()!;
  await v.agent
    .post(url.pathname + url.search)
    .type("form")
    .send({ _csrf: v.csrf, action: "pay", email: opts.email ?? "buyer@example.com", name: opts.name ?? "Sam Shopper", line1: "1 Main St", city: "Portland", postalCode: "97201", country: "US", shipping: "standard" })
    .expect(303);
  return t.db.order.findUniqueOrThrow({ where: { paymentRef: ref }, include: { lines: true } });
}

/** The review link inside the queued request email of an order. */
export async function reviewLinkOf(t: TestApp, orderId: string) {
  const email = await t.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: `order:${orderId}:review-request` } });
  const m = /\/reviews\/write\/([A-Za-z0-9_-]{43})/.exec(email.text);
  if (!m) throw new Error(`no review link in: ${email.text}`);
  return { token: m[1]!, email };
}
