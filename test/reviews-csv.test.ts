import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { load } from "./helpers/html.js";
import { adminClients, recount, summaryOf } from "./helpers/reviews.js";

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, "fixtures/reviews", name));

let t: TestApp;
let clients: Awaited<ReturnType<typeof adminClients>>;
let mug: Awaited<ReturnType<typeof createProduct>>;
beforeAll(async () => {
  t = await buildTestApp({ now: () => new Date("2026-11-20T10:00:00Z") });
  clients = await adminClients(t);
  mug = await createProduct(t.deps, { slug: "csv-mug", title: "CSV Mug", variants: [{ sku: "CSV-MUG-SKU" }] });
});
afterAll(() => t.close());

const importCsv = (bytes: Buffer, query: string) => clients.api("post", `/reviews/import?${query}`).set("Content-Type", "text/csv").send(bytes);

/** Uploads through the admin import form, as a browser does (multipart, CSRF in the action URL). */
async function importThroughForm(bytes: Buffer, fields: { format?: string; mode: string }, expected: number) {
  const page = await clients.admin.get("/shop/admin/reviews/import").expect(200);
  const action = load(page.text)("form.upload-form").attr("action")!;
  let req = clients.admin.post(action).field("mode", fields.mode);
  if (fields.format) req = req.field("format", fields.format);
  const res = await req.attach("file", bytes, { filename: "reviews.csv", contentType: "text/csv" });
  expect(res.status, res.text.slice(0, 300)).toBe(expected);
  return res;
}

describe("review CSV import", () => {
  it("a dry run of a bad file lists every problem with its line number, and writes nothing", async () => {
    const res = await importCsv(fixture("bad.csv"), "dryRun=true").expect(422);
    const problems = res.body.data.problems as { line: number; column: string; message: string }[];
    expect(res.body.data.format).toBe("okendo");
    expect(problems.map((p) => [p.line, p.column])).toEqual([
      [3, "rating"],
      [4, "rating"],
      [5, "handle"],
      [6, "name"],
      [7, "dateCreated"],
      [8, "email"],
    ]);
    expect(problems[0]!.message).toContain('"6" is not a whole number of stars from 1 to 5');
    expect(await t.db.review.count()).toBe(0);
  });

  it("applying a file with problems writes nothing either: all rows or none", async () => {
    const res = await importCsv(fixture("bad.csv"), "dryRun=false").expect(422);
    expect(res.body.data.applied).toBe(false);
    expect(await t.db.review.count()).toBe(0);
  });

  it("imports a Judge.me export: multi-line text, replies, curated → published or pending, line numbers counted across quoted line breaks", async () => {
    const dry = await importCsv(fixture("judgeme.csv"), "format=auto&dryRun=true").expect(200);
    expect(dry.body.data).toMatchObject({ format: "judgeme", rows: 3, created: { published: 2, pending: 1 }, photoUrlsNotFetched: 1, applied: false });
    expect(await t.db.review.count()).toBe(0);

    const res = await importCsv(fixture("judgeme.csv"), "dryRun=false").expect(201);
    expect(res.body.data.applied).toBe(true);
    const rows = await t.db.review.findMany({ where: { productId: mug.id }, include: { reply: true }, orderBy: { createdAt: "asc" } });
    expect(rows.map((r) => [r.displayName, r.rating, r.status, r.source, r.verifiedBuyer])).toEqual([
      ["Sara P.", 5, "published", "import", false],
      ["Tom B.", 1, "published", "import", false],
      ["Lee", 3, "pending", "import", false],
    ]);
    expect(rows[0]!.body).toBe("Holds a lot of tea, and\nthe glaze is lovely.");
    expect(rows[0]!.reply?.body).toBe("Thank you Sara!");
    expect(rows[0]!.createdAt.toISOString()).toBe("2025-03-01T10:00:00.000Z");
    expect(await summaryOf(t, mug.id)).toEqual(await recount(t, mug.id));
    expect(await summaryOf(t, mug.id)).toMatchObject({ count: 2, sum: 6 });

    // Importing the same file again skips what is already there.
    const again = await importCsv(fixture("judgeme.csv"), "dryRun=false").expect(201);
    expect(again.body.data.skipped.map((s: { line: number }) => s.line)).toEqual([2, 4, 5]);
    expect(await t.db.review.count({ where: { productId: mug.id } })).toBe(3);
  });

  it("imports an Okendo sheet through the admin form, matching a product by SKU", async () => {
    const dry = await importThroughForm(fixture("okendo.csv"), { mode: "dry-run" }, 200);
    expect(load(dry.text)("#import-report h2").text()).toBe("The file can be imported");
    expect(await t.db.review.count({ where: { displayName: { in: ["Ava", "Ben"] } } })).toBe(0);
    const applied = await importThroughForm(fixture("okendo.csv"), { mode: "apply", format: "okendo" }, 200);
    expect(load(applied.text)("#import-report").text()).toContain("2 photo links were not downloaded");
    const ben = await t.db.review.findFirstOrThrow({ where: { displayName: "Ben" } });
    expect(ben).toMatchObject({ productId: mug.id, rating: 2, status: "published" });
    const bad = await importThroughForm(fixture("bad.csv"), { mode: "apply" }, 422);
    expect(load(bad.text)("#import-report tbody tr")).toHaveLength(6);
  });

  it("refuses a file that is not UTF-8, an unknown layout, and an empty upload", async () => {
    const latin = await importCsv(fixture("latin1.csv"), "dryRun=true").expect(422);
    expect(latin.body.data.problems[0].message).toMatch(/not UTF-8/);
    const unknown = await importCsv(Buffer.from("foo,bar\n1,2\n"), "dryRun=true").expect(422);
    expect(unknown.body.data.problems[0].message).toMatch(/Unknown columns/);
    await clients.api("post", "/reviews/import?dryRun=true").set("Content-Type", "text/csv").send("").expect(400);
    await importCsv(fixture("okendo.csv"), "format=shopify").expect(400);
  });

  it("runs imported text through the same filters: a held row arrives pending with its rule", async () => {
    const csv = "name,body,rating,dateCreated,handle\nSpammy,Visit www.cheap-mugs.example.com today,5,2025-05-01,csv-mug\n";
    await importCsv(Buffer.from(csv), "dryRun=false").expect(201);
    const r = await t.db.review.findFirstOrThrow({ where: { displayName: "Spammy" } });
    expect(r).toMatchObject({ status: "pending", flags: "link" });
    expect(await t.db.auditLog.findFirst({ where: { entityId: r.id, action: "review.hold" } })).toMatchObject({ rule: "link" });
  });
});

