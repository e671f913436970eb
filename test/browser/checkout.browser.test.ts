import type { Page } from "playwright-core";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { storeImage } from "../../src/media/media.service.js";
import { accessibilityViolations, screenshot as takeScreenshot, useBrowserShop, type PageProblems } from "../helpers/browser.js";

/**
 * The main flow of issue 6 in a real browser, in English and Persian: a
 * shopper buys through the local payment page (express shipping), then the
 * admin opens the order and refunds part of it.
 */

/** A product photo drawn for the test: a glazed mug on a linen backdrop (SVG rendered by sharp). */
function mugPhoto(glaze: string, rim: string) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="1200" viewBox="0 0 1200 1200">
    <defs>
      <linearGradient id="bg" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#f3ece2"/><stop offset="1" stop-color="#e2d6c6"/></linearGradient>
      <linearGradient id="glaze" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="${glaze}" stop-opacity="0.85"/><stop offset="0.45" stop-color="${glaze}"/><stop offset="1" stop-color="#0b3b3e"/></linearGradient>
      <radialGradient id="shadow" cx="0.5" cy="0.5" r="0.5"><stop offset="0" stop-color="#7a6a58" stop-opacity="0.45"/><stop offset="1" stop-color="#7a6a58" stop-opacity="0"/></radialGradient>
    </defs>
    <rect width="1200" height="1200" fill="url(#bg)"/>
    <rect y="820" width="1200" height="380" fill="#d8c9b5"/>
    <ellipse cx="600" cy="905" rx="330" ry="48" fill="url(#shadow)"/>
    <path d="M830 470 C 990 470, 1000 720, 830 730" fill="none" stroke="${glaze}" stroke-width="54" stroke-linecap="round"/>
    <path d="M360 400 L 840 400 L 815 860 Q 600 920 385 860 Z" fill="url(#glaze)"/>
    <ellipse cx="600" cy="400" rx="240" ry="46" fill="${rim}"/>
    <ellipse cx="600" cy="404" rx="214" ry="34" fill="#3b2a1e"/>
    <path d="M380 560 Q 600 600 822 560" fill="none" stroke="#ffffff" stroke-opacity="0.25" stroke-width="10"/>
  </svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 88 }).toBuffer();
}

const shop = useBrowserShop({
  app: { shopName: "Bazaarche Demo" },
  seed: async (t) => {
    const media = await storeImage(t.deps, { bytes: await mugPhoto("#1b8a8f", "#e9f4f2"), alt: "Turquoise glazed mug on linen" });
    await t.db.product.create({
      data: {
        slug: "turquoise-mug",
        title: "Turquoise Ceramic Mug",
        description: "Wheel-thrown stoneware with a deep turquoise glaze. Holds 350 ml.\nDishwasher safe.",
        brand: "Clay & Kiln",
        status: "active",
        optionNames: JSON.stringify(["Size"]),
        translations: { create: [{ locale: "fa", title: "ماگ سرامیکی فیروزه‌ای", description: "سفال دست‌ساز با لعاب فیروزه‌ای. گنجایش ۳۵۰ میلی‌لیتر." }] },
        images: { create: [{ mediaId: media.id, alt: "Turquoise glazed mug on linen", position: 0 }] },
        variants: { create: [{ sku: "MUG-TQ-350", option1: "350 ml", priceMinor: 2400, currency: "USD", stock: 12, position: 0 }] },
      },
    });
  },
});

/** Full-page screenshots from the top, so the sticky header is where a shopper sees it. */
async function screenshot(page: Page, name: string) {
  await page.evaluate(() => window.scrollTo(0, 0));
  return takeScreenshot(page, name);
}

async function expectClean(page: Page, problems: PageProblems) {
  expect(await accessibilityViolations(page)).toEqual([]);
  expect(problems.csp).toEqual([]);
  expect(problems.console).toEqual([]);
  // Nothing runs off the side of the screen.
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
}

const shoppers = {
  en: { email: "maya@example.com", name: "Maya Lopez", line1: "48 Harbor Street", city: "Portland", postalCode: "97201", country: "US" },
  fa: { email: "sara@example.com", name: "سارا احمدی", line1: "خیابان ولیعصر، پلاک ۱۲", city: "تهران", postalCode: "1434843111", country: "IR" },
};

