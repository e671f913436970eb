import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterEach, describe, expect, it } from "vitest";
import { catalogJobs } from "../src/catalog/catalog.jobs.js";
import { MAX_TAKEOVERS, type ImportChunkEvent, type ImportHooks } from "../src/catalog/csv/csv-import.steps.js";
import { runJobOnce } from "../src/jobs/scheduler.js";
import { storeImage } from "../src/media/media.service.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { addProduct, catalogCsv, catalogSnapshot, catalogStamps, exportBytes, importCsv } from "./helpers/csv.js";
import { createAdmin, createProduct, createToken, testImage } from "./helpers/factories.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";
import { newShopper } from "./helpers/shopper.js";

/**
 * Imports too large to answer while the request waits (more than 1,000
 * lines) run as the `catalog.import` job. Here the job is run the way the
 * scheduler runs it (runJobOnce, again while it returns `{ more: true }`),
 * and a hook between its chunks lets a test act at a known point of a
 * running import: look at its progress, send shoppers' requests, edit the
 * catalog, fail, or stall like a process that died.
 */

/** 1,100 rows (551 products of one to three variants): over the line count that is answered at once. */
const ROWS = 1100;
const PRODUCTS = new Set(catalogCsv(ROWS).toString("utf8").split("\r\n").slice(1, -1).map((line) => line.split(",")[0])).size;

let clock = Date.parse("2026-12-01T10:00:00Z");
const apps: TestApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function shop() {
  const t = await buildTestApp({ now: () => new Date(clock) });
  apps.push(t);
  const { token } = await createToken(t.deps);
  return { t, token, auth: { Authorization: `Bearer ${token}` } };
}

async function adminOf(t: TestApp): Promise<TestAgent> {
  const { email, password } = await createAdmin(t.deps);
  const agent = request.agent(t.app);
  await signIn(agent, email, password);
  return agent;
}

/** Runs the import job until it says nothing is left, as the scheduler would (each run is due again at once while it returns `more`). */
async function runImports(t: TestApp, options: { hooks?: ImportHooks; owner?: string } = {}) {
  const job = catalogJobs({ hooks: options.hooks })[0]!;
  for (;;) {
    const outcome = await runJobOnce(t.deps, job, { owner: options.owner ?? "instance-test", force: true });
    if (outcome.status === "error") throw new Error(`the import job failed: ${outcome.error}`);
    if (!(outcome.result as { more?: boolean } | undefined)?.more) return outcome;
  }
}

/** POSTs a large file to the API: 202 and where to follow it. */
async function startImport(t: TestApp, token: string, bytes: Buffer, dryRun: boolean) {
  const res = await importCsv(t.app, token, bytes, dryRun).expect(202);
  expect(res.body.data).toMatchObject({ status: "queued", dryRun, id: expect.stringMatching(/^[\w-]{22}$/) });
  expect(res.headers.location).toBe(res.body.data.statusUrl);
  const path = new URL(res.body.data.statusUrl as string).pathname;
  expect(path).toBe(`/shop/api/v1/products/imports/${res.body.data.id}`);
  return { id: res.body.data.id as string, path };
}

