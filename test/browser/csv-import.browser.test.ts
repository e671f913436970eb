import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalogJobs } from "../../src/catalog/catalog.jobs.js";
import { startJobs } from "../../src/jobs/registry.js";
import type { JobScheduler } from "../../src/jobs/scheduler.js";
import { catalogCsv } from "../helpers/csv.js";
import { accessibilityViolations, screenshot, useBrowserShop } from "../helpers/browser.js";

const shop = useBrowserShop();

// The import job runs in the background as in `npm start`: large files go to it.
let jobs: JobScheduler;
beforeAll(() => {
  jobs = startJobs(shop.t.deps, { jobs: catalogJobs(), tickMs: 200 });
});
afterAll(() => jobs.stop());

const HEADER = "handle,title,title_fa,description,status,option1_name,collections,sku,option1,price,compare_at_price,stock\r\n";

/** A small catalog in our format; per language its own handles and SKUs. */
function smallCsv(lang: string) {
  return (
    HEADER +
    `mug-${lang},"Speckled Mug, large",ماگ خال‌دار,"Thrown on the wheel.\nDishwasher safe.",active,Colour,ceramics,MUG-W-${lang},White,28.00,,5\r\n` +
    `mug-${lang},"Speckled Mug, large",ماگ خال‌دار,"Thrown on the wheel.\nDishwasher safe.",active,Colour,ceramics,MUG-B-${lang},Black,30.00,35.00,0\r\n` +
    `scarf-${lang},Block-print Scarf,شال باتیک,Cotton.,draft,,,SCARF-${lang},,19.50,,3\r\n`
  );
}

/** 1,100 rows (over the size checked while the request waits): 551 products, with handles and SKUs of their own. */
function largeCsv(lang: string) {
  return Buffer.from(catalogCsv(1100).toString("utf8").replaceAll("item-", `big-${lang}-`).replaceAll(",IT-", `,BIG-${lang}-`));
}
const LARGE_PRODUCTS = 551;

const IMPORT_PAGE = /\/admin\/products\/import\/[\w-]{22}$/;
const digits = (lang: string, n: number) => (lang === "fa" ? new Intl.NumberFormat("fa").format(n) : String(n));

