import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../helpers/app.js";
import { accessibilityViolations, launchBrowser, screenshot, serve, signInInBrowser, watchProblems } from "../helpers/browser.js";
import { createAdmin, createProduct, testImage } from "../helpers/factories.js";

let t: TestApp;
let browser: Browser;
let origin: string;
let stop: () => Promise<void>;
let admin: { email: string; password: string };

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createAdmin(t.deps);
  await t.db.collection.create({ data: { slug: "ceramics", title: "Ceramics" } });
  await createProduct(t.deps, { title: "Kilim Cushion", optionNames: ["Size"], variants: [{ sku: "KIL-40", option1: "40 cm", stock: 8 }, { sku: "KIL-50", option1: "50 cm", stock: 0 }], image: true });
  await createProduct(t.deps, { title: "Draft Candle", status: "draft" });
  ({ origin, shutdown: stop } = await serve(t));
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await stop?.();
  await t?.close();
});

describe.each(["en", "fa"] as const)("admin products in %s", (lang) => {
  it("lists products, creates one with an uploaded image, and shows it saved", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = await watchProblems(page);
    await signInInBrowser(page, origin, admin.email, admin.password, lang);

    await page.goto(`${origin}/shop/admin/products?lang=${lang}`);
    expect(await page.getAttribute("html", "dir")).toBe(lang === "fa" ? "rtl" : "ltr");
    expect(await page.locator("tbody tr").count()).toBeGreaterThanOrEqual(2);
    await screenshot(page, `admin-products-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);

    await page.goto(`${origin}/shop/admin/products/new?lang=${lang}`);
    await page.locator("#title").fill(`Turquoise Bowl ${lang}`);
    await page.locator("#status").selectOption("active");
    await page.locator('input[name="option1Name"]').fill("Size");
    await page.locator("#variants-0-sku").fill(`BWL-S-${lang}`);
    await page.locator("#variants-0-option1").fill("Small");
    await page.locator("#variants-0-price").fill("24.00");
    await page.locator("#variants-0-stock").fill("5");
    await page.locator("#variants-1-sku").fill(`BWL-L-${lang}`);
    await page.locator("#variants-1-option1").fill("Large");
    await page.locator("#variants-1-price").fill("36.00");
    await page.locator("#variants-1-stock").fill("2");
    await page.locator('input[name="collections"][value="ceramics"]').check();
    await page.locator("#newImages").setInputFiles({ name: "bowl.jpg", mimeType: "image/jpeg", buffer: await testImage({ color: "#1b998b" }) });
    expect(await accessibilityViolations(page)).toEqual([]);
    await Promise.all([page.waitForURL(/saved=1/), page.locator(".form-actions button").click()]);

    expect(await page.locator(".alert--ok").innerText()).toBeTruthy();
    expect(await page.locator(".image-row img").count()).toBe(1);
    await screenshot(page, `admin-product-saved-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);

    // A refused form points at the field to fix.
    await page.locator("#variants-0-price").fill("24.999");
    await page.locator(".form-actions button").click();
    await page.waitForSelector("#form-problems");
    expect(await page.locator("#variants-0-price").getAttribute("aria-invalid")).toBe("true");
    await screenshot(page, `admin-product-error-${lang}`);

    expect(problems.csp).toEqual([]);
    // The refused form answers 400, which Chromium logs as a failed resource: expected here.
    expect(problems.console.filter((m) => !m.includes("status of 400"))).toEqual([]);
    await context.close();
  });
});