async function statusOf(t: TestApp, auth: Record<string, string>, path: string) {
  return (await request(t.app).get(path).set(auth).expect(200)).body.data;
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Products the file will update, each through the real write path and each
 * with what an update must leave alone or put back: a Persian title, a
 * collection, a photo, a second variant the file leaves out (so the import
 * archives it), other prices and stock.
 */
async function existingProducts(t: TestApp, count: number) {
  await t.db.collection.create({ data: { slug: "gifts", title: "Gifts" } });
  const photo = await storeImage(t.deps, { bytes: await testImage(), alt: "A bowl" });
  for (let p = 0; p < count; p++) {
    await addProduct(t.deps, {
      slug: `item-${String(p).padStart(6, "0")}`,
      title: `Old bowl ${p}`,
      status: p % 2 ? "active" : "draft",
      optionNames: ["Size"],
      collections: ["gifts"],
      translations: { fa: { title: `کاسه ${p}`, description: "" } },
      images: [{ mediaId: photo.id, alt: "A bowl" }],
      variants: [
        { sku: `IT-${p}-0`, option1: "S", priceMinor: 999, stock: 3 },
        { sku: `OLD-${p}`, option1: "XL", priceMinor: 1999, stock: 1 },
      ],
    });
  }
}

describe("a large import runs as a background job", () => {
  it("answers 202 with a status URL; the job checks and writes in chunks with visible progress; the report and one audit row at the end", async () => {
    const { t, token, auth } = await shop();
    const admin = await adminOf(t);
    const { id, path } = await startImport(t, token, catalogCsv(ROWS), false);
    expect(await statusOf(t, auth, path)).toMatchObject({ id, status: "queued", dryRun: false, report: null, progress: { phase: "queued", rowsRead: 0 } });
    expect(await t.db.product.count()).toBe(0);
    // Queued, no run holds it yet: the page says what to do if no process runs the jobs.
    expect(load((await admin.get(`/shop/admin/products/import/${id}`).expect(200)).text)("#worker-hint").text()).toContain("npm run worker");

    const seen: { checking?: unknown; applying?: unknown; page?: string; progressJson?: unknown } = {};
    await runImports(t, {
      hooks: {
        async afterChunk(e) {
          if (e.phase === "plan" && !seen.checking) seen.checking = await statusOf(t, auth, path);
          if (e.phase === "apply" && e.done >= 100 && !seen.applying) {
            seen.applying = await statusOf(t, auth, path);
            seen.page = (await admin.get(`/shop/admin/products/import/${id}`).expect(200)).text;
            seen.progressJson = (await admin.get(`/shop/admin/products/import/${id}/progress`).expect(200)).body.data;
          }
        },
      },
    });

    expect(seen.checking).toMatchObject({ status: "planning", report: null, progress: { phase: "checking", rowsRead: ROWS, productsTotal: PRODUCTS } });
    const checking = seen.checking as { progress: { productsChecked: number } };
    expect(checking.progress.productsChecked).toBeGreaterThan(0);
    expect(checking.progress.productsChecked).toBeLessThan(PRODUCTS);

    const applying = seen.applying as { status: string; progress: { phase: string; productsWritten: number; productsToWrite: number; done: number; total: number } };
    expect(applying).toMatchObject({ status: "applying", progress: { phase: "applying", productsToWrite: PRODUCTS, total: PRODUCTS } });
    expect(applying.progress.productsWritten).toBeGreaterThanOrEqual(100);
    expect(applying.progress.productsWritten).toBeLessThan(PRODUCTS);
    expect(seen.progressJson).toMatchObject({ id, status: "applying", progress: { phase: "applying" } });

    // The admin's progress page: the phase and counts, a progress bar, a
    // refresh that works without JavaScript (and polling with it), a cancel button.
    const $ = load(seen.page!);
    expect($("#import-phase").text()).toBe("Writing products");
    expect($("head noscript").html()).toBe('<meta http-equiv="refresh" content="3">');
    expect(Number($("#import-bar").attr("value"))).toBeGreaterThan(0);
    expect($('[data-progress="written"]').text()).toBe(String(applying.progress.productsWritten));
    expect($("#refresh-link").attr("href")).toBe(`/shop/admin/products/import/${id}`);
    expect($("#progress").attr("data-progress-url")).toBe(`/shop/admin/products/import/${id}/progress`);
    expect($('script[src*="import-progress"]').length).toBe(1);
    expect($("form.cancel-form").length).toBe(1);
    // A run holds it: no hint about a missing worker.
    expect($("#worker-hint").length).toBe(0);

    const done = await statusOf(t, auth, path);
    expect(done).toMatchObject({ status: "applied", error: null, progress: { phase: "applied", productsWritten: PRODUCTS } });
    expect(done.report).toMatchObject({ format: "bazaarche", rows: ROWS, valid: true, applied: true, problems: [], warnings: [] });
    expect(done.report.summary).toEqual({ products: { create: PRODUCTS, update: 0, unchanged: 0 }, variants: { create: ROWS, update: 0, archive: 0 }, collectionsToCreate: [] });
    expect(done.report.products).toHaveLength(PRODUCTS);
    expect(await t.db.product.count({ where: { status: "active" } })).toBe(PRODUCTS);
    expect(await t.db.variant.count()).toBe(ROWS);
    expect(await t.db.auditLog.count({ where: { action: "catalog.import" } })).toBe(1);
    // Staging rows are gone once applied; the plan and the report stay.
    expect(await t.db.catalogImportRow.count()).toBe(0);

    const page = load((await admin.get(`/shop/admin/products/import/${id}`).expect(200)).text);
    expect(page("#import-done").text()).toBe(`Import applied: ${PRODUCTS} products created, 0 updated, 0 unchanged.`);
    expect(page("head noscript").length).toBe(0);
  });

  it("the import's page tells the admin when no process has run it for a while (the worker stopped between two runs), not while runs follow each other", async () => {
    const { t, token } = await shop();
    const admin = await adminOf(t);
    const { id } = await startImport(t, token, catalogCsv(ROWS), false);
    const hint = async () => load((await admin.get(`/shop/admin/products/import/${id}`).expect(200)).text)("#worker-hint").length;
    expect(await hint()).toBe(1);

    // One short run, as the scheduler starts it; it leaves work for the next run.
    const job = catalogJobs({ budgetMs: 1 })[0]!;
    const outcome = await runJobOnce(t.deps, job, { owner: "instance-test", force: true });
    expect(outcome.result).toMatchObject({ more: true });
    const row = await t.db.catalogImport.findUniqueOrThrow({ where: { id } });
    expect(row.leaseOwner).toBeNull();
    expect(row.leaseUntil!.getTime()).toBeGreaterThan(clock);
    expect(await hint()).toBe(0);

    // No next run came (the process stopped): after the grace, the page says so.
    clock += 31_000;
    expect(await hint()).toBe(1);
    await runImports(t);
    expect(await t.db.catalogImport.findUniqueOrThrow({ where: { id }, select: { status: true } })).toEqual({ status: "applied" });
  });

  it("new products stay hidden until the end and appear all at once; shoppers are answered between chunks (a product page, a checkout)", async () => {
    const { t, token } = await shop();
    const mug = await createProduct(t.deps, { slug: "busy-mug", title: "Busy Mug", variants: [{ stock: 5, priceMinor: 1800 }] });
    const shopper = await newShopper(t.app);
    await shopper.add(mug.variants[0]!.id).expect(303);
    const { path } = await startImport(t, token, catalogCsv(ROWS), false);

    const events: string[] = [];
    const answers: Promise<unknown>[] = [];
    const hidden: number[] = [];
    await runImports(t, {
      hooks: {
        async afterChunk(e: ImportChunkEvent) {
          if (e.phase !== "apply") return;
          events.push("chunk");
          if (e.done >= 10 && answers.length === 0) {
            events.push("requests sent");
            answers.push(request(t.app).get("/shop/p/busy-mug").then((r) => events.push(`product page ${r.status}`)));
            answers.push(shopper.checkout({ email: "ana@example.com" }).then((r) => events.push(`checkout ${r.status}`)));
            // Written so far, but a shopper sees none of the new products yet.
            hidden.push(await t.db.product.count({ where: { status: "active", slug: { startsWith: "item-" } } }));
            const page = await request(t.app).get("/shop/p/item-000001");
            hidden.push(page.status);
          }
        },
      },
    });
    events.push("import finished");
    await Promise.all(answers);

    // Both answers came while the import was still writing: chunks followed them.
    const lastChunk = events.lastIndexOf("chunk");
    for (const answer of ["product page 200", "checkout 303"]) {
      expect(events.indexOf(answer), events.filter((e) => e !== "chunk").join(", ")).toBeGreaterThan(events.indexOf("requests sent"));
      expect(events.indexOf(answer)).toBeLessThan(lastChunk);
    }
    expect(await t.db.order.count({ where: { email: "ana@example.com" } })).toBe(1);
    expect(hidden).toEqual([0, 404]);
    expect((await statusOf(t, { Authorization: `Bearer ${token}` }, path)).status).toBe("applied");
    expect(await t.db.product.count({ where: { status: "active", slug: { startsWith: "item-" } } })).toBe(PRODUCTS);
    await request(t.app).get("/shop/p/item-000001").expect(200);
  });

  it("a dry run writes nothing; a file with problems lists each by line and column, and is never applied", async () => {
    const { t, token, auth } = await shop();
    const dry = await startImport(t, token, catalogCsv(ROWS), true);
    // Two mistakes far into the file: a price with too many decimals, a SKU given twice.
    const lines = catalogCsv(ROWS).toString("utf8").split("\r\n");
    const at = (sku: string) => lines.findIndex((l) => l.includes(`,${sku},`));
    const [priceLine, skuLine] = [at("IT-300-0"), at("IT-301-0")];
    lines[priceLine] = lines[priceLine]!.replace(/,[\d.]+,(\d+)$/, ",3.105,$1");
    lines[skuLine] = lines[skuLine]!.replace(",IT-301-0,", ",IT-300-0,");
    const broken = await startImport(t, token, Buffer.from(lines.join("\r\n")), false);
    await runImports(t);

    const checked = await statusOf(t, auth, dry.path);
    expect(checked).toMatchObject({ status: "checked", dryRun: true, report: { valid: true, applied: false, summary: { products: { create: PRODUCTS } } } });
    const invalid = await statusOf(t, auth, broken.path);
    expect(invalid).toMatchObject({ status: "checked", report: { valid: false, applied: false } });
    // Physical lines: the header is line 1.
    expect(invalid.report.problems).toEqual([
      { line: priceLine + 1, column: "price", message: '"3.105" has more than 2 decimals, which USD does not allow.' },
      { line: skuLine + 1, column: "sku", message: `SKU IT-300-0 is also on line ${priceLine + 1}; every variant needs its own SKU.` },
    ]);
    expect(await t.db.product.count()).toBe(0);
    expect(await t.db.auditLog.count({ where: { action: "catalog.import" } })).toBe(0);
  });

  it("re-importing the export of a large catalog writes nothing (not even updatedAt) and records one audit row", async () => {
    const { t, token, auth } = await shop();
    await startImport(t, token, catalogCsv(ROWS), false);
    await runImports(t);
    const exported = await exportBytes(t.app, token);
    const stamps = await catalogStamps(t.deps);
    const snapshot = await catalogSnapshot(t.deps);

    const again = await startImport(t, token, exported, false);
    await runImports(t);
    const done = await statusOf(t, auth, again.path);
    expect(done).toMatchObject({ status: "applied", progress: { productsWritten: 0, productsPassed: PRODUCTS } });
    expect(done.report.summary).toEqual({ products: { create: 0, update: 0, unchanged: PRODUCTS }, variants: { create: 0, update: 0, archive: 0 }, collectionsToCreate: [] });
    expect(await catalogStamps(t.deps)).toBe(stamps);
    expect(await catalogSnapshot(t.deps)).toBe(snapshot);
    expect(await t.db.auditLog.count({ where: { action: "catalog.import" } })).toBe(2);
  });
});

describe("all or nothing: an apply that cannot finish is undone", () => {
  it("a failure in the middle of the apply puts the catalog back exactly as it was (every row, every column)", async () => {
    const { t, token, auth } = await shop();
    await existingProducts(t, 12);
    const before = await catalogSnapshot(t.deps);
    const { path } = await startImport(t, token, catalogCsv(ROWS), false);

    let failedAt = 0;
    await runImports(t, {
      hooks: {
        afterChunk(e) {
          if (e.phase === "apply" && e.done >= 200) {
            failedAt ||= e.done;
            throw new Error("injected failure: the disk is full");
          }
        },
      },
    });
    const status = await statusOf(t, auth, path);
    expect(status).toMatchObject({ status: "rolled_back", error: { code: "error" }, progress: { phase: "rolled_back" } });
    expect(status.error.message).toContain("injected failure: the disk is full");
    // It had written (and journalled) products, the updated ones among them, before it failed.
    expect(status.progress.productsWritten).toBe(failedAt);
    expect(status.progress.productsUndone).toBe(failedAt);
    expect(await catalogSnapshot(t.deps)).toBe(before);
    expect(await t.db.auditLog.count({ where: { action: "catalog.import" } })).toBe(0);
  });

  it("an edit during the apply that the file conflicts with stops it; everything is undone, a sale made meanwhile stays sold", async () => {
    const { t, token, auth } = await shop();
    await existingProducts(t, 12);
    const before = JSON.parse(await catalogSnapshot(t.deps)) as { products: { slug: string; variants: { sku: string; stock: number }[] }[] };
    const { path } = await startImport(t, token, catalogCsv(ROWS), false);
    const sold = await t.db.variant.findUniqueOrThrow({ where: { sku: "IT-1-0" } });

    let edited = false;
    await runImports(t, {
      hooks: {
        async afterChunk(e) {
          if (e.phase !== "apply" || e.done < 100 || edited) return;
          edited = true;
          // Already written by the import (stock 1 from the file): one unit sells.
          expect((await t.db.variant.findUniqueOrThrow({ where: { sku: "IT-1-0" } })).stock).toBe(1);
          await request(t.app).patch(`/shop/api/v1/variants/${sold.id}`).set(auth).send({ stockDelta: -1 }).expect(200);
          // Someone creates a product with a SKU that a later row of the file gives to another product.
          await request(t.app)
            .post("/shop/api/v1/products")
            .set(auth)
            .send({ slug: "rival", title: "Rival", variants: [{ sku: "IT-400-0", priceMinor: 500, stock: 1 }] })
            .expect(201);
        },
      },
    });
    const status = await statusOf(t, auth, path);
    expect(status.error?.message).toBe('The shop changed since the dry run: SKU IT-400-0 already belongs to "Rival" (handle rival); give this variant another SKU.');
    const rivalLine = catalogCsv(ROWS).toString("utf8").split("\r\n").findIndex((l) => l.includes(",IT-400-0,")) + 1;
    expect(status).toMatchObject({ status: "rolled_back", error: { code: "changed", line: rivalLine, column: "sku" } });
    expect(status.error.message).toBe('The shop changed since the dry run: SKU IT-400-0 already belongs to "Rival" (handle rival); give this variant another SKU.');

    // Exactly as before, but for the product made meanwhile and the unit sold meanwhile (3 − 1).
    const expected = structuredClone(before);
    expected.products.find((p) => p.slug === "item-000001")!.variants.find((v) => v.sku === "IT-1-0")!.stock = 2;
    expect(JSON.parse(await catalogSnapshot(t.deps, { except: ["rival"] }))).toEqual(expected);
    expect(await t.db.product.count({ where: { slug: "rival" } })).toBe(1);
  });

  it("cancelled from its page while it writes, it is undone", async () => {
    const { t, token, auth } = await shop();
    const admin = await adminOf(t);
    await existingProducts(t, 4);
    const before = await catalogSnapshot(t.deps);
    const { id, path } = await startImport(t, token, catalogCsv(ROWS), false);
    let cancelled = false;
    await runImports(t, {
      hooks: {
        async afterChunk(e) {
          if (e.phase !== "apply" || e.done < 100 || cancelled) return;
          cancelled = true;
          const page = await admin.get(`/shop/admin/products/import/${id}`).expect(200);
          await admin.post("/shop/admin/products/import/cancel").type("form").send({ _csrf: csrfFrom(page.text), importId: id }).expect(303);
        },
      },
    });
    expect(await statusOf(t, auth, path)).toMatchObject({ status: "rolled_back", error: { code: "cancelled" } });
    expect(await catalogSnapshot(t.deps)).toBe(before);
  });
});

describe("a process that dies mid-import", () => {
  /** Instance A stalls inside the apply (as a crashed process would, holding its leases); the clock then runs past them. */
  async function crashMidApply(t: TestApp) {
    const stalled = deferred();
    const released = deferred();
    let stalledAt = 0;
    const a = runImports(t, {
      owner: "instance-a",
      hooks: {
        async afterChunk(e) {
          if (e.phase === "apply" && e.done >= 100 && !stalledAt) {
            stalledAt = e.done;
            stalled.resolve();
            await released.promise;
          }
        },
      },
    });
    await stalled.promise;
    // Past the import's lease (2 minutes) and the job's (5 minutes).
    clock += 6 * 60_000;
    return { a, release: released.resolve, stalledAt: () => stalledAt };
  }

  it("is resumed by the next run once its lease runs out, and the late original writes nothing more", async () => {
    const { t, token, auth } = await shop();
    const { path } = await startImport(t, token, catalogCsv(ROWS), false);
    const crash = await crashMidApply(t);
    const written = (await statusOf(t, auth, path)).progress.productsWritten;
    expect(written).toBe(crash.stalledAt());
    // Its process is gone and its lease ran out: the page of the import, still
    // "applying", tells the admin that no process is running the jobs.
    const stalledPage = load((await (await adminOf(t)).get(path.replace("/api/v1/products/imports/", "/admin/products/import/")).expect(200)).text);
    expect(stalledPage("#import-phase").text()).toBe("Writing products");
    expect(stalledPage("#worker-hint").text()).toContain("npm run worker");

    await runImports(t, { owner: "instance-b" });
    const done = await statusOf(t, auth, path);
    expect(done).toMatchObject({ status: "applied", progress: { productsWritten: PRODUCTS } });
    expect(await t.db.catalogImport.findUniqueOrThrow({ where: { id: done.id }, select: { takeovers: true } })).toEqual({ takeovers: 1 });

    crash.release();
    await crash.a;
    expect(await t.db.product.count()).toBe(PRODUCTS);
    expect(await t.db.product.count({ where: { status: "active" } })).toBe(PRODUCTS);
    expect(await t.db.variant.count()).toBe(ROWS);
    expect(await t.db.auditLog.count({ where: { action: "catalog.import" } })).toBe(1);
  });

  it(`is rolled back instead when it has died more than ${MAX_TAKEOVERS} times`, async () => {
    const { t, token, auth } = await shop();
    await existingProducts(t, 6);
    const before = await catalogSnapshot(t.deps);
    const { id, path } = await startImport(t, token, catalogCsv(ROWS), false);
    const crash = await crashMidApply(t);
    // Earlier runs of it died too.
    await t.db.catalogImport.update({ where: { id }, data: { takeovers: MAX_TAKEOVERS } });

    await runImports(t, { owner: "instance-b" });
    const status = await statusOf(t, auth, path);
    expect(status).toMatchObject({ status: "rolled_back", error: { code: "stopped" } });
    expect(status.progress.productsUndone).toBe(crash.stalledAt());
    expect(await catalogSnapshot(t.deps)).toBe(before);
    crash.release();
    await crash.a;
    expect(await catalogSnapshot(t.deps)).toBe(before);
  });
});