describe.each(["en", "fa"] as const)("CSV import pages in %s", (lang) => {
  it("checks a small file (problems, then a clean dry run) and applies it, each on the import's own page", async () => {
    const { page, problems } = await shop.openAdmin(lang);

    await page.goto(`${shop.origin}/shop/admin/products/import?lang=${lang}`);
    expect(await page.getAttribute("html", "dir")).toBe(lang === "fa" ? "rtl" : "ltr");
    await screenshot(page, `admin-csv-import-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);

    // A file with mistakes: each one listed by line and column, no apply button.
    const broken = smallCsv(lang).replace("28.00", "28.005").replace(",draft,", ",live,");
    await page.locator("#csv-file").setInputFiles({ name: "broken.csv", mimeType: "text/csv", buffer: Buffer.from(broken) });
    await Promise.all([page.waitForURL(IMPORT_PAGE), page.locator(".upload-form button").click()]);
    await page.locator("#problems").waitFor();
    expect(await page.locator("#problems tbody tr").count()).toBe(2);
    expect(await page.locator(".apply-form").count()).toBe(0);
    await screenshot(page, `admin-csv-problems-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);

    await page.goto(`${shop.origin}/shop/admin/products/import?lang=${lang}`);
    // The recent imports list the one just checked.
    await page.locator("#imports tbody tr").first().waitFor();
    await page.locator("#csv-file").setInputFiles({ name: `catalog-${lang}.csv`, mimeType: "text/csv", buffer: Buffer.from(smallCsv(lang)) });
    await Promise.all([page.waitForURL(IMPORT_PAGE), page.locator(".upload-form button").click()]);
    await page.locator(".apply-form button").waitFor();
    expect(await page.locator('[data-count="products-create"]').innerText()).toBe(digits(lang, 2));
    expect(await page.locator('[data-count="variants-create"]').innerText()).toBe(digits(lang, 3));
    expect(await page.locator("#plan tbody tr").count()).toBe(2);
    await screenshot(page, `admin-csv-dry-run-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(await shop.t.db.product.count({ where: { slug: { in: [`mug-${lang}`, `scarf-${lang}`] } } })).toBe(0);

    const dryRunUrl = page.url();
    await Promise.all([page.waitForURL(dryRunUrl), page.locator(".apply-form button").click()]);
    await page.locator("#import-done").waitFor();
    expect(await page.locator("#import-done").innerText()).toBeTruthy();
    await screenshot(page, `admin-csv-applied-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(await shop.t.db.product.count({ where: { slug: { in: [`mug-${lang}`, `scarf-${lang}`] } } })).toBe(2);
    expect((await shop.t.db.variant.findUniqueOrThrow({ where: { sku: `MUG-B-${lang}` } })).compareAtMinor).toBe(3500);

    expect(problems.csp).toEqual([]);
    expect(problems.console).toEqual([]);
  }, 120_000);

  it("follows a large file through the background job: progress while it is checked and written, the report, then the result", async () => {
    const { page, problems } = await shop.openAdmin(lang);
    await page.goto(`${shop.origin}/shop/admin/products/import?lang=${lang}`);
    await page.locator("#csv-file").setInputFiles({ name: `large-${lang}.csv`, mimeType: "text/csv", buffer: largeCsv(lang) });
    await Promise.all([page.waitForURL(IMPORT_PAGE), page.locator(".upload-form button").click()]);
    // Right after the upload the import has not been checked yet: the page shows its progress.
    await page.locator("#progress progress").waitFor();
    await screenshot(page, `admin-csv-checking-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);

    // The page polls and reloads itself once the check is done.
    await page.locator(".apply-form button").waitFor({ timeout: 120_000 });
    expect(await page.locator('[data-count="products-create"]').innerText()).toBe(digits(lang, LARGE_PRODUCTS));
    await screenshot(page, `admin-csv-large-dry-run-${lang}`);

    const url = page.url();
    await Promise.all([page.waitForURL(url), page.locator(".apply-form button").click()]);
    // Confirmed: the job writes in the background, the page shows how far it got.
    await page.locator("#progress progress").waitFor();
    expect(await page.locator("#import-phase").innerText()).toMatch(lang === "fa" ? /نوشتن محصولات|نمایش محصولات تازه/ : /Writing products|Publishing the new products/);
    await screenshot(page, `admin-csv-writing-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);

    await page.locator("#import-done").waitFor({ timeout: 180_000 });
    await screenshot(page, `admin-csv-large-applied-${lang}`);
    expect(await shop.t.db.product.count({ where: { slug: { startsWith: `big-${lang}-` }, status: "active" } })).toBe(LARGE_PRODUCTS);
    expect(problems.csp).toEqual([]);
    expect(problems.console).toEqual([]);
  }, 360_000);
});

describe("without JavaScript", () => {
  it("the progress page refreshes itself until the dry run's report is there", async () => {
    const { page, problems } = await shop.open({ viewport: { width: 390, height: 844 }, javaScriptEnabled: false });
    await page.goto(`${shop.origin}/shop/admin/login?lang=en`);
    await page.locator("#email").fill(shop.admin.email);
    await page.locator("#password").fill(shop.admin.password);
    await Promise.all([page.waitForURL(/\/shop\/admin$/), page.locator('button[type="submit"]').click()]);
    await page.goto(`${shop.origin}/shop/admin/products/import`);
    await page.locator("#csv-file").setInputFiles({ name: "large-nojs.csv", mimeType: "text/csv", buffer: largeCsv("nojs") });
    await Promise.all([page.waitForURL(IMPORT_PAGE), page.locator(".upload-form button").click()]);
    await page.locator("#refresh-link").waitFor();
    await screenshot(page, "admin-csv-progress-nojs-390");
    // Only the <noscript> refresh reloads this page.
    await page.locator(".apply-form button").waitFor({ timeout: 120_000 });
    expect(await page.locator('[data-count="products-create"]').innerText()).toBe(String(LARGE_PRODUCTS));
    expect(problems.console).toEqual([]);
  }, 180_000);
});
