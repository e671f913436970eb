import { describe, expect, it } from "vitest";
import { updateReviewSettings } from "../../src/reviews/settings.js";
import { accessibilityViolations, screenshot, useBrowserShop } from "../helpers/browser.js";
import { createProduct, testImage } from "../helpers/factories.js";

const shop = useBrowserShop({
  // Every review waits for the admin here, so the test walks the whole path.
  seed: async (t) => {
    await updateReviewSettings(t.deps, { patch: { autoPublish: false }, actor: { type: "system" } });
  },
});

const copy = {
  en: { title: "Glaze <script>alert(1)</script> deeper than the photos", body: "Heavy, warm in the hand, and the blue is deeper than in the photos.\nWould buy again.", name: "Mina K.", reply: "Thank you, Mina! The blue batch is back next week." },
  fa: { title: "رنگ لعاب زیباتر از عکس است", body: "سنگین است و گرما را خوب نگه می‌دارد.\nدوباره می‌خرم.", name: "مینا ک.", reply: "سپاس مینا جان! سری آبی هفتهٔ بعد دوباره می‌رسد." },
} as const;

describe.each(["en", "fa"] as const)("reviews in %s", (lang) => {
  it("a shopper writes a review with a photo; the admin publishes and replies; the product page shows it", async () => {
    const product = await createProduct(shop.t.deps, { title: `Stoneware Mug ${lang}`, titleFa: "ماگ سنگی", image: true });
    const c = copy[lang];

    // The shopper.
    const { page, problems } = await shop.open();
    page.on("dialog", (d) => {
      problems.console.push(`dialog opened: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(`${shop.origin}/shop/p/${product.slug}?lang=${lang}`);
    expect(await page.getAttribute("html", "dir")).toBe(lang === "fa" ? "rtl" : "ltr");
    await Promise.all([page.waitForURL(/\/reviews\/new$/), page.locator(".reviews__score a.button").click()]);
    expect(await page.locator(".review-page .lead").innerText()).toBe(lang === "fa" ? "ماگ سنگی" : `Stoneware Mug ${lang}`);
    await page.locator(".rating-input__option").filter({ has: page.locator('input[value="4"]') }).click();
    await page.locator("#review-title").fill(c.title);
    await page.locator("#review-body").fill(c.body);
    await page.locator("#review-name").fill(c.name);
    await page.locator("#review-photos").setInputFiles({ name: "mug.jpg", mimeType: "image/jpeg", buffer: await testImage({ color: "#1d4e89", exif: true }) });
    await screenshot(page, `review-write-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);
    await Promise.all([page.waitForURL(/review=pending#reviews$/), page.locator(".review-form button[type=submit]").click()]);
    expect(await page.locator(".reviews .alert--ok").innerText()).toBeTruthy();
    expect(await page.locator(".review").count()).toBe(0);

    // The admin.
    const { page: adminPage, problems: adminProblems } = await shop.openAdmin(lang);
    await adminPage.goto(`${shop.origin}/shop/admin/reviews?lang=${lang}`);
    const item = adminPage.locator(".admin-review").filter({ hasText: c.name });
    await item.waitFor();
    expect(await item.locator(".review__photos img").count()).toBe(1);
    await screenshot(adminPage, `review-admin-queue-${lang}`);
    expect(await accessibilityViolations(adminPage)).toEqual([]);
    await Promise.all([adminPage.waitForURL(/done=publish/), item.locator("form.inline button").click()]);

    await adminPage.goto(`${shop.origin}/shop/admin/reviews?status=published&lang=${lang}`);
    await Promise.all([adminPage.waitForURL(/\/admin\/reviews\/\w+$/), adminPage.locator(".admin-review").filter({ hasText: c.name }).locator(".admin-review__product a").first().click()]);
    await adminPage.locator("#reply-body").fill(c.reply);
    await Promise.all([adminPage.waitForURL(/done=reply/), adminPage.locator("section.panel form button[type=submit]").click()]);
    expect(await adminPage.locator(".history li").count()).toBeGreaterThanOrEqual(2);
    await screenshot(adminPage, `review-admin-detail-${lang}`);
    expect(await accessibilityViolations(adminPage)).toEqual([]);
    await adminPage.goto(`${shop.origin}/shop/admin/reviews/audit?lang=${lang}`);
    expect(await adminPage.locator("tbody tr").count()).toBeGreaterThanOrEqual(2);
    await screenshot(adminPage, `review-admin-audit-${lang}`);
    expect(await accessibilityViolations(adminPage)).toEqual([]);
    await adminPage.goto(`${shop.origin}/shop/admin/reviews/settings?lang=${lang}`);
    await screenshot(adminPage, `review-admin-settings-${lang}`);
    expect(await accessibilityViolations(adminPage)).toEqual([]);

    // The product page, as anyone sees it now.
    await page.goto(`${shop.origin}/shop/p/${product.slug}?lang=${lang}`);
    const review = page.locator(".review").first();
    expect(await review.locator(".review__title").innerText()).toBe(c.title);
    expect(await review.locator(".review__body").innerText()).toBe(c.body);
    expect(await review.locator(".review__photos img").count()).toBe(1);
    expect(await review.locator(".review__reply-body").innerText()).toBe(c.reply);
    expect(await page.locator(".histogram__row").count()).toBe(5);
    expect(await page.locator(".reviews__number").innerText()).toBe(lang === "fa" ? "۴" : "4");
    const ld = JSON.parse((await page.locator('script[type="application/ld+json"]').textContent())!) as { review: { reviewBody: string }[]; aggregateRating: { reviewCount: number } };
    expect(ld.aggregateRating.reviewCount).toBe(1);
    expect(ld.review[0]!.reviewBody).toBe(c.body);
    await screenshot(page, `review-product-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);

    // Helpful vote from the page.
    await Promise.all([page.waitForURL(/voted=1/), review.locator(".review__helpful button").click()]);
    expect(await page.locator(".review__helpful button").first().innerText()).toContain(lang === "fa" ? "۱" : "1");

    expect(problems.csp).toEqual([]);
    expect(problems.console).toEqual([]);
    expect(adminProblems.csp).toEqual([]);
    expect(adminProblems.console).toEqual([]);
  });
});
