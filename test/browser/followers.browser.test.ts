import { describe, expect, it } from "vitest";
import { accessibilityViolations, screenshot, useBrowserShop } from "../helpers/browser.js";
import { createProduct } from "../helpers/factories.js";
import { confirmationLinkFor, makeCoupon } from "../helpers/followers.js";

let productSlug: string;
const shop = useBrowserShop({
  app: { shopName: "Bazaarche Demo" },
  seed: async (t) => {
    const p = await createProduct(t.deps, { title: "Kilim Cushion", titleFa: "روکش کوسن گلیمی", variants: [{ priceMinor: 4500, stock: 8 }], image: true });
    productSlug = p.slug;
    await makeCoupon(t.deps, { code: "FOLLOWERS10", percentOff: 10, followersOnly: true, description: "10% for followers" });
  },
});

describe.each(["en", "fa"] as const)("follower offers in %s", (lang) => {
  it("follows, confirms by email link, and uses a follower-only code in the cart", async () => {
    const { page, problems } = await shop.open();

    // A shopper who is not a follower is told exactly why the code does not work.
    await page.goto(`${shop.origin}/shop/p/${productSlug}?lang=${lang}`);
    await Promise.all([page.waitForURL(/\/cart$/), page.locator(".add-to-cart__button").click()]);
    await page.locator("#coupon-code").fill("followers10");
    await page.locator(".coupon-form button").click();
    await page.waitForSelector("#coupon-error");
    expect(await page.locator("#coupon-error").innerText()).toContain("FOLLOWERS10");
    await screenshot(page, `cart-coupon-refused-${lang}`);

    await page.goto(`${shop.origin}/shop/follow?lang=${lang}`);
    expect(await page.getAttribute("html", "dir")).toBe(lang === "fa" ? "rtl" : "ltr");
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.locator("#follow-platform").selectOption("instagram");
    await page.locator("#follow-handle").fill(`@browser.${lang}`);
    await page.locator("#follow-email").fill(`browser-${lang}@example.com`);
    await page.locator('input[name="consent"]').check();
    await page.locator('form[action$="/follow"] button').click();
    await page.waitForSelector("#follow-sent");
    await screenshot(page, `follow-sent-${lang}`);

    await page.goto(`${shop.origin}${await confirmationLinkFor(shop.t.deps, `browser-${lang}@example.com`)}`);
    await page.waitForSelector("#follow-done");
    expect(await page.locator("#follow-done").innerText()).toContain(`browser.${lang}`);

    await page.goto(`${shop.origin}/shop/cart?lang=${lang}`);
    await page.locator("#coupon-code").fill("followers10");
    await Promise.all([page.waitForURL(/\/cart$/), page.locator(".coupon-form button").click()]);
    expect(await page.locator("#cart-discount").innerText()).toMatch(lang === "fa" ? /۴٫۵۰/ : /\$4\.50/);
    expect(await page.locator(".follower-note").innerText()).toContain(`browser.${lang}`);
    await screenshot(page, `cart-coupon-applied-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);

    expect(problems.csp).toEqual([]);
    expect(problems.console.filter((m) => !m.includes("status of 422"))).toEqual([]);
  });

  it("the admin sees the follower and the coupon's report", async () => {
    const { page, problems } = await shop.openAdmin(lang);
    await page.goto(`${shop.origin}/shop/admin/followers?lang=${lang}`);
    expect(await page.locator("tbody").innerText()).toContain(`browser.${lang}`);
    await screenshot(page, `admin-followers-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.goto(`${shop.origin}/shop/admin/coupons?lang=${lang}`);
    await page.locator('a:has-text("FOLLOWERS10")').click();
    await page.waitForSelector("#report-committed");
    await screenshot(page, `admin-coupon-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(problems.csp).toEqual([]);
    expect(problems.console).toEqual([]);
  });
});
