import { describe, expect, it } from "vitest";
import { accessibilityViolations, screenshot, useBrowserShop } from "../helpers/browser.js";

const shop = useBrowserShop({ app: { shopName: "Bazaarche Demo" }, demo: true });

const pages = [
  { name: "home", path: "/shop/" },
  { name: "product", path: "/shop/p/block-print-scarf" },
];

describe.each(["en", "fa"] as const)("storefront in %s", (lang) => {
  for (const { name, path } of pages) {
    for (const viewport of [
      { label: "desktop", width: 1280, height: 900 },
      { label: "mobile", width: 390, height: 844 },
    ]) {
      it(`${name} (${viewport.label}) renders without console errors, CSP violations or accessibility failures`, async () => {
        const { page, problems } = await shop.open({ viewport, deviceScaleFactor: 1 });
        const response = await page.goto(`${shop.origin}${path}?lang=${lang}`, { waitUntil: "networkidle" });
        expect(response?.status()).toBe(200);

        expect(await page.getAttribute("html", "dir")).toBe(lang === "fa" ? "rtl" : "ltr");
        expect(await page.getAttribute("html", "lang")).toBe(lang);
        if (lang === "fa") {
          const price = await page.locator(name === "home" ? ".card__price" : ".price__now").first().innerText();
          expect(price).toMatch(/[۰-۹]/);
          // The Persian webfont is really in use, not a fallback.
          expect(await page.evaluate(() => document.fonts.check("16px Vazirmatn", "سلام"))).toBe(true);
        }
        // Every image loaded.
        const broken = await page.$$eval("img", (imgs) => imgs.filter((i) => (i as HTMLImageElement).loading !== "lazy" && !(i as HTMLImageElement).naturalWidth).map((i) => (i as HTMLImageElement).src));
        expect(broken).toEqual([]);
        // Nothing runs off the side of a phone screen.
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);

        await screenshot(page, `${name}-${lang}-${viewport.label}`);
        expect(await accessibilityViolations(page)).toEqual([]);
        expect(problems.csp).toEqual([]);
        expect(problems.console).toEqual([]);
      });
    }
  }

  it("variant choice loads the chosen variant's price and stock", async () => {
    const { page, problems } = await shop.open();
    await page.goto(`${shop.origin}/shop/p/walnut-serving-board?lang=${lang}`);
    await page.getByRole("radio").nth(2).check();
    await page.waitForURL(/variant=/);
    expect(await page.locator('input[name="variant"]:checked').evaluate((el) => (el as HTMLInputElement).value)).toBeTruthy();
    const price = await page.locator(".price__now").innerText();
    expect(price).toMatch(lang === "fa" ? /۶۲/ : /\$62\.00/);
    await screenshot(page, `product-variant-${lang}`);
    expect(problems.console).toEqual([]);
  });
});
