import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct, createToken } from "./helpers/factories.js";
import { followAndConfirm, makeCoupon } from "./helpers/followers.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";

let t: TestApp;
let admin: TestAgent;
let auth: { Authorization: string };
beforeAll(async () => {
  t = await buildTestApp();
  const who = await createAdmin(t.deps);
  admin = request.agent(t.app);
  await signIn(admin, who.email, who.password);
  auth = { Authorization: `Bearer ${(await createToken(t.deps)).token}` };
  await t.db.collection.create({ data: { slug: "ceramics", title: "Ceramics" } });
});
afterAll(() => t.close());

describe("admin coupons", () => {
  it("creates a follower-only coupon from the form, shows every problem when the form is wrong", async () => {
    const page = await admin.get("/shop/admin/coupons/new").expect(200);
    const csrf = csrfFrom(page.text);
    const bad = await admin
      .post("/shop/admin/coupons")
      .type("form")
      .send({ _csrf: csrf, code: "x", kind: "percent", percentOff: "150", minSubtotal: "10.999", startsAt: "2026-12-10T00:00", endsAt: "2026-12-01T00:00", minFollowDays: "7" })
      .expect(400);
    const problems = load(bad.text)("#form-problems").text();
    expect(problems).toContain("at least 3 characters");
    expect(problems).toContain("1 to 100");
    expect(problems).toContain("more than 2 decimals");
    expect(problems).toContain("end must be after the start");
    expect(problems).toContain("need followersOnly");
    expect(await t.db.coupon.count()).toBe(0);

    const ok = await admin
      .post("/shop/admin/coupons")
      .type("form")
      .send({ _csrf: csrf, code: " loyal15 ", description: "For long-time followers", kind: "percent", percentOff: "15", scope: "collections", collectionSlugs: "ceramics", followersOnly: "on", minFollowDays: "30", requiredVerification: "email", perFollowerLimit: "1", usageLimit: "50" })
      .expect(303);
    const coupon = await t.db.coupon.findUniqueOrThrow({ where: { code: "LOYAL15" }, include: { collections: true } });
    expect(coupon).toMatchObject({ kind: "percent", percentOff: 15, followersOnly: true, minFollowDays: 30, requiredVerification: "email", usageLimit: 50, scope: "collections" });
    expect(coupon.collections).toHaveLength(1);
    expect(ok.headers.location).toBe(`/shop/admin/coupons/${coupon.id}?saved=1`);
    const edit = await admin.get(ok.headers.location!).expect(200);
    expect(load(edit.text)("#report-committed").text()).toBe("0");
    const dup = await admin.post("/shop/admin/coupons").type("form").send({ _csrf: csrf, code: "LOYAL15", kind: "percent", percentOff: "5" }).expect(409);
    expect(load(dup.text)("#form-problems").text()).toContain("already exists");
  });

  it("issues personal codes to followers matching a filter, once each, and emails confirmed ones", async () => {
    const coupon = await makeCoupon(t.deps, { code: "BDAY", percentOff: 20, followersOnly: true });
    await followAndConfirm(t.app, t.deps, { handle: "ig.person", platform: "instagram" });
    await followAndConfirm(t.app, t.deps, { handle: "tt.person", platform: "tiktok" });
    const page = await admin.get(`/shop/admin/coupons/${coupon.id}`).expect(200);
    const res = await admin.post(`/shop/admin/coupons/${coupon.id}/codes`).type("form").send({ _csrf: csrfFrom(page.text), platform: "instagram", notify: "on", limit: "100" }).expect(200);
    expect(load(res.text)("#issued-count").text()).toContain("1 code issued");
    expect(load(res.text)("code").last().text()).toMatch(/^BDAY-[A-Z2-9]{12}$/);
    expect(await t.db.outboxEmail.count({ where: { template: "personal_code", to: "ig.person@example.com" } })).toBe(1);
    const again = await admin.post(`/shop/admin/coupons/${coupon.id}/codes`).type("form").send({ _csrf: csrfFrom(page.text), platform: "instagram" }).expect(200);
    expect(load(again.text)("#issued-count").text()).toContain("No codes issued");
  });

  it("disables a coupon; the cart then refuses it", async () => {
    const coupon = await makeCoupon(t.deps, { code: "STOPME" });
    const page = await admin.get(`/shop/admin/coupons/${coupon.id}`);
    await admin.post(`/shop/admin/coupons/${coupon.id}/status`).type("form").send({ _csrf: csrfFrom(page.text), status: "disabled" }).expect(303);
    const list = await admin.get("/shop/admin/coupons").expect(200);
    expect(list.text).toContain("STOPME");
    expect((await t.db.coupon.findUniqueOrThrow({ where: { id: coupon.id } })).status).toBe("disabled");
    const p = await createProduct(t.deps, { variants: [{ stock: 2 }] });
    const { newShopper } = await import("./helpers/shopper.js");
    const s = await newShopper(t.app);
    await s.add(p.variants[0]!.id, 1).expect(303);
    const refused = await s.agent.post("/shop/cart/coupon").type("form").send({ _csrf: s.csrf, code: "STOPME" }).set("Accept", "application/json").expect(422);
    expect(refused.body.error.details.reason).toBe("disabled");
  });

  it("requires a signed-in admin and a CSRF token", async () => {
    await request(t.app).get("/shop/admin/coupons").expect(303);
    await admin.post("/shop/admin/coupons").type("form").send({ code: "NOCSRF", kind: "percent", percentOff: "5" }).expect(403);
  });
});

