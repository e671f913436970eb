import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { reviewRequestText } from "../src/reviews/requests.service.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct, testImage } from "./helpers/factories.js";
import { load } from "./helpers/html.js";
import { adminClients, buy, reviewLinkOf, setSettings, summaryOf, visitor } from "./helpers/reviews.js";

const DAY = 24 * 3600 * 1000;
let clock = Date.parse("2026-11-20T10:00:00Z");
let t: TestApp;
let clients: Awaited<ReturnType<typeof adminClients>>;
beforeAll(async () => {
  t = await buildTestApp({ trustProxy: 1, now: () => new Date(clock), publicUrl: "https://shop.example.com/shop" });
  clients = await adminClients(t);
});
afterAll(() => t.close());
beforeEach(async () => {
  clock = Date.parse("2026-11-20T10:00:00Z");
  await setSettings(t, { requestsEnabled: true, requestTrigger: "paid", requestDelayDays: 3, incentive: "" });
});

/** Opens the review link and posts a review for one order line through its form. */
async function reviewThroughLink(token: string, lineId: string, fields: Record<string, string>, photos: Buffer[] = []) {
  const v = await visitor(t);
  const page = await v.agent.get(`/shop/reviews/write/${token}`).expect(200);
  const $ = load(page.text);
  const form = $(`#line-${lineId} form`);
  expect(form).toHaveLength(1);
  let req = v.agent.post(form.attr("action")!).field("orderLineId", lineId);
  for (const [k, val] of Object.entries(fields)) req = req.field(k, val);
  for (const photo of photos) req = req.attach("photos", photo, { filename: "p.jpg", contentType: "image/jpeg" });
  return { res: await req, v, page };
}

