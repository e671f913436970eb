import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import express from "express";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { storeImage } from "../../src/media/media.service.js";
import { accessibilityViolations, screenshot, useBrowserShop } from "../helpers/browser.js";
import { createTag } from "../helpers/post-factories.js";

/**
 * The main flow of shoppable posts in a real browser, in English and Persian:
 * the admin places tags on a photo by clicking, by keyboard and by dragging;
 * the public gallery then shows the hotspots and product cards (and the
 * embeddable widget does the same on another site). No console errors, no
 * CSP violations, no axe failures; screenshots in test-results/screenshots.
 */

const SEED_IMAGES = path.resolve(import.meta.dirname, "../../prisma/seed/images");

const posts: Record<"en" | "fa", string> = { en: "", fa: "" };
let kilim: { id: string; variants: { id: string; sku: string }[] };
let candle: { id: string };

const shop = useBrowserShop({
  app: { shopName: "Bazaarche Demo" },
  demo: true,
  seed: async (t) => {
    const product = (slug: string) => t.db.product.findUniqueOrThrow({ where: { slug }, include: { variants: { orderBy: { position: "asc" } }, images: { orderBy: { position: "asc" } } } });
    kilim = await product("kilim-cushion-cover");
    candle = await product("saffron-rose-candle");

    // A fuller grid: more posts made from the demo photos, a few products tagged on each.
    const extra: [string, string, string, string[]][] = [
      ["pinterest", "block-print-scarf-2.jpg", "Indigo and madder: block-printed by hand, one colour at a time.", ["block-print-scarf", "linen-tote-bag"]],
      ["instagram", "painted-ceramic-bowls-2.jpg", "Breakfast bowls, painted in the studio.", ["painted-ceramic-bowls", "walnut-serving-board"]],
      ["telegram", "saffron-rose-candle-2.jpg", "Saffron and rose for long evenings.", ["saffron-rose-candle"]],
      ["instagram", "wool-beanie-2.jpg", "First frost, first beanie.", ["wool-beanie", "leather-card-wallet"]],
      ["tiktok", "pomegranate-earrings-2.jpg", "Pomegranate season ✨", ["pomegranate-earrings", "rosewater-face-mist"]],
      ["instagram", "linen-tote-bag-2.jpg", "Market day essentials.", ["linen-tote-bag", "turquoise-ceramic-mug", "leather-card-wallet"]],
    ];
    const now = Date.now();
    for (const [i, [platform, file, caption, slugs]] of extra.entries()) {
      const media = await storeImage(t.deps, { bytes: readFileSync(path.join(SEED_IMAGES, file)), alt: caption });
      const post = await t.db.post.create({ data: { platform, mediaId: media.id, caption, permalink: `https://www.instagram.com/p/demo-${i}/`, publishedAt: new Date(now - (10 + i) * 86400_000) } });
      for (const [k, slug] of slugs.entries()) await createTag(t.deps, { postId: post.id, productId: (await product(slug)).id, x: 0.3 + 0.25 * k, y: 0.35 + 0.2 * (k % 2) });
    }
    // The post each language's admin tags, newest of all so it leads the grid.
    for (const [i, lang] of (["en", "fa"] as const).entries()) {
      const media = await storeImage(t.deps, { bytes: readFileSync(path.join(SEED_IMAGES, i === 0 ? "kilim-cushion-cover-2.jpg" : "kilim-cushion-cover-1.jpg")), alt: "Kilim cushions on a bench" });
      const post = await t.db.post.create({
        data: { platform: "instagram", mediaId: media.id, caption: lang === "en" ? "New kilim cushions, woven in Kashan." : "کوسن‌های گلیمی تازه، بافت کاشان.", permalink: "https://www.instagram.com/p/kilim/", publishedAt: new Date(now - (i + 1) * 60_000) },
      });
      posts[lang] = post.id;
    }
  },
});

const tagsOf = (postId: string) => shop.t.db.postTag.findMany({ where: { postId }, orderBy: { createdAt: "asc" } });

/** The centre of an element, relative to the page. */
async function centre(page: Page, selector: string) {
  const box = (await page.locator(selector).first().boundingBox())!;
  return { x: box.x + box.width / 2, y: box.y + box.height / 2, box };
}