describe("admin followers", () => {
  it("filters by platform, verification and follow age, and exports the same list as CSV", async () => {
    await followAndConfirm(t.app, t.deps, { handle: "filter.me", platform: "pinterest" });
    const page = await admin.get("/shop/admin/followers?platform=pinterest&verification=email").expect(200);
    expect(load(page.text)("tbody tr").text()).toContain("@filter.me");
    const csv = await admin.get("/shop/admin/followers/export.csv?platform=pinterest").expect(200);
    expect(csv.headers["content-type"]).toContain("text/csv");
    expect(csv.text.split("\n")[0]).toBe("platform,handle,email,status,verification,followed_at,email_confirmed_at,imported_at");
    expect(csv.text).toContain("pinterest,filter.me,filter.me@example.com,active,email,");
    const old = await admin.get("/shop/admin/followers?minFollowDays=30").expect(200);
    expect(old.text).not.toContain("@filter.me");
  });

  it("imports a platform export: dry run first, then apply; bad files name line and column", async () => {
    const page = await admin.get("/shop/admin/followers").expect(200);
    const action = load(page.text)('form[enctype="multipart/form-data"]').attr("action")!;
    const csv = Buffer.from("handle,platform,followed_at\n@from.export,instagram,2025-01-01\n");
    const dry = await admin.post(action).field("action", "dry-run").attach("file", csv, { filename: "f.csv", contentType: "text/csv" }).expect(200);
    expect(load(dry.text)("#import-result").text()).toContain("Would add 1 new");
    expect(await t.db.follower.count({ where: { handleKey: "from.export" } })).toBe(0);
    await admin.post(action).field("action", "apply").attach("file", csv, { filename: "f.csv", contentType: "text/csv" }).expect(200);
    expect(await t.db.follower.count({ where: { handleKey: "from.export", importedAt: { not: null } } })).toBe(1);
    const broken = await admin.post(action).field("action", "apply").attach("file", Buffer.from("handle,platform\n,instagram\n"), { filename: "b.csv", contentType: "text/csv" }).expect(422);
    expect(load(broken.text)("#import-problems").text()).toContain("line 2");
    const latin1 = await admin.post(action).field("action", "apply").attach("file", Buffer.from([0x68, 0x61, 0x6e, 0x64, 0x6c, 0x65, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x0a]), { filename: "l.csv", contentType: "text/csv" }).expect(422);
    // The byte that is not UTF-8 is named at its line and column, like every other problem.
    expect(load(latin1.text)("#import-problems").text()).toMatch(/line 2[^]*handle[^]*not UTF-8/);
  });
});

