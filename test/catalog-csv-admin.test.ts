import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { countAwaitingImports } from "../src/catalog/csv/csv-import.service.js";
import { catalogCounts, fixture } from "./helpers/csv.js";
import { createAdmin } from "./helpers/factories.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";

let t: TestApp;
let agent: TestAgent;
let adminId: string;
beforeAll(async () => {
  t = await buildTestApp();
  const { admin, email, password } = await createAdmin(t.deps);
  adminId = admin.id;
  agent = request.agent(t.app);
  await signIn(agent, email, password);
});
afterAll(() => t.close());

const csvFile = (bytes: Buffer, filename = "products.csv") => [bytes, { filename, contentType: "text/csv" }] as const;

/** Loads the import page and returns the upload form's action (it carries ?_csrf=). */
async function uploadAction(as: TestAgent = agent) {
  const page = await as.get("/shop/admin/products/import").expect(200);
  return load(page.text)("form.upload-form").attr("action")!;
}

const IMPORT_PAGE = /^\/shop\/admin\/products\/import\/[\w-]{22}$/;

/** Uploads a file; the answer sends the browser to the import's own page, which shows the dry run's report. */
async function upload(bytes: Buffer, as: TestAgent = agent) {
  const posted = await as.post(await uploadAction(as)).attach("file", ...csvFile(bytes)).expect(303);
  expect(posted.headers.location).toMatch(IMPORT_PAGE);
  return as.get(posted.headers.location!).expect(200);
}

/** "Apply" as the page's form posts it (CSRF token, import id, the plan's digest), then the import's page it leads to. */
async function apply(page: string, as: TestAgent = agent) {
  const $ = load(page);
  const posted = await as
    .post("/shop/admin/products/import/apply")
    .type("form")
    .send({ _csrf: csrfFrom(page), importId: $('form.apply-form input[name="importId"]').val(), digest: $('form.apply-form input[name="digest"]').val() })
    .expect(303);
  expect(posted.headers.location).toMatch(IMPORT_PAGE);
  return as.get(posted.headers.location!).expect(200);
}

/** Dry runs waiting for an admin's "Apply". */
const pendingCount = () => countAwaitingImports(t.deps);

