import { describe, expect, it } from "vitest";
import { accessibilityViolations, screenshot, useBrowserShop } from "../helpers/browser.js";
import { createProduct } from "../helpers/factories.js";

const shop = useBrowserShop({
  seed: async (t) => {
    await createProduct(t.deps, { title: "Kilim Cushion", optionNames: ["Size"], variants: [{ option1: "40 × 40 cm", stock: 8 }, { option1: "50 × 50 cm", stock: 0 }], image: true });
    await createProduct(t.deps, { title: "HANDMADE CLAY POT", description: "<p>Thrown on the <b>wheel</b>.</p>", image: true });
    await createProduct(t.deps, { title: "Photo-less Plate" });
    await createProduct(t.deps, { title: "Blue Mug ☕", variants: [{ gtin: "4006381333932" }], image: true });
  },
});

describe.each(["en", "fa"] as const)("Feed health in %s", (lang) => {
  it("shows the feed URLs, counts and problems with fixes, and sets a feed token", async () => {
    const { page, problems } = await shop.openAdmin(lang);

    await page.locator(`.admin-nav a[href="/shop/admin/feeds"]`).click();
    await page.waitForURL(/\/shop\/admin\/feeds$/);
    expect(await page.getAttribute("html", "dir")).toBe(lang === "fa" ? "rtl" : "ltr");
    expect(await page.locator("#feed-platforms tbody tr").count()).toBe(4);
    expect(await page.locator('[data-platform="google"] .feed-url').innerText()).toBe(`${shop.origin}/shop/feeds/google.xml`);
    // The all-caps pot is out of TikTok only; the photo-less plate and the bad GTIN everywhere.
    expect(await page.locator('#feed-problems tr[data-rule="title_all_caps"][data-platform="tiktok"]').count()).toBe(1);
    expect(await page.locator('#feed-problems tr[data-rule="image_missing"]').count()).toBe(4);
    expect(await page.locator('#feed-problems tr[data-rule="gtin_invalid"]').count()).toBe(4);
    expect(await page.locator("#feed-problems tbody tr").first().locator("td").nth(5).innerText()).not.toBe("");
    await screenshot(page, `admin-feeds-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);

    // Require a token: the URLs to paste now carry it, and the feed needs it.
    await Promise.all([page.waitForURL(/done=rotated/), page.locator('form[action$="/admin/feeds/token"] button').click()]);
    const url = await page.locator('[data-platform="meta"] .feed-url').innerText();
    expect(url).toMatch(/\/shop\/feeds\/meta\.csv\?token=[\w-]{43}$/);
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(url.replace(/\?.*$/, ""))).status).toBe(401);
    await screenshot(page, `admin-feeds-token-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);

    await Promise.all([page.waitForURL(/done=cleared/), page.locator('form[action$="/admin/feeds/token/clear"] button').click()]);
    expect(await page.locator('[data-platform="meta"] .feed-url').innerText()).toBe(`${shop.origin}/shop/feeds/meta.csv`);

    expect(problems.csp).toEqual([]);
    expect(problems.console).toEqual([]);
  });
});
