import { describe, expect, it } from "vitest";
import { accessibilityViolations, screenshot, useBrowserShop } from "../helpers/browser.js";
import { createProduct, testImage } from "../helpers/factories.js";

const shop = useBrowserShop({
  seed: async (t) => {
    await t.db.collection.create({ data: { slug: "ceramics", title: "Ceramics" } });
    await createProduct(t.deps, { title: "Kilim Cushion", optionNames: ["Size"], variants: [{ sku: "KIL-40", option1: "40 cm", stock: 8 }, { sku: "KIL-50", option1: "50 cm", stock: 0 }], image: true });
    await createProduct(t.deps, { title: "Draft Candle", status: "draft" });
  },
});

describe.each(["en", "fa"] as const)("admin products in %s", (lang) => {
  it("lists products, creates one with an uploaded image, and shows it saved", async () => {
    const { page, problems } = await shop.openAdmin(lang);

    await page.goto(`${shop.origin}/shop/admin/products?lang=${lang}`);
    expect(await page.getAttribute("html", "dir")).toBe(lang === "fa" ? "rtl" : "ltr");
    expect(await page.locator("tbody tr").count()).toBeGreaterThanOrEqual(2);
    await screenshot(page, `admin-products-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);

    await page.goto(`${shop.origin}/shop/admin/products/new?lang=${lang}`);
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
  });
});