describe("admin CSV import page", () => {
  it("needs a signed-in admin", async () => {
    const res = await request(t.app).get("/shop/admin/products/import").expect(303);
    expect(res.headers.location).toContain("/shop/admin/login");
    await request(t.app).get("/shop/admin/products/export.csv").expect(303);
  });

  it("shows the upload form (CSRF token in the multipart action), the export link and that other products are left alone", async () => {
    const page = await agent.get("/shop/admin/products/import").expect(200);
    const $ = load(page.text);
    expect($("form.upload-form").attr("action")).toMatch(/^\/shop\/admin\/products\/import\?_csrf=[\w-]+$/);
    expect($("form.upload-form").attr("enctype")).toBe("multipart/form-data");
    expect($('input[type="file"][name="file"]').attr("accept")).toBe(".csv,text/csv");
    expect($('a[href="/shop/admin/products/export.csv"]').length).toBeGreaterThan(0);
    expect($(".alert--note").text()).toContain("Products that are not in the file are left alone");
  });

  it("upload → dry-run report → apply, each step CSRF-checked, applying exactly the checked file", async () => {
    // A multipart post without the token in its URL is refused before the file is read.
    await agent.post("/shop/admin/products/import").attach("file", ...csvFile(fixture("ours-catalog.csv"))).expect(403);

    const report = await upload(fixture("ours-catalog.csv"));
    const $ = load(report.text);
    expect($("#report-format").text()).toBe("Bazaarche CSV");
    expect($('[data-count="products-create"]').text()).toBe("2");
    expect($('[data-count="variants-create"]').text()).toBe("3");
    expect($("#plan tbody tr").length).toBe(2);
    expect($("#problems").length).toBe(0);
    const importId = $('form.apply-form input[name="importId"]').val() as string;
    const digest = $('form.apply-form input[name="digest"]').val() as string;
    expect(importId).toMatch(/^[\w-]{22}$/);
    expect(digest).toMatch(/^[\w-]{43}$/);
    expect(await t.db.product.count()).toBe(0);

    await agent.post("/shop/admin/products/import/apply").type("form").send({ importId, digest }).expect(403);
    // Only the plan the page showed: another digest is refused and writes nothing.
    await agent.post("/shop/admin/products/import/apply").type("form").send({ _csrf: csrfFrom(report.text), importId, digest: "x".repeat(43) }).expect(410);
    expect(await t.db.product.count()).toBe(0);
    const applied = await apply(report.text);
    expect(load(applied.text)("#import-done").text()).toBe("Import applied: 2 products created, 0 updated, 0 unchanged.");
    expect(await t.db.product.count()).toBe(2);
    const audit = await t.db.auditLog.findFirstOrThrow({ where: { action: "catalog.import" } });
    expect(audit).toMatchObject({ actorType: "admin", actorId: adminId });
    expect(JSON.parse(audit.details)).toMatchObject({ fileName: "products.csv", format: "bazaarche" });

    // The checked file is used up by the apply: a second click cannot apply it twice.
    expect(await pendingCount()).toBe(0);
    const again = await agent.post("/shop/admin/products/import/apply").type("form").send({ _csrf: csrfFrom(report.text), importId, digest }).expect(410);
    expect(again.text).toContain("expired or was already applied");
  });

  it("lists every problem of an invalid file with line and column, keeps nothing and offers no apply", async () => {
    const before = await catalogCounts(t.deps);
    const res = await upload(fixture("ours-bad-values.csv"));
    const $ = load(res.text);
    const rows = $("#problems tbody tr")
      .map((_, tr) => `${$(tr).find("td").eq(0).text()}:${$(tr).find("td").eq(1).text()}`)
      .get();
    expect(rows).toContain("4:price");
    expect(rows).toContain("15:title");
    // The API test's shop has a product owning EXISTING-1 (a 13th problem); this one does not.
    expect(rows.length).toBe(12);
    expect($(".alert--error").text()).toContain("12 problems");
    expect($("form.apply-form").length).toBe(0);
    expect(await pendingCount()).toBe(0);
    expect(await catalogCounts(t.deps)).toEqual(before);
  });

  it("says when the file matches the shop and there is nothing to apply", async () => {
    const exported = await agent.get("/shop/admin/products/export.csv").buffer(true).parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on("data", (c: Buffer) => chunks.push(c));
      r.on("end", () => done(null, Buffer.concat(chunks)));
    }).expect(200);
    expect(exported.headers["content-type"]).toBe("text/csv; charset=utf-8");
    const res = await upload(exported.body as Buffer);
    const $ = load(res.text);
    expect($('[data-count="products-unchanged"]').text()).toBe("2");
    expect($("form.apply-form").length).toBe(0);
    expect(res.text).toContain("applying it would change nothing");
    expect(await pendingCount()).toBe(0);
  });

  it("refuses to apply a plan that changed after the dry run, undoes what it wrote, and applies the new plan once checked again and confirmed", async () => {
    const edited = fixture("ours-catalog.csv").toString("utf8").replace(",45.50,,USD,3,", ",47.00,,USD,3,");
    const report = await upload(Buffer.from(edited));
    expect(load(report.text)('[data-count="products-update"]').text()).toBe("1");
    // Someone edits another product of the file in the meantime.
    await t.db.variant.update({ where: { sku: "MUG-TRQ" }, data: { stock: 99 } });

    const stale = await apply(report.text);
    const $ = load(stale.text);
    expect($(".alert--warn").text()).toContain("The shop changed since the dry run");
    expect($("#import-error").text()).toContain('"turquoise-mug" would now be updated');
    expect($("#rolled-back").length).toBe(1);
    expect((await t.db.variant.findUniqueOrThrow({ where: { sku: "KIL-CUSH-01" } })).priceMinor).toBe(4550);
    expect((await t.db.variant.findUniqueOrThrow({ where: { sku: "MUG-TRQ" } })).stock).toBe(99);

    // "Check the file again": the same bytes, a new dry run that shows what would happen now.
    const recheck = await agent.post("/shop/admin/products/import/recheck").type("form").send({ _csrf: csrfFrom(stale.text), importId: $('form.recheck-form input[name="importId"]').val() }).expect(303);
    const fresh = await agent.get(recheck.headers.location!).expect(200);
    expect(load(fresh.text)('[data-count="products-update"]').text()).toBe("2");
    await apply(fresh.text);
    expect((await t.db.variant.findUniqueOrThrow({ where: { sku: "KIL-CUSH-01" } })).priceMinor).toBe(4700);
    expect((await t.db.variant.findUniqueOrThrow({ where: { sku: "MUG-TRQ" } })).stock).toBe(14);
  });

  it("does not let another admin apply someone's dry run, nor apply one that expired", async () => {
    const report = await upload(Buffer.from(fixture("ours-catalog.csv").toString("utf8").replace(",45.50,", ",48.00,")));
    const $report = load(report.text);
    const importId = $report('input[name="importId"]').val() as string;
    const digest = $report('input[name="digest"]').val() as string;

    const other = await createAdmin(t.deps);
    const otherAgent = request.agent(t.app);
    await signIn(otherAgent, other.email, other.password);
    const page = await otherAgent.get(`/shop/admin/products/import/${importId}`).expect(200);
    // The other admin sees the report but no button, and a forged post is refused.
    expect(load(page.text)("form.apply-form").length).toBe(0);
    await otherAgent.post("/shop/admin/products/import/apply").type("form").send({ _csrf: csrfFrom(page.text), importId, digest }).expect(410);

    await t.db.catalogImport.update({ where: { id: importId }, data: { checkedAt: new Date(Date.now() - 31 * 60_000) } });
    await agent.post("/shop/admin/products/import/apply").type("form").send({ _csrf: csrfFrom(report.text), importId, digest }).expect(410);
    expect((await t.db.variant.findUniqueOrThrow({ where: { sku: "KIL-CUSH-01" } })).priceMinor).toBe(4700);
  });

  it("answers 413 with a clear message for a file over 5 MB, and 400 without a file", async () => {
    const big = await agent.post(await uploadAction()).attach("file", ...csvFile(Buffer.alloc(5 * 1024 * 1024 + 1, 0x41))).expect(413);
    expect(big.text).toContain("at most 5 MB");
    const none = await agent.post(await uploadAction()).field("note", "no file").expect(400);
    expect(none.text).toContain("choose a CSV file");
  });

  it("reports a Shopify file in Persian, with Persian digits", async () => {
    const page = await agent.get("/shop/admin/products/import?lang=fa").expect(200);
    expect(load(page.text)("h1").text()).toBe("درون‌ریزی و برون‌بری محصولات");
    const res = await upload(fixture("shopify-export.csv"));
    const $ = load(res.text);
    expect($("html").attr("dir")).toBe("rtl");
    expect($("#report-format").text()).toBe("خروجی محصولات Shopify");
    expect($('[data-count="products-create"]').text()).toBe("۳");
    expect($("#warnings tbody tr").first().find("td").first().text()).toBe("۲");
    await agent.get("/shop/admin/products/import?lang=en").expect(200);
  });
});
