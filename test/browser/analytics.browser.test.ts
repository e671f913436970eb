import type { Browser, Page } from "playwright-core";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyticsJobs } from "../../src/analytics/analytics.jobs.js";
import { flushEvents } from "../../src/analytics/events.js";
import { formatMoney } from "../../src/i18n/format.js";
import { buildTestApp, type TestApp } from "../helpers/app.js";
import { accessibilityViolations, launchBrowser, screenshot, serve, signInInBrowser, watchProblems } from "../helpers/browser.js";
import { createAdmin, createProduct } from "../helpers/factories.js";
import { csrfFrom } from "../helpers/html.js";
import { TEST_ADDRESS } from "../helpers/orders.js";
import { createLink, createPost } from "../helpers/post-factories.js";

/**
 * The dashboard in a real browser, at phone and desktop sizes, in English and
 * Persian: three weeks of purchases through tracked links (made over HTTP
 * with a moving clock, then rolled up), today's live, the chart, the data
 * table behind one tap, the copy buttons, no horizontal scrolling at 390 px,
 * no CSP or console errors, and axe's WCAG checks.
 */
const DAY = 86_400_000;
const NOW = Date.parse("2026-11-20T15:00:00Z");
let clock = NOW - 21 * DAY;
let t: TestApp;
let browser: Browser;
let origin: string;
let stop: () => Promise<void>;
let admin: { email: string; password: string };
let revenue30 = 0;
let orders30 = 0;
let linkId = "";
const UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36";

beforeAll(async () => {
  t = await buildTestApp({ now: () => new Date(clock), shopName: "Tea & Clay" });
  admin = await createAdmin(t.deps);
  const products = [
    await createProduct(t.deps, { title: "Turquoise Mug", slug: "mug", titleFa: "ماگ فیروزه‌ای", variants: [{ priceMinor: 2800, stock: 500 }] }),
    await createProduct(t.deps, { title: "Walnut Serving Bowl with a very long name for narrow screens", slug: "bowl", titleFa: "کاسهٔ سرو گردویی", variants: [{ priceMinor: 4500, stock: 500 }] }),
    await createProduct(t.deps, { title: "Saffron Vase", slug: "vase", titleFa: "گلدان زعفرانی", variants: [{ priceMinor: 7400, stock: 500 }] }),
  ];
  const ig = await createPost(t.deps, { platform: "instagram", caption: "Glazing day: turquoise or cobalt? Tap to shop the mugs." });
  const tt = await createPost(t.deps, { platform: "tiktok", caption: "Turning a walnut bowl, start to finish" });
  const live = await t.db.liveSession.create({ data: { title: "Friday pottery live", code: "friday", hostName: "Sara", platform: "instagram", startsAt: new Date(clock) } });
  const links = [
    await createLink(t.deps, { code: "ig-story", targetType: "post", postId: ig.id, channel: "instagram-story" }),
    await createLink(t.deps, { code: "tt-bio", targetType: "post", postId: tt.id, channel: "tiktok-bio" }),
    await createLink(t.deps, { code: "live-bowl", targetType: "product", productId: products[1]!.id, liveSessionId: live.id, channel: "instagram-live", hostName: "Sara" }),
    null,
  ];
  linkId = links[0]!.id;
  let n = 0;
  for (let day = 21; day >= 0; day--) {
    for (let k = 0; k < 1 + ((day * 7) % 4); k++) {
      clock = NOW - day * DAY - (3 + k) * 3_600_000;
      const link = links[(day + k) % links.length];
      const product = products[(day + 2 * k) % products.length]!;
      const qty = 1 + ((day + k) % 2);
      const agent = request.agent(t.app);
      agent.set("User-Agent", `${UA} ${++n}`);
      if (link) await agent.get(`/shop/l/${link.code}`).expect(302);
      await agent.get(`/shop/p/${product.slug}`).expect(200);
      const csrf = csrfFrom((await agent.get("/shop/cart").expect(200)).text);
      await agent.post("/shop/cart/items").type("form").send({ _csrf: csrf, variantId: product.variants[0]!.id, quantity: qty }).expect(303);
      const started = await agent.post("/shop/checkout").type("form").send({ _csrf: csrf }).expect(303);
      if ((day + k) % 5 === 4) continue; // an abandoned checkout now and then
      const pay = new URL(started.headers.location!);
      await agent.post(pay.pathname + pay.search).type("form").send({ _csrf: csrf, action: "pay", shipping: "standard", ...TEST_ADDRESS }).expect(303);
      if (day <= 29) {
        revenue30 += product.variants[0]!.priceMinor * qty + 500;
        orders30 += 1;
      }
    }
  }
  await t.db.review.createMany({ data: [5, 4, 5, 3].map((rating, i) => ({ productId: products[0]!.id, rating, displayName: "Buyer", status: "published", verifiedBuyer: i % 2 === 0, createdAt: new Date(NOW - (i * 9 + 1) * DAY) })) });
  clock = NOW;
  await flushEvents(t.deps);
  await analyticsJobs()[0]!.run(t.deps, { signal: new AbortController().signal, progress: async () => {} });
  ({ origin, shutdown: stop } = await serve(t));
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await stop?.();
  await t?.close();
});

