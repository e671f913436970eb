/**
 * What a Persian-speaking shopper and owner see when people wrote in English:
 * each piece of user text runs left to right inside the right-to-left page,
 * and back arrows point back (right in Persian, left in English).
 * Screenshots land in test-results/screenshots/rtl-*.png.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../helpers/app.js";
import { launchBrowser, screenshot, serve, signInInBrowser, watchProblems } from "../helpers/browser.js";
import { seedUserContent } from "../helpers/user-content.js";

let t: TestApp;
let browser: Browser;
let origin: string;
let stop: () => Promise<void>;
let seeded: Awaited<ReturnType<typeof seedUserContent>>;

beforeAll(async () => {
  t = await buildTestApp({ locale: "fa", shopName: "Qz Studio" });
  seeded = await seedUserContent(t);
  ({ origin, shutdown: stop } = await serve(t));
  browser = await launchBrowser();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stop?.();
  await t?.close();
});

/** The computed direction of each element matching `selector` that holds English user text ("Qz…"). */
const directions = (page: Page, selector: string) =>
  page.locator(selector).evaluateAll((els) => els.filter((el) => /qz/i.test(el.textContent ?? "")).map((el) => getComputedStyle(el).direction));

describe("English user text on Persian pages", () => {
  it("product page: review, name, reply, question and answer each run left to right; the page stays right to left", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const problems = await watchProblems(page);
    await page.goto(`${origin}/shop/p/${seeded.slug}?lang=fa`, { waitUntil: "networkidle" });
    expect(await page.evaluate(() => getComputedStyle(document.body).direction)).toBe("rtl");
    for (const selector of [".product__title", ".review__title", ".review__body", ".review__by bdi", ".review__reply-body", ".question__q bdi", ".variant__label"]) {
      const found = await directions(page, selector);
      expect(found.length, selector).toBeGreaterThan(0);
      expect(new Set(found), selector).toEqual(new Set(["ltr"]));
    }
    // "Qz Great!": the exclamation mark is the right-most character, where English puts it.
    const box = await page.locator(".review__title").evaluate((el) => {
      const range = document.createRange();
      const text = el.firstChild!;
      range.setStart(text, text.textContent!.length - 1);
      range.setEnd(text, text.textContent!.length);
      const bang = range.getBoundingClientRect();
      const all = el.getBoundingClientRect();
      return { bangRight: bang.right, textRight: all.left + (el as HTMLElement).scrollWidth };
    });
    expect(box.bangRight).toBeGreaterThan(box.textRight - 12);
    await page.locator("#reviews").scrollIntoViewIfNeeded();
    await screenshot(page, "rtl-product-fa-390");
    expect(problems.console).toEqual([]);
    await context.close();
  });

  it("back links point back in each direction", async () => {
    const page = await browser.newPage();
    for (const [lang, arrow] of [["fa", "→"], ["en", "←"]] as const) {
      await page.goto(`${origin}/shop/p/${seeded.slug}/reviews/new?lang=${lang}`);
      const before = await page.locator(".back-link").evaluate((el) => getComputedStyle(el, "::before").content);
      expect(before, lang).toContain(arrow);
    }
    await screenshot(page, "rtl-write-review-en");
    await page.close();
  });

  it("cart, order confirmation (address) and admin lists in Persian", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${origin}${seeded.orderPath}&lang=fa`);
    expect(new Set(await directions(page, "address bdi"))).toEqual(new Set(["ltr"]));
    expect(await page.locator("address").innerText()).toContain("ایتالیا");
    await screenshot(page, "rtl-order-fa");
    await signInInBrowser(page, origin, seeded.adminLogin.email, seeded.adminLogin.password, "fa");
    for (const [path, selector, name] of [
      ["/shop/admin/reviews?status=all&lang=fa", ".admin-review__body", "rtl-admin-reviews-fa"],
      ["/shop/admin/orders?lang=fa", "td bdi", "rtl-admin-orders-fa"],
      [`/shop/admin/orders/${seeded.orderId}?lang=fa`, "#order-address bdi", "rtl-admin-order-fa"],
    ] as const) {
      await page.goto(`${origin}${path}`);
      const found = await directions(page, selector);
      expect(found.length, path).toBeGreaterThan(0);
      expect(new Set(found), path).toEqual(new Set(["ltr"]));
      await screenshot(page, name);
    }
    await context.close();
  });
});