describe("coupons and followers API", () => {
  it("creates, reads, updates and disables coupons; issues codes; lists and imports followers", async () => {
    const created = await request(t.app).post("/shop/api/v1/coupons").set(auth).send({ code: "api10", kind: "fixed", amountOffMinor: 1000, usageLimit: 5 }).expect(201);
    expect(created.body.data).toMatchObject({ code: "API10", kind: "fixed", amountOffMinor: 1000, currency: "USD" });
    const bad = await request(t.app).post("/shop/api/v1/coupons").set(auth).send({ code: "BAD", kind: "fixed", extra: true }).expect(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(["(root)"]));
    const id = created.body.data.id;
    await request(t.app).put(`/shop/api/v1/coupons/${id}`).set(auth).send({ code: "API10", kind: "fixed", amountOffMinor: 1500, usageLimit: 5 }).expect(200);
    const report = await request(t.app).get(`/shop/api/v1/coupons/${id}`).set(auth).expect(200);
    expect(report.body.data).toMatchObject({ reserved: 0, committed: 0, released: 0, coupon: { amountOffMinor: 1500 } });
    await request(t.app).patch(`/shop/api/v1/coupons/${id}/status`).set(auth).send({ status: "disabled" }).expect(200);

    const imported = await request(t.app).post("/shop/api/v1/followers/import?dryRun=false").set(auth).set("Content-Type", "text/csv").send("handle,platform,followed_at\napi.fan,tiktok,2025-05-05\n").expect(200);
    expect(imported.body.data).toMatchObject({ ok: true, created: 1 });
    const invalid = await request(t.app).post("/shop/api/v1/followers/import").set(auth).set("Content-Type", "text/csv").send("handle,platform\nx,nowhere\n").expect(422);
    expect(invalid.body.error.details[0]).toMatchObject({ line: 2, column: "platform" });
    const list = await request(t.app).get("/shop/api/v1/followers?platform=tiktok").set(auth).expect(200);
    expect(list.body.data.map((f: { handle: string }) => f.handle)).toContain("api.fan");
    expect(list.body.data[0]).not.toHaveProperty("confirmTokenHash");

    const vip = await makeCoupon(t.deps, { code: "APIVIP", followersOnly: true });
    const codes = await request(t.app).post(`/shop/api/v1/coupons/${vip.id}/codes`).set(auth).send({ platform: "tiktok", notify: false }).expect(201);
    expect(codes.body.data.some((c: { handle: string }) => c.handle === "api.fan")).toBe(true);

    // Without a mail sender the code's email waits in the outbox: the answer says queued, never emailed.
    await t.db.follower.create({
      data: { platform: "youtube", handle: "mail.fan", handleKey: "mail.fan", personKey: "pk-mail-fan", email: "mail.fan@example.com", emailKey: "k-mail-fan", status: "active", emailConfirmedAt: new Date(), followedAt: new Date(), locale: "en" },
    });
    const notified = await request(t.app).post(`/shop/api/v1/coupons/${vip.id}/codes`).set(auth).send({ platform: "youtube", notify: true }).expect(201);
    expect(notified.body.data).toEqual([expect.objectContaining({ handle: "mail.fan", emailQueued: true, emailed: false })]);
    expect(await t.db.outboxEmail.count({ where: { to: "mail.fan@example.com", template: "personal_code", status: "queued" } })).toBe(1);
  });

  it("issues thousands of codes in bounded chunks: exactly the limit, one per follower, the rest on the next run", async () => {
    await t.db.follower.createMany({
      data: Array.from({ length: 450 }, (_, i) => ({ platform: "pinterest", handle: `chunk${i}`, handleKey: `chunk${i}`, personKey: `pk-chunk${i}`, status: "active", followedAt: new Date() })),
    });
    const coupon = await makeCoupon(t.deps, { code: "CHUNKS", followersOnly: true });
    const first = await request(t.app).post(`/shop/api/v1/coupons/${coupon.id}/codes`).set(auth).send({ platform: "pinterest", limit: 430 }).expect(201);
    expect(first.body.data).toHaveLength(430);
    // Three transactions (200, 200, 30), each audited with its own count.
    const audits = await t.db.auditLog.findMany({ where: { action: "coupon.issue_codes", entityId: coupon.id }, orderBy: { id: "asc" } });
    expect(audits.map((a) => (JSON.parse(String(a.details)) as { count: number }).count).sort((a, b) => b - a)).toEqual([200, 200, 30]);
    // Other tests share this database: count every active Pinterest follower, not just ours.
    const pinterest = await t.db.follower.count({ where: { platform: "pinterest", status: "active" } });
    expect(pinterest).toBeGreaterThanOrEqual(450);
    const rest = await request(t.app).post(`/shop/api/v1/coupons/${coupon.id}/codes`).set(auth).send({ platform: "pinterest" }).expect(201);
    expect(rest.body.data).toHaveLength(pinterest - 430);
    expect(await t.db.personalCode.count({ where: { couponId: coupon.id } })).toBe(pinterest);
    expect(new Set([...first.body.data, ...rest.body.data].map((c: { followerId: string }) => c.followerId)).size).toBe(pinterest);
  });

  it("applies a fixed-amount API coupon in the cart", async () => {
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 4000, stock: 3 }] });
    await request(t.app).post("/shop/api/v1/coupons").set(auth).send({ code: "FIVEOFF", kind: "fixed", amountOffMinor: 500 }).expect(201);
    const { newShopper } = await import("./helpers/shopper.js");
    const s = await newShopper(t.app);
    await s.add(p.variants[0]!.id, 1).expect(303);
    const res = await s.agent.post("/shop/cart/coupon").type("form").send({ _csrf: s.csrf, code: "fiveoff" }).set("Accept", "application/json").expect(200);
    expect(res.body.data.discountMinor).toBe(500);
  });
});