async function openDashboard(lang: "en" | "fa", viewport: { width: number; height: number }) {
  const context = await browser.newContext({ viewport, userAgent: UA, permissions: ["clipboard-read", "clipboard-write"] });
  const page = await context.newPage();
  const problems = await watchProblems(page);
  await signInInBrowser(page, origin, admin.email, admin.password, lang);
  await page.goto(`${origin}/shop/admin?lang=${lang}`);
  return { page, problems, context };
}

const noSideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe.each([
  ["en", "desktop", { width: 1280, height: 900 }],
  ["en", "phone", { width: 390, height: 844 }],
  ["fa", "desktop", { width: 1280, height: 900 }],
  ["fa", "phone", { width: 390, height: 844 }],
] as const)("the dashboard in %s on a %s", (lang, size, viewport) => {
  it("shows the month's figures, a readable chart with its table one tap away, and passes the accessibility checks", async () => {
    const { page, problems, context } = await openDashboard(lang, viewport);
    expect(await page.getAttribute("html", "dir")).toBe(lang === "fa" ? "rtl" : "ltr");
    // The default range is 30 days; every purchase was within it.
    await expect.poll(() => page.locator('[data-kpi="revenue"] [data-value]').innerText()).toBe(formatMoney(revenue30, "USD", lang));
    expect(await page.locator('[data-kpi="orders"] [data-value]').innerText()).toBe(new Intl.NumberFormat(lang === "fa" ? "fa-IR" : "en-US").format(orders30));
    expect(await page.locator("#revenue-chart rect.chart__bar").count()).toBe(30);
    expect(await page.locator("#revenue-chart svg").getAttribute("aria-labelledby")).toBe("revenue-chart-title revenue-chart-summary");
    expect(await noSideways(page)).toBeLessThanOrEqual(0);
    // Charts scale with the page and keep their labels as text.
    const plot = await page.locator("#revenue-chart svg").boundingBox();
    expect(plot!.width).toBeGreaterThan(viewport.width * 0.5);
    if (lang === "fa") expect(await page.locator("#revenue-chart .chart__x").innerText()).not.toMatch(/[0-9]/);

    await expect.poll(() => page.locator("#revenue-table").isVisible()).toBe(false);
    await page.locator("#revenue-chart details summary").click();
    await expect.poll(() => page.locator("#revenue-table").isVisible()).toBe(true);
    expect(await page.locator("#revenue-table tbody tr").count()).toBe(30);

    // The top tables: on a phone each row is a card with labelled figures.
    const firstLink = page.locator(`#top-link tr[data-key="${linkId}"]`);
    await expect.poll(() => firstLink.isVisible()).toBe(true);
    if (size === "phone") {
      const cell = await firstLink.locator('[data-col="clicks"]').boundingBox();
      expect(cell!.width).toBeLessThan(viewport.width / 2);
    }
    await screenshot(page, `analytics-dashboard-${lang}-${size}`);
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(problems).toEqual({ console: [], csp: [] });
    await context.close();
  });
});

describe("the onboarding checklist and an object's figures", () => {
  it("copies a feed URL with one tap and ticks it", async () => {
    const { page, problems, context } = await openDashboard("en", { width: 390, height: 844 });
    const copy = page.locator('button[data-copy="feed-url-google"]');
    await copy.click();
    await expect.poll(() => copy.innerText()).toBe("Copied");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${origin}/shop/feeds/google.xml`);
    await Promise.all([page.waitForURL(/#onboarding$/), page.locator('[data-feed="google"] form button').click()]);
    await expect.poll(() => page.locator('[data-feed="google"] button[aria-pressed="true"]').count()).toBe(1);
    await screenshot(page, "analytics-onboarding-en-phone");
    expect(problems).toEqual({ console: [], csp: [] });
    await context.close();
  });

  it.each(["en", "fa"] as const)("a tracked link's page shows its funnel in %s on a phone", async (lang) => {
    const { page, problems, context } = await openDashboard(lang, { width: 390, height: 844 });
    await page.goto(`${origin}/shop/admin/links/${linkId}?range=30d&lang=${lang}`);
    await expect.poll(() => page.locator("#figures .funnel .bar-list__row").count()).toBe(5);
    expect(await noSideways(page)).toBeLessThanOrEqual(0);
    await page.locator("#figures").scrollIntoViewIfNeeded();
    await screenshot(page, `analytics-link-figures-${lang}-phone`);
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(problems).toEqual({ console: [], csp: [] });
    await context.close();
  });
});
