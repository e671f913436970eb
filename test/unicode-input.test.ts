import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "../src/generated/prisma/client.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct, createToken, testImage } from "./helpers/factories.js";
import { startFakeStripe, type FakeStripe } from "./helpers/fake-stripe.js";
import { csrfFrom, signIn } from "./helpers/html.js";
import { createPost } from "./helpers/post-factories.js";
import { deliverWebhook, newShopper, type Shopper } from "./helpers/shopper.js";

/**
 * Text that is not well-formed Unicode — a lone surrogate ("\ud800" in JSON)
 * or bytes that are not UTF-8 (%ED%A0%80 in a form or a query string, raw
 * bytes in a body, a multipart field or a CSV) — is refused at the edge with
 * a 400 naming the field, on every way in, and nothing is written.
 */

const LONE = '"\\ud800"'; // JSON text for a lone high surrogate
const BAD = "%ED%A0%80"; // the UTF-8-style bytes of U+D800, which UTF-8 forbids

let t: TestApp;
let shopper: Shopper;
let admin: TestAgent;
let adminCsrf: string;
let auth: { Authorization: string };
let slug: string;
let variantId: string;
let postId: string;

beforeAll(async () => {
  t = await buildTestApp();
  const product = await createProduct(t.deps, { title: "Mug", variants: [{ stock: 5 }] });
  slug = product.slug;
  variantId = product.variants[0]!.id;
  postId = (await createPost(t.deps)).id;
  shopper = await newShopper(t.app);
  const { email, password } = await createAdmin(t.deps);
  admin = request.agent(t.app);
  await signIn(admin, email, password);
  adminCsrf = csrfFrom((await admin.get("/shop/admin/posts/new").expect(200)).text);
  auth = { Authorization: `Bearer ${(await createToken(t.deps)).token}` };
});
afterAll(() => t.close());

/** Row counts of every table: the proof that a refused request wrote nothing. */
async function fingerprint() {
  const counts: Record<string, number> = {};
  for (const model of Object.values(Prisma.ModelName)) {
    const delegate = (t.db as unknown as Record<string, { count(): Promise<number> }>)[model.charAt(0).toLowerCase() + model.slice(1)]!;
    counts[model] = await delegate.count();
  }
  return counts;
}

const json = (agent: TestAgent | ReturnType<typeof request>, method: "post" | "patch" | "put", path: string, body: string) =>
  (agent as TestAgent)[method](path).set("Content-Type", "application/json").set("Accept", "application/json").set("X-CSRF-Token", shopper.csrf).send(body);
const form = (agent: TestAgent, path: string, body: string, csrf: string) =>
  agent.post(path).set("Content-Type", "application/x-www-form-urlencoded").set("Accept", "application/json").send(`_csrf=${encodeURIComponent(csrf)}&${body}`);

/** Sends a Buffer body byte for byte (superagent would serialise it as JSON). */
const asIs = ((body: Buffer) => body) as unknown as (obj: unknown) => string;

