/**
 * Shop owners run their shops from their phones. Every admin page, found by
 * crawling the admin's own menu and the links on its pages (so pages added
 * later are covered without a list to update), plus detail pages reached from
 * the lists, must fit a 390 px screen in English and Persian: nothing makes
 * the page scroll sideways, and no element sticks out of the screen unless a
 * scrolling box of its own holds it. The menu collapses behind a button that
 * works without JavaScript. Screenshots: test-results/screenshots/admin-390-*.png.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemoShop } from "../../src/seed/demo.js";
import { buildTestApp, type TestApp } from "../helpers/app.js";
import { launchBrowser, screenshot, serve, signInInBrowser, watchProblems } from "../helpers/browser.js";
import { crawlAdmin, pathPattern, withLang } from "../helpers/crawl.js";
import { seedUserContent } from "../helpers/user-content.js";

let t: TestApp;
let browser: Browser;
let origin: string;
let stop: () => Promise<void>;
let pages: string[] = [];
let login: { email: string; password: string };

beforeAll(async () => {
  t = await buildTestApp({ shopName: "Bazaarche Demo" });
  await seedDemoShop(t.deps);
  // Long, unbroken user text: the usual cause of pages wider than a phone.
  const seeded = await seedUserContent(t);
  await t.db.product.update({ where: { id: seeded.product.id }, data: { title: `Qz ${"Extraordinarily".repeat(6)} linen napkins` } });
  login = seeded.adminLogin;
  pages = await crawlAdmin({
    mount: "/shop",
    get: async (path) => {
      const res = await seeded.admin.get(path);
      return { status: res.status, type: String(res.headers["content-type"] ?? ""), body: res.text };
    },
  });
  ({ origin, shutdown: stop } = await serve(t));
  browser = await launchBrowser();
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await stop?.();
  await t?.close();
});

/** What sticks out of the screen: the page's own sideways scroll, and each element past an edge that no scrolling box clips. */
function overflowOf(page: Page) {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const scroll = document.scrollingElement!.scrollWidth;
    const clipped = (el: Element) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const style = getComputedStyle(p);
        if (style.overflowX !== "visible") {
          const box = p.getBoundingClientRect();
          if (box.left >= -1 && box.right <= width + 1) return true;
        }
      }
      return false;
    };
    const out: string[] = [];
    for (const el of Array.from(document.body.querySelectorAll("*"))) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      const style = getComputedStyle(el);
      if (style.position === "fixed" || style.visibility === "hidden") continue;
      if (box.right > width + 1 || box.left < -1) {
        if (clipped(el)) continue;
        // A visually hidden element (1 px, clipped) is not seen.
        if (box.width <= 1 && box.height <= 1) continue;
        const name = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${typeof el.className === "string" && el.className ? `.${el.className.split(/\s+/)[0]}` : ""}`;
        out.push(`${name} [${Math.round(box.left)}, ${Math.round(box.right)}]`);
      }
    }
    return { scroll, width, out: [...new Set(out)].slice(0, 8) };
  });
}

describe("the admin on a 390 px phone", () => {
  it("crawls the whole admin: every section from the menu, and detail pages behind the lists", () => {
    for (const section of ["products", "orders", "posts", "links", "feeds", "reviews", "coupons", "followers", "outbox", "tokens", "shop"]) {
      expect(pages.some((p) => p.startsWith(`/shop/admin/${section}`)), section).toBe(true);
    }
    for (const detail of ["/shop/admin/orders/:id", "/shop/admin/products/:id", "/shop/admin/posts/:id", "/shop/admin/reviews/:id", "/shop/admin/links/:id"]) {
      expect(pages.map(pathPattern), detail).toContain(detail);
    }
  });

  it.each(["en", "fa"] as const)("every page fits, in %s", async (lang) => {
    const context: BrowserContext = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, hasTouch: true });
    const page = await context.newPage();
    const problems = await watchProblems(page);
    await signInInBrowser(page, origin, login.email, login.password, lang);
    const wide: string[] = [];
    for (const path of pages) {
      const res = await page.goto(`${origin}${withLang(path, lang)}`, { waitUntil: "load" });
      expect(res?.status(), path).toBe(200);
      const { scroll, width, out } = await overflowOf(page);
      if (scroll > width + 1 || out.length > 0) wide.push(`${path}: page ${scroll} px wide on a ${width} px screen; sticking out: ${out.join(", ") || "—"}`);
    }
    for (const [path, name] of [["/shop/admin", "dashboard"], ["/shop/admin/orders", "orders"], ["/shop/admin/products", "products"], ["/shop/admin/feeds", "feeds"]] as const) {
      await page.goto(`${origin}${withLang(path, lang)}`);
      await screenshot(page, `admin-390-${name}-${lang}`);
    }
    expect(wide).toEqual([]);
    expect(problems.console).toEqual([]);
    await context.close();
  });

  it.each(["en", "fa"] as const)("the menu collapses behind a button that opens it, with JavaScript and without (%s)", async (lang) => {
    for (const javaScriptEnabled of [true, false]) {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 }, javaScriptEnabled });
      const page = await context.newPage();
      await signInInBrowser(page, origin, login.email, login.password, lang);
      await page.goto(`${origin}/shop/admin/orders?lang=${lang}`);
      const toggle = page.locator("[data-menu-toggle]");
      const link = page.locator(".admin-nav a[href='/shop/admin/products']");
      await expect.poll(() => link.isVisible()).toBe(false);
      expect(await toggle.getAttribute("aria-label") ?? await toggle.innerText()).toBeTruthy();
      await toggle.click();
      await expect.poll(() => link.isVisible()).toBe(true);
      // The page's own section is marked in the open menu.
      expect(await page.locator(".admin-nav a[aria-current='page']").getAttribute("href")).toBe("/shop/admin/orders");
      if (javaScriptEnabled) await screenshot(page, `admin-390-menu-open-${lang}`);
      await Promise.all([page.waitForURL(/\/shop\/admin\/products/), link.click()]);
      await context.close();
    }
    // On a wide screen the menu is simply there.
    const wide = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await wide.newPage();
    await signInInBrowser(page, origin, login.email, login.password, lang);
    await page.goto(`${origin}/shop/admin/orders?lang=${lang}`);
    expect(await page.locator(".admin-nav a[href='/shop/admin/products']").isVisible()).toBe(true);
    expect(await page.locator("[data-menu-toggle]").isVisible()).toBe(false);
    await wide.close();
  });
});
