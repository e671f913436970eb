import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runJobOnce } from "../src/jobs/scheduler.js";
import { ownerNotificationsJob } from "../src/notifications/notifications.jobs.js";
import { updateNotificationSettings } from "../src/notifications/notifications.service.js";
import { DEFAULT_NOTIFICATION_SETTINGS } from "../src/notifications/notifications.schema.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct } from "./helpers/factories.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";
import { buy, goodReview, postReviewForm, setSettings, visitor } from "./helpers/reviews.js";

let t: TestApp;
let admin: TestAgent;
let ownerEmail: string;
let clock = Date.parse("2026-11-20T10:00:00Z");
const HOUR = 3600_000;

beforeAll(async () => {
  t = await buildTestApp({ trustProxy: 1, now: () => new Date(clock), publicUrl: "https://shop.example.com/shop" });
  const who = await createAdmin(t.deps, { email: "owner@example.com" });
  ownerEmail = who.email;
  admin = request.agent(t.app);
  await signIn(admin, who.email, who.password);
});
afterAll(() => t.close());
beforeEach(async () => {
  await updateNotificationSettings(t.deps, { patch: DEFAULT_NOTIFICATION_SETTINGS, actor: { type: "system" } });
  await setSettings(t, { autoPublish: true, requestsEnabled: false });
});

