/**
 * Right-to-left pages with left-to-right text people wrote. Every piece of
 * user text (product titles in lists, reviews, names, answers, questions,
 * captions, addresses, order names, URLs, handles, admin tables) carries
 * dir="auto" or sits in <bdi>, so "Great!" keeps its "!" on the right on a
 * Persian page. The content below is English and carries the marker "Qz";
 * every storefront page and every admin page (found by crawling the admin's
 * own menu) is rendered in Persian and its markup checked.
 */
import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { crawlAdmin, withLang } from "./helpers/crawl.js";
import { load } from "./helpers/html.js";
import { unisolatedText } from "./helpers/rtl.js";
import type { newShopper } from "./helpers/shopper.js";
import { seedUserContent } from "./helpers/user-content.js";

const MARKER = "Qz";
// Handles, emails, codes and slugs are lower or upper case: any case counts.
const MARKED = /qz/i;
let t: TestApp;
let admin: TestAgent;
let slug: string;
let postId: string;
let orderPath: string;
let payPath: string;
let cartShopper: Awaited<ReturnType<typeof newShopper>>;

beforeAll(async () => {
  t = await buildTestApp({ locale: "fa", shopName: "Qz Studio" });
  ({ slug, postId, orderPath, payPath, cartShopper, admin } = await seedUserContent(t));
}, 120_000);
afterAll(() => t.close());

function check(path: string, html: string) {
  const $ = load(html);
  // Back and forward arrows come from CSS that follows the page's direction
  // (.back-link), never typed into a link, where they point the wrong way in one language.
  const arrows = $("a, button").filter((_, el) => /^\s*[←→‹›]|[←→‹›]\s*$/.test($(el).text())).map((_, el) => `${path}: arrow typed into "${$(el).text().trim()}"`).get();
  return [...unisolatedText(html, MARKED).map((p) => `${path}: ${p}`), ...arrows];
}

describe("Persian pages keep English user text in its own direction", () => {
  it("on every storefront page", async () => {
    const pages = ["/shop/", `/shop/p/${slug}`, `/shop/p/${slug}?rsort=lowest`, "/shop/gallery", `/shop/posts/${postId}`, `/shop/p/${slug}/reviews/new`, `/shop/p/${slug}/questions/new`, "/shop/top-rated", "/shop/follow", orderPath, payPath];
    const problems: string[] = [];
    for (const path of pages) {
      const res = await request(t.app).get(withLang(path, "fa")).expect(200);
      expect(load(res.text)("html").attr("dir")).toBe("rtl");
      expect(res.text, path).toContain(MARKER);
      problems.push(...check(path, res.text));
    }
    const cart = await cartShopper.agent.get("/shop/cart?lang=fa").expect(200);
    problems.push(...check("/shop/cart", cart.text));
    expect(problems).toEqual([]);
  });

  it("on every admin page, found through the admin's own menu", async () => {
    const pages = await crawlAdmin({
      mount: "/shop",
      get: async (path) => {
        const res = await admin.get(withLang(path, "fa"));
        return { status: res.status, type: String(res.headers["content-type"] ?? ""), body: res.text };
      },
    });
    // The crawl reached the sections and the detail pages behind their lists.
    for (const section of ["products", "orders", "posts", "links", "feeds", "reviews", "coupons", "followers", "outbox", "shop"]) {
      expect(pages.some((p) => p.startsWith(`/shop/admin/${section}`)), section).toBe(true);
    }
    expect(pages.some((p) => /^\/shop\/admin\/orders\/c[a-z0-9]+$/.test(p))).toBe(true);
    expect(pages.some((p) => /^\/shop\/admin\/products\/c[a-z0-9]+$/.test(p))).toBe(true);
    const problems: string[] = [];
    for (const path of pages) problems.push(...check(path, (await admin.get(withLang(path, "fa")).expect(200)).text));
    expect(problems).toEqual([]);
  });
});