describe.each(["en", "fa"] as const)("checkout in %s", (lang) => {
  let orderPath = "";

  it("a shopper adds the mug to the cart, pays on the local payment page with express shipping and sees the confirmation", async () => {
    const { page, problems } = await shop.open({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });

    await page.goto(`${shop.origin}/shop/p/turquoise-mug?lang=${lang}`, { waitUntil: "networkidle" });
    expect(await page.getAttribute("html", "dir")).toBe(lang === "fa" ? "rtl" : "ltr");
    const add = page.locator(".add-to-cart__button");
    expect(await add.innerText()).toBe(lang === "fa" ? "افزودن به سبد" : "Add to cart");
    await screenshot(page, `checkout-1-product-${lang}`);
    await expectClean(page, problems);

    await Promise.all([page.waitForURL(/\/shop\/cart$/), add.click()]);
    expect(await page.locator(".cart-line").count()).toBe(1);
    expect(await page.locator(".cart-link").innerText()).toContain(lang === "fa" ? "۱" : "1");
    await page.locator("#checkout-email").fill(shoppers[lang].email);
    await screenshot(page, `checkout-2-cart-${lang}`);
    await expectClean(page, problems);

    await Promise.all([page.waitForURL(/\/shop\/pay\/loc_/), page.locator(`form[action$="/checkout"] button[type=submit]`).click()]);
    expect(await page.locator("#pay-email").inputValue()).toBe(shoppers[lang].email);
    const s = shoppers[lang];
    await page.locator("#pay-name").fill(s.name);
    await page.locator("#pay-line1").fill(s.line1);
    await page.locator("#pay-city").fill(s.city);
    await page.locator("#pay-postal").fill(s.postalCode);
    // A list of country names in the page's language, not a typed code.
    expect(await page.locator("#pay-country option[value='DE']").innerText()).toBe(lang === "fa" ? "آلمان" : "Germany");
    await page.locator("#pay-country").selectOption(s.country);
    await page.locator('input[name="shipping"][value="express"]').check();
    await screenshot(page, `checkout-3-pay-${lang}`);
    await expectClean(page, problems);

    await Promise.all([page.waitForURL(/\/shop\/orders\/[^/?]+\?key=/), page.locator('button[value="pay"]').click()]);
    expect(await page.locator("#order-status").innerText()).toBe(lang === "fa" ? "پرداخت‌شده" : "Paid");
    // $24.00 + express $15.00.
    expect(await page.locator("#order-total").innerText()).toMatch(lang === "fa" ? /۳۹[٫.]۰۰/ : /^\$39\.00$/);
    expect(await page.locator("address").innerText()).toContain(s.name);
    expect(await page.locator(".cart-link").innerText()).toContain(lang === "fa" ? "۰" : "0");
    await screenshot(page, `checkout-4-confirmation-${lang}`);
    await expectClean(page, problems);
    orderPath = new URL(page.url()).pathname;
  });

  it("the payment page works on a phone", async () => {
    const { page, problems } = await shop.open({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    await page.goto(`${shop.origin}/shop/p/turquoise-mug?lang=${lang}`);
    await Promise.all([page.waitForURL(/\/shop\/cart$/), page.locator(".add-to-cart__button").click()]);
    await screenshot(page, `checkout-cart-mobile-${lang}`);
    await expectClean(page, problems);
    await Promise.all([page.waitForURL(/\/shop\/pay\/loc_/), page.locator(`form[action$="/checkout"] button[type=submit]`).click()]);
    await screenshot(page, `checkout-pay-mobile-${lang}`);
    await expectClean(page, problems);
    // Backing out returns to the cart, which still has the mug.
    await Promise.all([page.waitForURL(/\/shop\/cart\?cancelled=1$/), page.locator('button[value="cancel"]').click()]);
    expect(await page.locator(".alert--ok").count()).toBe(1);
    expect(await page.locator(".cart-line").count()).toBe(1);
  });

  it("the admin opens the order and refunds part of it", async () => {
    expect(orderPath).toMatch(/^\/shop\/orders\//);
    const orderId = orderPath.split("/").pop()!;
    const { page, problems } = await shop.openAdmin(lang, { viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });

    await page.goto(`${shop.origin}/shop/admin/orders?lang=${lang}`);
    expect(await page.locator("tbody tr").count()).toBeGreaterThanOrEqual(1);
    await screenshot(page, `admin-orders-${lang}`);
    await expectClean(page, problems);

    await Promise.all([page.waitForURL(new RegExp(`/shop/admin/orders/${orderId}$`)), page.locator(`tbody a[href$="/admin/orders/${orderId}"]`).click()]);
    expect(await page.locator("#order-status").innerText()).toBe(lang === "fa" ? "پرداخت‌شده" : "Paid");
    expect(await page.locator("#order-address").innerText()).toContain(shoppers[lang].city);
    expect(await page.locator("#refund-amount").inputValue()).toBe("39.00");
    await screenshot(page, `admin-order-${lang}`);
    await expectClean(page, problems);

    await page.locator("#refund-amount").fill("15.00");
    await page.locator("#refund-reason").fill(lang === "fa" ? "ارسال سریع دیر رسید" : "Express delivery arrived late");
    await Promise.all([page.waitForURL(/done=refunded/), page.locator("#refund").click()]);
    expect(await page.locator("#order-done").count()).toBe(1);
    expect(await page.locator("#order-status").innerText()).toBe(lang === "fa" ? "بخشی بازپرداخت‌شده" : "Partially refunded");
    expect(await page.locator("#refund-amount").inputValue()).toBe("24.00");
    expect(await page.locator("#order-refunds").innerText()).toContain(lang === "fa" ? "ارسال سریع دیر رسید" : "Express delivery arrived late");
    await screenshot(page, `admin-order-refunded-${lang}`);
    await expectClean(page, problems);

    const order = await shop.t.db.order.findUniqueOrThrow({ where: { id: orderId } });
    expect(order).toMatchObject({ status: "partially_refunded", refundedMinor: 1500, totalMinor: 3900 });
  });
});