const notify = () => runJobOnce(t.deps, ownerNotificationsJob, { force: true });
const ownerMail = (template: string) => t.db.outboxEmail.findMany({ where: { to: ownerEmail, template }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
const ask = async (slug: string, body: string) => {
  const v = await visitor(t);
  await v.agent.post(`/shop/p/${slug}/questions`).type("form").send({ _csrf: v.csrf, body, askerName: "Kim" }).expect(303);
};

describe("owner notifications", () => {
  it("the first run only starts the clock; then a paid order, a held review and a question each email the owner once", async () => {
    const p = await createProduct(t.deps, { title: "Tea Bowl", variants: [{ stock: 50 }] });
    await buy(t, p.variants[0]!.id, { email: "early@example.com" });
    await notify();
    expect(await ownerMail("owner.order_paid")).toHaveLength(0);

    clock += 60_000;
    const order = await buy(t, p.variants[0]!.id, { email: "ana@example.com", name: "Ana Rossi" });
    await setSettings(t, { autoPublish: false });
    await postReviewForm(await visitor(t), p.slug, goodReview({ displayName: "Reviewer R.", body: "Lovely glaze, a bit small for matcha." }));
    clock += 13 * HOUR;
    await ask(p.slug, "Is it dishwasher safe?");
    clock += 60_000;
    await notify();
    await notify();

    const orders = await ownerMail("owner.order_paid");
    expect(orders).toHaveLength(1);
    expect(orders[0]!.subject).toBe(`New order #${order.number}: $${(order.totalMinor / 100).toFixed(2)}`);
    expect(orders[0]!.text).toContain("Ana Rossi <ana@example.com>");
    expect(orders[0]!.text).toContain(`https://shop.example.com/shop/admin/orders/${order.id}`);
    expect(orders[0]!.category).toBe("owner");
    expect(orders[0]!.html).not.toMatch(/unsubscribe/i);

    const reviews = await ownerMail("owner.review_pending");
    expect(reviews).toHaveLength(1);
    expect(reviews[0]!.subject).toBe("A review of Tea Bowl waits for moderation");
    expect(reviews[0]!.text).toContain("Lovely glaze");

    const questions = await ownerMail("owner.question");
    expect(questions).toHaveLength(1);
    expect(questions[0]!.subject).toBe("New question about Tea Bowl");
    expect(questions[0]!.text).toContain("Is it dishwasher safe?");
    expect(questions[0]!.text).toMatch(/Asked 1 min ago\./);
  });

  it("a switched-off kind sends nothing; the owner's address and language come from the settings", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 50 }] });
    await notify();
    await updateNotificationSettings(t.deps, { patch: { orderPaid: false, to: "boss@example.com", locale: "fa" }, actor: { type: "system" } });
    await buy(t, p.variants[0]!.id);
    await ask(p.slug, "Does it come in blue?");
    await notify();
    expect(await t.db.outboxEmail.count({ where: { to: "boss@example.com", template: "owner.order_paid" } })).toBe(0);
    const q = await t.db.outboxEmail.findFirstOrThrow({ where: { to: "boss@example.com", template: "owner.question" } });
    expect(q.locale).toBe("fa");
    expect(q.subject).toContain("پرسش تازه");
    expect(load(q.html!)("html").attr("dir")).toBe("rtl");
  });

  it("low stock: the shop-wide threshold and a per-variant override, told once per drop and again after a restock", async () => {
    const p = await createProduct(t.deps, { title: "Mug", variants: [{ sku: "MUG-LOW", stock: 2 }, { sku: "MUG-OVR", stock: 5 }, { sku: "MUG-ZERO", stock: 2 }] });
    const page = await admin.get("/shop/admin/settings/notifications").expect(200);
    const csrf = csrfFrom(page.text);
    await admin.post("/shop/admin/settings/notifications/thresholds").type("form").send({ _csrf: csrf, sku: "MUG-OVR", threshold: "6" }).expect(303);
    await admin.post("/shop/admin/settings/notifications/thresholds").type("form").send({ _csrf: csrf, sku: "MUG-ZERO", threshold: "0" }).expect(303);
    const bad = await admin.post("/shop/admin/settings/notifications/thresholds").type("form").send({ _csrf: csrf, sku: "NOPE", threshold: "1" }).expect(400);
    expect(load(bad.text)("main").text()).toContain('No variant has the SKU "NOPE".');

    await notify();
    const first = await ownerMail("owner.low_stock");
    const mine = first.filter((m) => m.text.includes("MUG-"));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.text).toContain("[MUG-LOW]: 2 left (threshold 3)");
    expect(mine[0]!.text).toContain("[MUG-OVR]: 5 left (threshold 6)");
    expect(mine[0]!.text).not.toContain("MUG-ZERO");
    await notify();
    expect((await ownerMail("owner.low_stock")).filter((m) => m.text.includes("MUG-"))).toHaveLength(1);

    const low = p.variants.find((v) => v.sku === "MUG-LOW")!;
    await t.db.variant.update({ where: { id: low.id }, data: { stock: 20 } });
    await notify();
    await t.db.variant.update({ where: { id: low.id }, data: { stock: 1 } });
    clock += 60_000;
    await notify();
    const all = (await ownerMail("owner.low_stock")).filter((m) => m.text.includes("MUG-"));
    expect(all).toHaveLength(2);
    expect(all[1]!.text).toContain("[MUG-LOW]: 1 left (threshold 3)");
    expect(all[1]!.text).not.toContain("MUG-OVR");

    const shown = await admin.get("/shop/admin/settings/notifications").expect(200);
    expect(load(shown.text)('tr[data-sku="MUG-OVR"]').text()).toContain("6");
    expect(load(shown.text)("#low-now").text()).toContain("MUG-LOW");
  });

  it("the admin questions list shows how long each unanswered question has waited, and marks those over 12 hours overdue", async () => {
    const p = await createProduct(t.deps, { title: "Overdue Lamp" });
    await ask(p.slug, "What bulb does it take?");
    clock += 13 * HOUR;
    await ask(p.slug, "Is the cable long?");
    clock += 60_000;
    const page = await admin.get("/shop/admin/questions").expect(200);
    const $ = load(page.text);
    const item = (body: string) => $(".admin-question").filter((_, el) => $(el).text().includes(body));
    expect(item("What bulb").find("[data-overdue]").text()).toBe("overdue: waiting 13 h 1 min (over 12 hours)");
    expect(item("cable long").find("[data-waiting]").text()).toBe("waiting 1 min");
    expect(item("cable long").find("[data-overdue]")).toHaveLength(0);
  });

  it("the settings page (English and Persian) saves what it shows, refuses bad input naming the field, and needs its CSRF token", async () => {
    const page = await admin.get("/shop/admin/settings/notifications").expect(200);
    const $ = load(page.text);
    expect($('input[name="orderPaid"]').attr("checked")).toBeDefined();
    expect($(".lead").text()).toContain("owner@example.com");
    // No sender configured in this shop: the page says so and points to the outbox.
    expect($("#notifications-not-sending a").attr("href")).toBe("/shop/admin/outbox");
    const csrf = csrfFrom(page.text);
    await admin.post("/shop/admin/settings/notifications").type("form").send({ reviewPending: "on", lowStockThreshold: "4", delivery: "digest", digestHour: "7", to: "", locale: "" }).expect(403);
    await admin.post("/shop/admin/settings/notifications").type("form").send({ _csrf: csrf, reviewPending: "on", lowStockThreshold: "4", delivery: "digest", digestHour: "7", to: "", locale: "fa" }).expect(303);
    const saved = await admin.get("/shop/admin/settings/notifications?lang=fa").expect(200);
    const s = load(saved.text);
    expect(s("h1").text()).toBe("اعلان‌ها");
    expect(s('input[name="orderPaid"]').attr("checked")).toBeUndefined();
    expect(s('input[name="reviewPending"]').attr("checked")).toBeDefined();
    expect(s('input[name="delivery"][value="digest"]').attr("checked")).toBeDefined();
    expect(s("#digest-hour").val()).toBe("7");
    expect(s('#notify-locale option[value="fa"]').attr("selected")).toBeDefined();

    const bad = await admin.post("/shop/admin/settings/notifications").type("form").send({ _csrf: csrf, lowStockThreshold: "-1", delivery: "weekly", digestHour: "30", to: "not-an-email", locale: "" }).expect(400);
    const problems = load(bad.text)("#form-problems").text();
    for (const field of ["lowStockThreshold", "delivery", "digestHour", "to"]) expect(problems).toContain(field);
    await admin.post("/shop/admin/settings/notifications").type("form").send({ _csrf: csrf, lowStockThreshold: "1", delivery: "each", digestHour: "1", to: "", locale: "", surprise: "1" }).expect(400);
    expect(await t.db.auditLog.count({ where: { action: "notifications.settings" } })).toBeGreaterThanOrEqual(1);
  });
  it("digest mode: one email a day at the chosen hour, with orders, reviews to moderate, overdue questions and low stock, and no single emails", async () => {
    clock = Date.parse("2026-12-01T06:00:00Z");
    const p = await createProduct(t.deps, { title: "Digest Vase", variants: [{ sku: "VASE-1", stock: 1 }] });
    await updateNotificationSettings(t.deps, { patch: { delivery: "digest", digestHour: 8 }, actor: { type: "system" } });
    await notify();
    await buy(t, p.variants[0]!.id, { name: "Digest Buyer" });
    await ask(p.slug, "Is the glaze food safe?");
    clock += 60_000;
    await notify();
    expect(await t.db.outboxEmail.count({ where: { to: ownerEmail, template: { in: ["owner.order_paid", "owner.question", "owner.low_stock"] }, createdAt: { gte: new Date(Date.now() - 60_000) }, text: { contains: "Digest" } } })).toBe(0);
    expect(await t.db.outboxEmail.count({ where: { dedupeKey: "owner:digest:2026-12-01" } })).toBe(0);

    clock = Date.parse("2026-12-01T08:30:00Z");
    await notify();
    await notify();
    const digest = await t.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: "owner:digest:2026-12-01" } });
    expect(digest.subject).toBe("Test Shop daily digest, December 1, 2026");
    expect(digest.text).toMatch(/Paid orders: \d+/);
    expect(digest.text).toContain("Digest Buyer");
    // Asked at 06:00, so 2 h 30 min waiting: not yet overdue.
    expect(digest.text).toContain('- Digest Vase: "Is the glaze food safe?" (2 h 30 min)');
    expect(digest.text).toContain("[VASE-1]: 0 left (threshold 3)");
    expect(load(digest.html!)("h2").length).toBe(4);

    clock = Date.parse("2026-12-02T09:00:00Z");
    await notify();
    const next = await t.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: "owner:digest:2026-12-02" } });
    expect(next.text).toContain('- [overdue] Digest Vase: "Is the glaze food safe?" (1 d 3 h)');
  });

});
