import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { median } from "../src/reviews/questions.service.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { load } from "./helpers/html.js";
import { adminClients, setSettings, visitor } from "./helpers/reviews.js";

let clock = Date.parse("2026-11-20T10:00:00Z");
let t: TestApp;
let clients: Awaited<ReturnType<typeof adminClients>>;
beforeAll(async () => {
  t = await buildTestApp({ trustProxy: 1, now: () => new Date(clock) });
  clients = await adminClients(t);
});
afterAll(() => t.close());

/** Asks through the product's question form as a new visitor; checks the answer is a 303 to the page. */
async function ask(slug: string, body: string, askerName = "Nora") {
  const v = await visitor(t);
  const res = await v.agent.post(`/shop/p/${slug}/questions`).type("form").send({ _csrf: v.csrf, body, askerName });
  expect(res.status, res.text.slice(0, 300)).toBe(303);
  return res;
}

describe("questions and answers", () => {
  it("a shopper asks; it shows on the page only once the merchant answers; the admin lists unanswered first", async () => {
    const p = await createProduct(t.deps, { title: "Teapot" });
    const res = await ask(p.slug, "Is the lid <b>dishwasher</b> safe?");
    expect(res.headers.location).toBe(`/shop/p/${p.slug}?question=asked#questions`);
    const q = await t.db.question.findFirstOrThrow({ where: { productId: p.id } });
    expect(q).toMatchObject({ status: "published", answeredAt: null, askerName: "Nora" });

    let page = await (await visitor(t)).agent.get(`/shop/p/${p.slug}?question=asked`).expect(200);
    expect(load(page.text)(".alert--ok").text()).toContain("The answer will appear here");
    expect(load(page.text)(".question")).toHaveLength(0);

    const older = await createProduct(t.deps, { title: "Cup" });
    clock -= 3600_000;
    await ask(older.slug, "Which clay is this made of?");
    clock += 3600_000;
    const answeredProduct = await createProduct(t.deps, { title: "Saucer" });
    await ask(answeredProduct.slug, "Does it come in blue?");
    const answered = await t.db.question.findFirstOrThrow({ where: { productId: answeredProduct.id } });
    clock += 2 * 3600_000;
    await clients.admin.post(`/shop/admin/questions/${answered.id}/answer`).type("form").send({ _csrf: clients.csrf, body: "Yes, from next month." }).expect(303);

    const list = await clients.admin.get("/shop/admin/questions?filter=all").expect(200);
    const $list = load(list.text);
    const bodies = $list(".admin-question .admin-review__body").map((_, el) => $list(el).text()).get();
    // Unanswered first, oldest waiting at the top; answered after.
    expect(bodies.indexOf("Which clay is this made of?")).toBeLessThan(bodies.indexOf("Is the lid <b>dishwasher</b> safe?"));
    expect(bodies.indexOf("Is the lid <b>dishwasher</b> safe?")).toBeLessThan(bodies.indexOf("Does it come in blue?"));

    clock += 3600_000;
    await clients.admin.post(`/shop/admin/questions/${q.id}/answer`).type("form").send({ _csrf: clients.csrf, body: "Yes, top rack." }).expect(303);
    page = await (await visitor(t)).agent.get(`/shop/p/${p.slug}`).expect(200);
    const $ = load(page.text);
    expect($(".question__q").text()).toContain("Is the lid <b>dishwasher</b> safe?");
    expect($(".question__q b")).toHaveLength(0);
    expect($(".question__a").text()).toContain("Yes, top rack.");
  });

  it("shows the median time to first answer", async () => {
    const stats = await clients.api("get", "/questions?filter=answered").expect(200);
    // The test above answered one question after 2 h and one after 3 h.
    expect(stats.body.stats).toMatchObject({ answered: 2, medianMs: 2.5 * 3600_000 });
    const page = await clients.admin.get("/shop/admin/questions").expect(200);
    expect(load(page.text)("#median-answer").text()).toBe("2 h 30 min");
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it("the same filters apply to questions; a rejection needs a rule and is audited", async () => {
    const p = await createProduct(t.deps);
    await ask(p.slug, "Cheaper at www.example-deals.com, why buy here?");
    const held = await t.db.question.findFirstOrThrow({ where: { productId: p.id } });
    expect(held.status).toBe("pending");
    expect(await t.db.auditLog.findFirst({ where: { entityId: held.id, action: "question.hold" } })).toMatchObject({ rule: "link" });
    await clients.admin.post(`/shop/admin/questions/${held.id}/moderate`).type("form").send({ _csrf: clients.csrf, action: "reject" }).expect(400);
    await clients.admin.post(`/shop/admin/questions/${held.id}/moderate`).type("form").send({ _csrf: clients.csrf, action: "reject", reason: "spam" }).expect(303);
    expect(await t.db.auditLog.findFirst({ where: { entityId: held.id, action: "question.reject" } })).toMatchObject({ rule: "spam", actorType: "admin" });
    // A rejected question cannot be answered.
    await clients.api("post", `/questions/${held.id}/answers`).send({ body: "Hmm" }).expect(409);
  });

  it("bad input is a 400 naming the field; the limit per address is a 429; nothing is written", async () => {
    const p = await createProduct(t.deps);
    const v = await visitor(t);
    const empty = await v.agent.post(`/shop/p/${p.slug}/questions`).set("Accept", "application/json").set("X-CSRF-Token", v.csrf).send({ body: " ", askerName: "A" }).expect(400);
    expect(empty.body.error.details[0].field).toBe("body");
    const long = await v.agent.post(`/shop/p/${p.slug}/questions`).set("Accept", "application/json").set("X-CSRF-Token", v.csrf).send({ body: "q".repeat(1001), askerName: "A" }).expect(400);
    expect(long.body.error.details[0].field).toBe("body");
    const form = await v.agent.post(`/shop/p/${p.slug}/questions`).type("form").send({ _csrf: v.csrf, body: "Fine question?", askerName: "" }).expect(400);
    expect(load(form.text)("#question-name").attr("aria-invalid")).toBe("true");
    expect(load(form.text)("#question-body").val()).toBe("Fine question?");
    expect(await t.db.question.count({ where: { productId: p.id } })).toBe(0);
    for (let i = 0; i < 7; i++) await v.agent.post(`/shop/p/${p.slug}/questions`).set("Accept", "application/json").set("X-CSRF-Token", v.csrf).send({ body: `Question ${i}?`, askerName: "A" }).expect(201);
    await v.agent.post(`/shop/p/${p.slug}/questions`).set("Accept", "application/json").set("X-CSRF-Token", v.csrf).send({ body: "One more?", askerName: "A" }).expect(429);
    expect(await t.db.question.count({ where: { productId: p.id } })).toBe(7);
  });

  it("answers through the API, and auto-publish off holds questions too", async () => {
    const p = await createProduct(t.deps);
    await setSettings(t, { autoPublish: false });
    try {
      await ask(p.slug, "How heavy is it?");
    } finally {
      await setSettings(t, { autoPublish: true });
    }
    const q = await t.db.question.findFirstOrThrow({ where: { productId: p.id } });
    expect(q.status).toBe("pending");
    const res = await clients.api("post", `/questions/${q.id}/answers`).send({ body: "About 800 g." }).expect(201);
    expect(res.body.data).toMatchObject({ body: "About 800 g.", authorType: "merchant" });
    // Answering a held question is reading it: it is published with its answer.
    expect(await t.db.question.findUniqueOrThrow({ where: { id: q.id } })).toMatchObject({ status: "published" });
    const page = await (await visitor(t)).agent.get(`/shop/p/${p.slug}`).expect(200);
    expect(load(page.text)(".question__a").text()).toContain("About 800 g.");
  });
});