describe.each(["en", "fa"] as const)("shoppable posts in %s", (lang) => {
  it("admin places tags by clicking, by keyboard and by dragging; the gallery shows hotspots and product cards", async () => {
    const postId = posts[lang];
    const { page, problems } = await shop.openAdmin(lang);

    await page.goto(`${shop.origin}/shop/admin/posts/${postId}?lang=${lang}`);
    expect(await page.getAttribute("html", "dir")).toBe(lang === "fa" ? "rtl" : "ltr");
    expect(await accessibilityViolations(page)).toEqual([]);

    // 1. Click on the photo where the cushion is, then pick the product by typing and the keyboard.
    const photo = page.locator(".tag-canvas img");
    const box = (await photo.boundingBox())!;
    await photo.click({ position: { x: box.width * 0.3, y: box.height * 0.4 } });
    // The editor's script fills the fields: wait on the page, never read it once.
    await expect.poll(async () => Number(await page.locator("#tag-x").inputValue())).toBeCloseTo(0.3, 2);
    await expect.poll(async () => Number(await page.locator("#tag-y").inputValue())).toBeCloseTo(0.4, 2);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("tag-product");
    await page.keyboard.type("TEX-KIL");
    // The list answers each keystroke: wait until it answers the whole search (its first option), not an earlier one.
    await expect.poll(() => page.locator("#tag-product-results [role=option]").first().innerText()).toContain("TEX-KIL-40");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#tag-product").inputValue()).toBe(lang === "en" ? "Kilim Cushion Cover" : "روکش کوسن گلیمی");
    await page.locator("#tag-variant").selectOption(kilim.variants[1]!.id); // 50 × 50 cm, sold out
    await screenshot(page, `posts-admin-tag-placing-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);
    await Promise.all([page.waitForURL(/tag=added/), page.locator(".tag-new button[type=submit]").click()]);
    let tags = await tagsOf(postId);
    expect(tags).toHaveLength(1);
    expect(tags[0]!.x).toBeCloseTo(0.3, 2);
    expect(tags[0]!.y).toBeCloseTo(0.4, 2);
    expect(tags[0]!.variantId).toBe(kilim.variants[1]!.id);

    // 2. Move that tag with the arrow keys: it saves itself once the keys stop.
    await page.locator(".tag-pin[data-pin]").first().focus();
    for (let i = 0; i < 5; i++) await page.keyboard.press("ArrowRight");
    await page.keyboard.press("Shift+ArrowUp");
    // +5 × 1 % across and −5 % down from where the click put it (the click lands within a pixel of 30 %/40 %).
    const placed = { x: tags[0]!.x!, y: tags[0]!.y! };
    // Wait for what the page says (the save was answered), then check what was stored: the
    // database changes before the page does, so reading the page right after the database races.
    await expect.poll(() => page.locator("[data-status]").innerText(), { timeout: 10_000 }).toContain(lang === "en" ? "Tag 1 saved at 35% across, 35% down." : "برچسب ۱ در ۳۵٪ از چپ و ۳۵٪ از بالا ذخیره شد.");
    expect((await tagsOf(postId))[0]!.x).toBeCloseTo(placed.x + 0.05, 3);
    expect((await tagsOf(postId))[0]!.y).toBeCloseTo(placed.y - 0.05, 3);

    // 3. A second tag without the mouse: the new-tag pin, arrows, the product box, Enter.
    await page.goto(`${shop.origin}/shop/admin/posts/${postId}?lang=${lang}`); // so the next ?tag=added is a new page
    await page.locator("[data-pin-new]").focus();
    for (let i = 0; i < 20; i++) await page.keyboard.press("ArrowRight");
    await page.keyboard.press("Shift+ArrowDown");
    await page.keyboard.press("Shift+ArrowDown");
    await expect.poll(async () => Number(await page.locator("#tag-x").inputValue())).toBeCloseTo(0.7, 3);
    await expect.poll(async () => Number(await page.locator("#tag-y").inputValue())).toBeCloseTo(0.6, 3);
    await page.locator("#tag-product").focus();
    await page.keyboard.type("HOM-CND");
    // The list answers each keystroke: wait until it answers the whole search (its first option), not an earlier one.
    await expect.poll(() => page.locator("#tag-product-results [role=option]").first().innerText()).toContain("HOM-CND-200");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page.locator(".tag-new button[type=submit]").focus();
    await Promise.all([page.waitForURL(/tag=added/), page.keyboard.press("Enter")]);
    tags = await tagsOf(postId);
    expect(tags.map((tg) => tg.productId)).toEqual([kilim.id, candle.id]);
    expect(tags[1]!.x).toBeCloseTo(0.7, 3);
    expect(tags[1]!.y).toBeCloseTo(0.6, 3);

    // 4. Drag the candle tag down a little.
    const pin = await centre(page, `.tag-pin[data-pin="${tags[1]!.id}"]`);
    const canvas = (await page.locator(".tag-canvas img").boundingBox())!;
    await page.mouse.move(pin.x, pin.y);
    await page.mouse.down();
    await page.mouse.move(canvas.x + canvas.width * 0.72, canvas.y + canvas.height * 0.75, { steps: 8 });
    await page.mouse.up();
    const savedSecond = (text: string) => (lang === "en" ? text.includes("Tag 2 saved at") : text.includes("برچسب ۲ در") && text.includes("ذخیره شد"));
    await expect.poll(async () => savedSecond(await page.locator("[data-status]").innerText()), { timeout: 10_000 }).toBe(true);
    expect((await tagsOf(postId))[1]!.y).toBeCloseTo(0.75, 1);
    await screenshot(page, `posts-admin-tags-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);

    // 5. The public gallery: the post leads the grid; a tap opens hotspots and cards.
    await page.goto(`${shop.origin}/shop/gallery?lang=${lang}`, { waitUntil: "networkidle" });
    expect(await page.locator(".bio-tile").count()).toBeGreaterThanOrEqual(9);
    expect(await page.locator(".bio-tile__link").first().getAttribute("data-post")).toBe(posts.en);
    await screenshot(page, `posts-gallery-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.locator(`.bio-tile__link[data-post="${postId}"]`).click();
    const dialog = page.locator(".post-dialog[open]");
    await dialog.waitFor();
    await dialog.locator(".hotspot--placed").first().waitFor();
    await expect.poll(() => dialog.locator(".hotspot--placed").count()).toBe(2);
    expect(await dialog.locator(".hotspot").count()).toBe(2);
    // The hotspot sits where the admin put it on the photo (35 % across, 35 % down).
    const img = (await dialog.locator(".shoppable__img").boundingBox())!;
    const spot = await centre(page, ".post-dialog[open] .hotspot");
    expect((spot.x - img.x) / img.width).toBeCloseTo(0.35, 1);
    expect((spot.y - img.y) / img.height).toBeCloseTo(0.35, 1);
    const soldOutCard = dialog.locator(".tag-card").first();
    expect(await soldOutCard.locator(".tag-card__stock").innerText()).toBe(lang === "en" ? "Sold out" : "ناموجود");
    expect(await soldOutCard.locator(".tag-card__alt").getAttribute("href")).toBe(`/shop/p/kilim-cushion-cover?variant=${kilim.variants[0]!.id}`);
    await dialog.locator(".hotspot").first().click();
    await expect.poll(() => soldOutCard.getAttribute("class")).toContain("tag-card--active");
    await screenshot(page, `posts-gallery-dialog-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.keyboard.press("Escape");
    await expect.poll(() => page.locator(".post-dialog[open]").count()).toBe(0);

    // 6. The post's own page (where the tile leads without JavaScript).
    await page.goto(`${shop.origin}/shop/posts/${postId}?lang=${lang}`, { waitUntil: "networkidle" });
    expect(await page.locator(".hotspot--placed").count()).toBe(2);
    await screenshot(page, `posts-post-page-${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);

    expect(problems.csp).toEqual([]);
    expect(problems.console).toEqual([]);
  });

  it("the gallery works on a phone: three columns, a full-screen post, nothing off the side", async () => {
    const { page, problems } = await shop.open({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true });
    await page.goto(`${shop.origin}/shop/gallery?lang=${lang}`, { waitUntil: "networkidle" });
    const tiles = page.locator(".bio-tile__link");
    const first = (await tiles.nth(0).boundingBox())!;
    const third = (await tiles.nth(2).boundingBox())!;
    expect(Math.abs(first.y - third.y)).toBeLessThan(1); // one row of three
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // In rtl the first post sits on the right.
    expect(lang === "fa" ? first.x > third.x : first.x < third.x).toBe(true);
    await screenshot(page, `posts-gallery-${lang}-mobile`);
    await page.locator(".bio-tile__link:has(.bio-tile__badge)").first().tap();
    await page.locator(".post-dialog[open] .hotspot--placed").first().waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, `posts-gallery-dialog-${lang}-mobile`);
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(problems.csp).toEqual([]);
    expect(problems.console).toEqual([]);
  });

  it("the embed renders the gallery on another site, under that site's strict CSP and hostile CSS, without leaking styles either way", async () => {
    const host = express();
    host.get("/host.css", (_req, res) => {
      res.type("css").send(`* { color: rgb(139, 0, 0) !important; font-family: serif !important; }
img { border: 9px solid lime !important; }
p { margin: 40px !important; }
a { text-decoration: underline wavy !important; }`);
    });
    host.get("/", (_req, res) => {
      res.set("Content-Security-Policy", `default-src 'self'; script-src 'self' ${shop.origin}; connect-src ${shop.origin}; img-src ${shop.origin}; style-src 'self'; object-src 'none'; base-uri 'none'`);
      res.type("html").send(`<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>A travel blog</title><link rel="stylesheet" href="/host.css"></head>
<body><main><h1>A travel blog</h1><p class="host-text">Our favourite shop's latest posts:</p><div id="shop-gallery"></div></main>
<script src="${shop.origin}/shop/embed/gallery.js" data-target="#shop-gallery" data-lang="${lang}" data-limit="6" defer></script></body></html>`);
    });
    const server = host.listen(0, "127.0.0.1");
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    // "localhost" and "127.0.0.1" are different origins: the widget runs cross-origin.
    const hostOrigin = `http://localhost:${(server.address() as AddressInfo).port}`;
    try {
      const { page, problems } = await shop.open({ viewport: { width: 1100, height: 900 } });
      await page.goto(hostOrigin, { waitUntil: "networkidle" });
      const tiles = page.locator("#shop-gallery .bz-tile");
      await tiles.first().waitFor();
      await expect.poll(() => tiles.count()).toBe(6);
      // Images came from the shop's origin and loaded.
      const loaded = await page.locator("#shop-gallery .bz-tile__img").evaluateAll((imgs) => imgs.filter((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0).length);
      expect(loaded).toBeGreaterThan(0);
      // Our styles apply inside (adopted under the host's style-src 'self') and theirs do not.
      const inside = await page.locator("#shop-gallery .bz-tile__img").first().evaluate((el) => {
        const s = getComputedStyle(el);
        return { border: s.borderTopWidth, radius: getComputedStyle(el.parentElement!).borderTopLeftRadius };
      });
      expect(inside).toEqual({ border: "0px", radius: "8px" });
      // The host says every element is red and serif, !important; inside the widget it is not.
      expect(await page.locator("#shop-gallery .bz__title").evaluate((el) => getComputedStyle(el).color)).toBe("rgb(92, 83, 76)");
      expect(await page.locator("#shop-gallery .bz").evaluate((el) => getComputedStyle(el).fontFamily)).toMatch(/^ui-sans-serif/);
      expect(await page.locator("#shop-gallery .bz").getAttribute("dir")).toBe(lang === "fa" ? "rtl" : "ltr");
      // …and nothing of ours leaks out to the host page.
      expect(await page.locator(".host-text").evaluate((el) => getComputedStyle(el).marginTop)).toBe("40px");
      await screenshot(page, `posts-embed-${lang}`);

      await tiles.first().locator("a").click();
      const spots = page.locator("#shop-gallery .bz-dialog[open] .bz-spot");
      await spots.first().waitFor();
      expect(await spots.first().evaluate((el) => (el as HTMLElement).style.left)).toMatch(/%$/);
      expect(await page.locator("#shop-gallery .bz-dialog[open] .bz-card").count()).toBeGreaterThan(0);
      await screenshot(page, `posts-embed-dialog-${lang}`);
      expect(await accessibilityViolations(page)).toEqual([]);
      expect(problems.csp).toEqual([]);
      expect(problems.console).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