describe("review requests", () => {
  it("queue one request per order when it is paid, due after the delay, with a link valid 45 days after that", async () => {
    const p = await createProduct(t.deps, { title: "Walnut Board" });
    const order = await buy(t, p.variants[0]!.id, { email: "ana@example.com", name: "Ana Rossi" });
    expect(order.status).toBe("paid");
    const requests = await t.db.reviewRequest.findMany({ where: { orderId: order.id } });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.sendAfter.toISOString()).toBe(new Date(clock + 3 * DAY).toISOString());
    expect(requests[0]!.expiresAt.toISOString()).toBe(new Date(clock + 48 * DAY).toISOString());
    const { token, email } = await reviewLinkOf(t, order.id);
    expect(email).toMatchObject({ to: "ana@example.com", template: "review_request", status: "queued" });
    expect(email.sendAfter?.toISOString()).toBe(new Date(clock + 3 * DAY).toISOString());
    expect(email.text).toContain(`https://shop.example.com/shop/reviews/write/${token}`);
    expect(email.text).toContain("Hello Ana,");
    expect(email.text).toContain("- Walnut Board");
    expect(email.text).toContain("whatever its rating");
    // Only a hash is stored: the token itself is nowhere in the database.
    expect(requests[0]!.tokenHash).not.toContain(token);
    expect(await t.db.reviewRequest.count({ where: { tokenHash: token } })).toBe(0);
    // The order confirmation and the request are two emails; the request is queued once.
    expect(await t.db.outboxEmail.count({ where: { dedupeKey: { startsWith: `order:${order.id}:` } } })).toBe(2);
  });

  it("a review sent through the link is a verified buyer's, published under the same rules, and counted", async () => {
    const p = await createProduct(t.deps, { title: "Linen Apron" });
    const order = await buy(t, p.variants[0]!.id, { name: "Ana Rossi" });
    const { token } = await reviewLinkOf(t, order.id);
    const line = order.lines[0]!;
    const { res, page } = await reviewThroughLink(token, line.id, { rating: "2", title: "Thin fabric", body: "Thinner than I hoped; the colour is nice.", displayName: "Ana R." }, [await testImage()]);
    expect(page.text).toContain("Review your order #");
    expect(load(page.text)(`#line-${line.id} input[name="displayName"]`).val()).toBe("Ana R.");
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/shop/reviews/write/${token}?done=1`);

    const review = await t.db.review.findFirstOrThrow({ where: { productId: p.id } });
    expect(review).toMatchObject({ verifiedBuyer: true, source: "request", orderId: order.id, orderLineId: line.id, status: "published", rating: 2, email: "buyer@example.com", hasPhotos: true });
    expect(await summaryOf(t, p.id)).toMatchObject({ count: 1, star2: 1 });
    expect((await t.db.reviewRequest.findFirstOrThrow({ where: { orderId: order.id } })).usedAt).not.toBeNull();

    const product = await (await visitor(t)).agent.get(`/shop/p/${p.slug}`).expect(200);
    expect(load(product.text)(`#review-${review.id} .badge--ok`).text()).toBe("Verified buyer");

    // Done lines show as reviewed, and a second review of the same line is a 409 that writes nothing.
    const again = await (await visitor(t)).agent.get(`/shop/reviews/write/${token}`).expect(200);
    expect(load(again.text)(`#line-${line.id}`).text()).toContain("Reviewed");
    const v = await visitor(t);
    const dup = await v.agent
      .post(`/shop/reviews/write/${token}`)
      .set("Accept", "application/json")
      .set("X-CSRF-Token", v.csrf)
      .send({ orderLineId: line.id, rating: 5, body: "Changed my mind, it is great now!", displayName: "Ana R." })
      .expect(409);
    expect(dup.body.error.code).toBe("already_reviewed");
    expect(await t.db.review.count({ where: { productId: p.id } })).toBe(1);
  });

  it("two reviews of the same order line sent at once: exactly one is saved", async () => {
    const p = await createProduct(t.deps);
    const order = await buy(t, p.variants[0]!.id);
    const { token } = await reviewLinkOf(t, order.id);
    const send = async (i: number) => {
      const v = await visitor(t);
      return v.agent
        .post(`/shop/reviews/write/${token}`)
        .set("Accept", "application/json")
        .set("X-CSRF-Token", v.csrf)
        .send({ orderLineId: order.lines[0]!.id, rating: 4, body: `Parallel attempt number ${i} at one review.`, displayName: "Pat" });
    };
    const results = await Promise.all([1, 2, 3, 4].map(send));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    expect(await t.db.review.count({ where: { productId: p.id } })).toBe(1);
    expect(await summaryOf(t, p.id)).toMatchObject({ count: 1 });
  });

  it("forged, malformed and expired links are refused and write nothing", async () => {
    const p = await createProduct(t.deps);
    const order = await buy(t, p.variants[0]!.id);
    const { token } = await reviewLinkOf(t, order.id);
    const v = await visitor(t);
    const forged = `${token.slice(0, -4)}AAAA`;
    const res = await v.agent.get(`/shop/reviews/write/${forged}`).set("Accept", "application/json").expect(404);
    expect(res.body.error.code).toBe("review_link_invalid");
    await v.agent.get("/shop/reviews/write/short").set("Accept", "application/json").expect(400);
    const post = await v.agent
      .post(`/shop/reviews/write/${forged}`)
      .set("Accept", "application/json")
      .set("X-CSRF-Token", v.csrf)
      .send({ orderLineId: order.lines[0]!.id, rating: 5, body: "A forged link should not work.", displayName: "Eve" })
      .expect(404);
    expect(post.body.error.code).toBe("review_link_invalid");

    clock += (3 + 45) * DAY + 1000;
    const expired = await v.agent.get(`/shop/reviews/write/${token}`).set("Accept", "application/json").expect(410);
    expect(expired.body.error.code).toBe("review_link_expired");
    const late = await v.agent
      .post(`/shop/reviews/write/${token}`)
      .set("Accept", "application/json")
      .set("X-CSRF-Token", v.csrf)
      .send({ orderLineId: order.lines[0]!.id, rating: 5, body: "Too late to count for anything.", displayName: "Lat" })
      .expect(410);
    expect(late.body.error.code).toBe("review_link_expired");
    expect(await t.db.review.count({ where: { productId: p.id } })).toBe(0);
  });

  it("a line of another order, or bad fields, are 400 and write nothing", async () => {
    const p = await createProduct(t.deps);
    const a = await buy(t, p.variants[0]!.id);
    const b = await buy(t, p.variants[0]!.id);
    const { token } = await reviewLinkOf(t, a.id);
    const v = await visitor(t);
    const other = await v.agent
      .post(`/shop/reviews/write/${token}`)
      .set("Accept", "application/json")
      .set("X-CSRF-Token", v.csrf)
      .send({ orderLineId: b.lines[0]!.id, rating: 5, body: "Review of someone else's item.", displayName: "Eve" })
      .expect(400);
    expect(other.body.error.details[0].field).toBe("orderLineId");
    const bad = await v.agent
      .post(`/shop/reviews/write/${token}`)
      .set("Accept", "application/json")
      .set("X-CSRF-Token", v.csrf)
      .send({ orderLineId: a.lines[0]!.id, rating: 7, body: "x", displayName: "Eve", verifiedBuyer: false })
      .expect(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(["rating", "(root)"]));
    expect(await t.db.review.count({ where: { productId: p.id } })).toBe(0);
  });

  it("with the fulfilled trigger, payment queues nothing and fulfilment (through the orders API) queues the request", async () => {
    await setSettings(t, { requestTrigger: "fulfilled", requestDelayDays: 0 });
    const p = await createProduct(t.deps);
    const order = await buy(t, p.variants[0]!.id);
    expect(await t.db.reviewRequest.count({ where: { orderId: order.id } })).toBe(0);
    clock += 2 * DAY;
    await clients.api("post", `/orders/${order.id}/fulfill`).send({}).expect(200);
    const request = await t.db.reviewRequest.findUniqueOrThrow({ where: { orderId: order.id } });
    expect(request.sendAfter.toISOString()).toBe(new Date(clock).toISOString());
    // Fulfilling again changes nothing.
    await clients.api("post", `/orders/${order.id}/fulfill`).send({}).expect(200);
    expect(await t.db.outboxEmail.count({ where: { dedupeKey: `order:${order.id}:review-request` } })).toBe(1);
  });

  it("turned off, nothing is queued", async () => {
    await setSettings(t, { requestsEnabled: false });
    const p = await createProduct(t.deps);
    const order = await buy(t, p.variants[0]!.id);
    expect(await t.db.reviewRequest.count({ where: { orderId: order.id } })).toBe(0);
    expect(await t.db.outboxEmail.count({ where: { dedupeKey: `order:${order.id}:review-request` } })).toBe(0);
  });

  it("with an incentive, the email offers it for any review and reviews through the link are labelled incentivized", async () => {
    await setSettings(t, { incentive: "10% off your next order" });
    const p = await createProduct(t.deps);
    const order = await buy(t, p.variants[0]!.id);
    const { token, email } = await reviewLinkOf(t, order.id);
    expect(email.text).toContain("As a thank-you for any review, whatever you write: 10% off your next order.");
    const { res } = await reviewThroughLink(token, order.lines[0]!.id, { rating: "1", body: "Broke on day one, sadly.", displayName: "Max" });
    expect(res.status).toBe(303);
    expect(await t.db.review.findFirstOrThrow({ where: { productId: p.id } })).toMatchObject({ incentivized: true, verifiedBuyer: true, status: "published" });
  });

  it("the email never depends on anything but language, order and incentive: no 'if unhappy, contact us'", () => {
    const base = { locale: "en" as const, shop: "Tea & Clay", name: "Sam Shopper", orderNumber: 1042, lines: [{ title: "Mug", variantTitle: "Blue" }], link: "https://x/reviews/write/abc", expiresAt: new Date("2027-01-01T00:00:00Z"), incentive: "" };
    const text = reviewRequestText(base);
    expect(text).not.toMatch(/unhappy|not happy|contact (us|support)|problem|5 stars|five stars/i);
    expect(reviewRequestText({ ...base, locale: "fa" })).toContain("همهٔ نظرها، با هر امتیازی، با قاعده‌های یکسان منتشر می‌شوند.");
    expect(reviewRequestText({ ...base, name: null })).toMatch(/^Hello,\n/);
  });

  it("the admin lists requests with their state, and there is no way to set 'verified buyer' by hand", async () => {
    const p = await createProduct(t.deps);
    const order = await buy(t, p.variants[0]!.id);
    const page = await clients.admin.get("/shop/admin/reviews/requests").expect(200);
    expect(load(page.text)("tbody").text()).toContain(`#${order.number}`);
    const $page = load(page.text);
    const row = $page("tbody tr").filter((_, el) => $page(el).text().includes(`#${order.number}`));
    expect(row.text()).toContain("Scheduled");
    expect(row.find("[data-email-status]").text()).toBe("Waiting in the outbox");
    const list = await clients.api("get", "/reviews/requests").expect(200);
    expect(list.body.data.find((r: { orderNumber: number }) => r.orderNumber === order.number)).toMatchObject({ state: "scheduled", reviews: 0, lines: 1, emailStatus: "queued", emailSentAt: null });
    expect(JSON.stringify(list.body)).not.toMatch(/token/i);

    const v = await visitor(t);
    const { body } = await v.agent.post(`/shop/p/${p.slug}/reviews`).set("Accept", "application/json").set("X-CSRF-Token", v.csrf).send({ rating: 5, body: "Web review, not verified.", displayName: "Web" }).expect(201);
    await clients.api("patch", `/reviews/${body.data.id}`).send({ verifiedBuyer: true }).expect(400);
    await clients.admin.post(`/shop/admin/reviews/${body.data.id}/verified`).type("form").send({ _csrf: clients.csrf }).expect(404);
    const detail = await clients.admin.get(`/shop/admin/reviews/${body.data.id}`).expect(200);
    expect(load(detail.text)("form[action*='verified'], input[name='verifiedBuyer']")).toHaveLength(0);
    expect((await t.db.review.findUniqueOrThrow({ where: { id: body.data.id } })).verifiedBuyer).toBe(false);
  });
});