describe("review CSV export", () => {
  it("exports every review in our format, guards formulas, and our export imports back without duplicates", async () => {
    await t.db.review.create({ data: { productId: mug.id, rating: 3, body: "=HYPERLINK(\"http://evil\")", displayName: "@mallory", status: "pending" } });
    const res = await clients.admin.get("/shop/admin/reviews/export.csv").expect(200);
    expect(res.headers["content-type"]).toContain("text/csv");
    const text = res.text.replace(/^\uFEFF/, "");
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual(expect.arrayContaining(["review_id", "product_handle", "rating", "body", "reviewer_name", "status", "verified_buyer", "incentivized", "reply"]));
    expect(rows.length).toBe(await t.db.review.count());
    const evil = rows.find((r) => r.reviewer_name === "'@mallory")!;
    expect(evil.body).toBe("'=HYPERLINK(\"http://evil\")");
    expect(rows.find((r) => r.reviewer_name === "Sara P.")).toMatchObject({ product_handle: "csv-mug", rating: "5", reply: "Thank you Sara!", status: "published" });

    const before = await t.db.review.count();
    const back = await importCsv(Buffer.from(text), "dryRun=false").expect(201);
    expect(back.body.data.format).toBe("ours");
    expect(back.body.data.skipped).toHaveLength(rows.length);
    expect(await t.db.review.count()).toBe(before);
  });

  it("never imports the verified badge, and says so", async () => {
    const csv = ["review_id,product_handle,sku,rating,title,body,reviewer_name,reviewer_email,locale,status,verified_buyer,incentivized,source,helpful_count,created_at,published_at,reply,photo_urls", "x1,csv-mug,,5,,Claims to be verified by another shop.,Vic,,en,published,yes,no,request,0,2025-06-01T00:00:00Z,,,"].join("\n");
    const res = await importCsv(Buffer.from(csv), "dryRun=false").expect(201);
    expect(res.body.data.verifiedIgnored).toBe(1);
    expect(await t.db.review.findFirstOrThrow({ where: { displayName: "Vic" } })).toMatchObject({ verifiedBuyer: false, source: "import" });
  });
});