/** A multipart form whose field values are sent as the given bytes, as a browser sends typed text. */
function multipart(agent: TestAgent, path: string, fields: [string, string | Buffer][]) {
  const boundary = "----bazaarche-test-boundary";
  const parts = fields.map(([name, value]) => Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`), Buffer.from(value), Buffer.from("\r\n")]));
  const body = Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]);
  return agent.post(path).set("Accept", "application/json").set("Content-Type", `multipart/form-data; boundary=${boundary}`).serialize(asIs).send(body);
}

interface Case {
  name: string;
  send: () => Promise<request.Response>;
  field: string;
  status?: number;
}

const cases = (): Case[] => [
  // Public, JSON bodies with a lone surrogate
  { name: "POST /cart/items (JSON)", send: () => json(shopper.agent, "post", "/shop/cart/items", `{"variantId": ${LONE}, "quantity": 1}`), field: "variantId" },
  { name: "POST /p/:slug/reviews (JSON)", send: () => json(shopper.agent, "post", `/shop/p/${slug}/reviews`, `{"rating": 5, "body": ${LONE}, "displayName": "Sam"}`), field: "body" },
  { name: "POST /p/:slug/questions (JSON)", send: () => json(shopper.agent, "post", `/shop/p/${slug}/questions`, `{"body": "Is it big?", "askerName": ${LONE}}`), field: "askerName" },
  { name: "POST /cart/coupon (JSON)", send: () => json(shopper.agent, "post", "/shop/cart/coupon", `{"code": ${LONE}}`), field: "code" },
  { name: "POST /checkout (JSON)", send: () => json(shopper.agent, "post", "/shop/checkout", `{"email": ${LONE}}`), field: "email" },
  { name: "a lone surrogate in a key (JSON)", send: () => json(shopper.agent, "post", "/shop/cart/items", `{${LONE}: 1}`), field: "\uFFFD" },
  { name: "raw bytes that are not UTF-8 inside a JSON string", send: () => shopper.agent.post("/shop/cart/items").set("Content-Type", "application/json").set("Accept", "application/json").set("X-CSRF-Token", shopper.csrf).serialize(asIs).send(Buffer.concat([Buffer.from('{"quantity": 1, "variantId": "ab'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])), field: "variantId" },
  // Public, urlencoded forms with %ED%A0%80
  { name: "POST /cart/items (form)", send: () => form(shopper.agent, "/shop/cart/items", `variantId=${BAD}&quantity=1`, shopper.csrf), field: "variantId" },
  { name: "POST /p/:slug/questions (form)", send: () => form(shopper.agent, `/shop/p/${slug}/questions`, `body=Hello${BAD}&askerName=Sam`, shopper.csrf), field: "body" },
  { name: "POST /follow (form)", send: () => form(shopper.agent, "/shop/follow", `platform=instagram&handle=${BAD}&email=a%40b.co&consent=on`, shopper.csrf), field: "handle" },
  { name: "POST /follow/signin (form)", send: () => form(shopper.agent, "/shop/follow/signin", `email=${BAD}%40b.co`, shopper.csrf), field: "email" },
  { name: "POST /reviews/:id/helpful (form, raw byte)", send: () => shopper.agent.post("/shop/reviews/x/helpful").set("Content-Type", "application/x-www-form-urlencoded").set("Accept", "application/json").serialize(asIs).send(Buffer.concat([Buffer.from(`_csrf=${encodeURIComponent(shopper.csrf)}&note=`), Buffer.from([0xff])])), field: "note" },
  // Public, multipart with bytes that are not UTF-8
  {
    name: "POST /p/:slug/reviews (multipart)",
    send: () =>
      multipart(shopper.agent, `/shop/p/${slug}/reviews?_csrf=${encodeURIComponent(shopper.csrf)}`, [
        ["rating", "5"],
        ["body", "Lovely mug"],
        ["displayName", Buffer.from([0x53, 0xed, 0xa0, 0x80])],
      ]),
    field: "displayName",
  },
  // Public, query strings and route params
  { name: "GET /p/:slug?variant=", send: () => request(t.app).get(`/shop/p/${slug}?variant=${BAD}`).set("Accept", "application/json"), field: "variant" },
  { name: "GET /gallery?collection=", send: () => request(t.app).get(`/shop/gallery?collection=${BAD}`).set("Accept", "application/json"), field: "collection" },
  { name: "GET /embed/gallery.json?lang=", send: () => request(t.app).get(`/shop/embed/gallery.json?lang=${BAD}`).set("Accept", "application/json"), field: "lang" },
  { name: "GET /p/:slug (route param)", send: () => request(t.app).get(`/shop/p/${BAD}`).set("Accept", "application/json"), field: "path" },
  { name: "POST /cart/items/:variantId (route param)", send: () => form(shopper.agent, `/shop/cart/items/${BAD}`, "quantity=2", shopper.csrf), field: "path" },
  // Admin API (JSON, Bearer)
  { name: "POST /api/v1/posts", send: () => json(request(t.app), "post", "/shop/api/v1/posts", `{"platform": "instagram", "status": "draft", "caption": ${LONE}}`).set(auth), field: "caption" },
  { name: "PATCH /api/v1/posts/:id", send: () => json(request(t.app), "patch", `/shop/api/v1/posts/${postId}`, `{"imageAlt": ${LONE}}`).set(auth), field: "imageAlt" },
  { name: "POST /api/v1/products", send: () => json(request(t.app), "post", "/shop/api/v1/products", `{"title": ${LONE}, "variants": [{"sku": "U-1", "priceMinor": 100, "stock": 1}]}`).set(auth), field: "title" },
  { name: "POST /api/v1/products (nested)", send: () => json(request(t.app), "post", "/shop/api/v1/products", `{"title": "T", "variants": [{"sku": "U-2", "option1": ${LONE}, "priceMinor": 100, "stock": 1}]}`).set(auth), field: "variants.0.option1" },
  { name: "POST /api/v1/links", send: () => json(request(t.app), "post", "/shop/api/v1/links", `{"targetType": "page", "path": "/gallery", "channel": "x", "utmSource": ${LONE}}`).set(auth), field: "utmSource" },
  { name: "POST /api/v1/coupons", send: () => json(request(t.app), "post", "/shop/api/v1/coupons", `{"code": "UNI10", "kind": "percent", "percentOff": 10, "description": ${LONE}}`).set(auth), field: "description" },
  { name: "POST /api/v1/tokens", send: () => json(request(t.app), "post", "/shop/api/v1/tokens", `{"name": ${LONE}}`).set(auth), field: "name" },
  { name: "GET /api/v1/products?q=", send: () => request(t.app).get(`/shop/api/v1/products?q=${BAD}`).set(auth), field: "q" },
  // Admin forms
  { name: "POST /admin/login (form)", send: () => form(shopper.agent, "/shop/admin/login", `email=${BAD}&password=x`, shopper.csrf), field: "email" },
  { name: "POST /admin/tokens (form)", send: () => form(admin, "/shop/admin/tokens", `name=${BAD}`, adminCsrf), field: "name" },
  {
    name: "POST /admin/posts (multipart)",
    send: () =>
      multipart(admin, `/shop/admin/posts?_csrf=${encodeURIComponent(adminCsrf)}`, [
        ["platform", "instagram"],
        ["status", "draft"],
        ["caption", Buffer.from([0x48, 0x69, 0xc3])],
      ]),
    field: "caption",
  },
];

describe("ill-formed text is refused at the edge", () => {
  it("on every way in: 400, the field named, nothing written", async () => {
    const list = cases();
    expect(list.length).toBeGreaterThanOrEqual(13);
    for (const c of list) {
      const before = await fingerprint();
      const res = await c.send();
      expect(res.status, c.name).toBe(c.status ?? 400);
      expect(res.body.error?.code, `${c.name}: ${res.text.slice(0, 200)}`).toBe("validation_failed");
      expect(res.body.error.details.map((d: { field: string }) => d.field), c.name).toEqual([c.field]);
      expect(res.body.error.message, c.name).toContain("well-formed Unicode");
      expect(await fingerprint(), c.name).toEqual(before);
    }
  });

  it("well-formed text on the same ways in, Persian and emoji included, is accepted", async () => {
    await json(shopper.agent, "post", `/shop/p/${slug}/questions`, JSON.stringify({ body: "آیا بزرگ است؟ 🫖", askerName: "سارا" })).expect(201);
    await form(shopper.agent, `/shop/p/${slug}/questions`, `body=${encodeURIComponent("Is it 🫖 big?")}&askerName=Sam`, shopper.csrf).expect(201);
    await request(t.app).get(`/shop/p/${slug}?variant=${encodeURIComponent("چای")}`).expect(200);
    await admin
      .post(`/shop/admin/posts?_csrf=${encodeURIComponent(adminCsrf)}`)
      .field("platform", "instagram")
      .field("status", "draft")
      .field("caption", "پست تازه ☕")
      .expect(303);
    expect(await t.db.post.count({ where: { caption: "پست تازه ☕" } })).toBe(1);
    await shopper.agent
      .post(`/shop/p/${slug}/reviews?_csrf=${encodeURIComponent(shopper.csrf)}`)
      .field("rating", "5")
      .field("body", "Lovely mug ☕")
      .field("displayName", "Zoë")
      .attach("photos", await testImage(), "mug.jpg")
      .expect(303);
    expect(await t.db.review.count({ where: { displayName: "Zoë" } })).toBe(1);
  });
});

describe("CSV uploads", () => {
  const withBadBytes = (head: string, before: string, after: string) => Buffer.concat([Buffer.from(head + before), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(after)]);

  it("name the line and column of a cell that is not UTF-8, and import nothing", async () => {
    const before = await fingerprint();
    const followers = await request(t.app)
      .post("/shop/api/v1/followers/import?dryRun=false")
      .set(auth)
      .set("Content-Type", "text/csv")
      .send(withBadBytes("handle,platform,followed_at\nsam,instagram,2026-01-01\n", "ab", "c,instagram,2026-01-02\n"));
    expect(followers.status).toBe(422);
    expect(followers.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ line: 3, column: "handle" })]));

    const reviews = await request(t.app)
      .post("/shop/api/v1/reviews/import?dryRun=false&format=okendo")
      .set(auth)
      .set("Content-Type", "text/csv")
      .send(withBadBytes("name,title,body,rating,dateCreated,handle\n", "Sam,Nice,Good ", `mug,5,2026-01-01,${slug}\n`));
    expect(reviews.status).toBe(422);
    expect(reviews.body.data.problems).toEqual([expect.objectContaining({ line: 2, column: "body" })]);

    const products = await request(t.app)
      .post("/shop/api/v1/products/import?dryRun=false")
      .set(auth)
      .set("Content-Type", "text/csv")
      .send(withBadBytes("handle,title,sku,price,stock\n", "mug-2,Mug ", "two,MUG-2,12.00,3\n"));
    expect(products.status).toBe(422);
    expect(JSON.stringify(products.body)).toMatch(/"line":2/);
    expect(await fingerprint()).toEqual(before);
  });
});

describe("signed webhooks", () => {
  let stripe: FakeStripe;
  let s: TestApp;
  beforeAll(async () => {
    stripe = await startFakeStripe();
    s = await buildTestApp({ payments: stripe.gateway });
  });
  afterAll(async () => {
    await s.close();
    await stripe.close();
  });

  it("refuse a payload holding a lone surrogate with 400 naming the field, and record nothing", async () => {
    const event = stripe.event("checkout.session.completed", { id: "cs_test_x", object: "checkout.session", metadata: { orderId: "\ud800" }, status: "complete", payment_status: "paid" });
    const res = await deliverWebhook(s.app, event).expect(400);
    expect(res.body.error.details).toEqual([{ field: "data.object.metadata.orderId", message: expect.stringContaining("well-formed") }]);
    expect(await s.db.paymentEvent.count()).toBe(0);
  });
});
