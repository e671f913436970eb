/**
 * The tag editor as a new admin meets it: a brand-new post, no tags. No "+"
 * sits in the middle of the photo pretending to be placed; the first click on
 * the photo places the tag; "Add tag" before any click sends nothing and says
 * what to do; without JavaScript the server says the same in the page's
 * language. Screenshots: test-results/screenshots/tag-first-use-*.png.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../helpers/app.js";
import { accessibilityViolations, launchBrowser, screenshot, serve, signInInBrowser, watchProblems } from "../helpers/browser.js";
import { createAdmin, createProduct } from "../helpers/factories.js";
import { createPost } from "../helpers/post-factories.js";

let t: TestApp;
let browser: Browser;
let origin: string;
let stop: () => Promise<void>;
let admin: { email: string; password: string };

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createAdmin(t.deps);
  await createProduct(t.deps, { title: "Indigo Scarf", variants: [{ sku: "SCF-IND-1" }], image: true });
  ({ origin, shutdown: stop } = await serve(t));
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stop?.();
  await t?.close();
});

const tagCount = (postId: string) => t.db.postTag.count({ where: { postId } });

async function pickProduct(page: Page) {
  await page.locator("#tag-product").fill("SCF-IND");
  await page.locator("#tag-product-results [role=option]", { hasText: "SCF-IND-1" }).click();
  await expect.poll(() => page.locator("[data-product-id]").inputValue()).not.toBe("");
}

describe.each(["en", "fa"] as const)("a new post's first tag (%s)", (lang) => {
  it("Add tag before clicking the photo sends nothing and says to click the photo; the first click then places it", async () => {
    const post = await createPost(t.deps, { caption: `First post ${lang}` });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = await watchProblems(page);
    await signInInBrowser(page, origin, admin.email, admin.password, lang);
    await page.goto(`${origin}/shop/admin/posts/${post.id}?lang=${lang}`);

    // Nothing pretends to be placed: the + is not drawn, the photo asks for a click.
    const newPin = page.locator("[data-pin-new]");
    await expect.poll(() => newPin.evaluate((el) => getComputedStyle(el).opacity)).toBe("0");
    await expect.poll(() => page.locator("[data-prompt]").isVisible()).toBe(true);
    expect(await page.locator("#tag-x").inputValue()).toBe("");
    await screenshot(page, `tag-first-use-1-new-post-${lang}`);

    // The product first, then "Add tag": refused in the page, no request made.
    await pickProduct(page);
    await page.locator(".tag-new button[type=submit]").click();
    const alert = page.locator("#tag-need-position");
    await expect.poll(() => alert.isVisible()).toBe(true);
    expect(await alert.innerText()).toContain(lang === "en" ? "First click the photo where the product is" : "اول روی جایی از عکس که محصول هست کلیک کنید");
    expect(page.url()).not.toContain("tag=added");
    expect(await tagCount(post.id)).toBe(0);
    await screenshot(page, `tag-first-use-2-add-refused-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);

    // The first click on the photo places the tag exactly there; adding it works.
    const photo = page.locator(".tag-canvas img");
    const box = (await photo.boundingBox())!;
    await photo.click({ position: { x: box.width * 0.62, y: box.height * 0.41 } });
    await expect.poll(() => newPin.evaluate((el) => getComputedStyle(el).opacity)).toBe("1");
    expect(Number(await page.locator("#tag-x").inputValue())).toBeCloseTo(0.62, 2);
    expect(await alert.isVisible()).toBe(false);
    expect(await page.locator("[data-prompt]").isVisible()).toBe(false);
    const pinBox = (await newPin.boundingBox())!;
    expect(pinBox.x + pinBox.width / 2).toBeCloseTo(box.x + box.width * 0.62, -1);
    await pickProduct(page);
    await Promise.all([page.waitForURL(/tag=added/), page.locator(".tag-new button[type=submit]").click()]);
    await expect.poll(() => page.locator(".tag-row").count()).toBe(1);
    const [tag] = await t.db.postTag.findMany({ where: { postId: post.id } });
    expect(tag!.x).toBeCloseTo(0.62, 2);
    expect(tag!.y).toBeCloseTo(0.41, 2);
    await screenshot(page, `tag-first-use-3-placed-${lang}`);
    expect(problems.console).toEqual([]);
    expect(problems.csp).toEqual([]);
    await context.close();
  });

  it("by keyboard: Tab to the + places it in the middle, so the form and the pin agree", async () => {
    const post = await createPost(t.deps, { caption: `Keyboard post ${lang}` });
    const page = await browser.newPage();
    await signInInBrowser(page, origin, admin.email, admin.password, lang);
    await page.goto(`${origin}/shop/admin/posts/${post.id}?lang=${lang}`);
    await page.locator("[data-pin-new]").focus();
    await expect.poll(() => page.locator("#tag-x").inputValue()).toBe("0.5");
    expect(await page.locator("#tag-y").inputValue()).toBe("0.5");
    await page.keyboard.press("Shift+ArrowRight");
    expect(await page.locator("#tag-x").inputValue()).toBe("0.55");
    await page.close();
  });

  it("without JavaScript, Add tag with no position comes back with one clear problem in the page's language", async () => {
    const post = await createPost(t.deps, { caption: `No-JS post ${lang}` });
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await signInInBrowser(page, origin, admin.email, admin.password, lang);
    await page.goto(`${origin}/shop/admin/posts/${post.id}?lang=${lang}`);
    await page.locator("#tag-product").fill("SCF-IND-1");
    await page.locator(".tag-new button[type=submit]").click();
    const items = await page.locator("#tag-problems li").allInnerTexts();
    expect(items).toEqual([lang === "en" ? expect.stringContaining("First click the photo where the product is") : expect.stringContaining("اول روی جایی از عکس")]);
    expect(await tagCount(post.id)).toBe(0);
    await context.close();
  });
});
