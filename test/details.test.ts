/**
 * Storefront and admin details from the outside review: the header's cart
 * count after a refused code, plurals, page titles, the country list on the
 * payment page, and no stored values (statuses, platforms, levels…) shown to
 * people in either language.
 */
import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { crawlAdmin, withLang } from "./helpers/crawl.js";
import { createProduct } from "./helpers/factories.js";
import { load } from "./helpers/html.js";
import { rawValuesIn } from "./helpers/raw-values.js";
import { newShopper } from "./helpers/shopper.js";
import { seedUserContent } from "./helpers/user-content.js";

let t: TestApp;
let seeded: Awaited<ReturnType<typeof seedUserContent>>;
let admin: TestAgent;

beforeAll(async () => {
  t = await buildTestApp({ shopName: "Qz Studio" });
  seeded = await seedUserContent(t);
  admin = seeded.admin;
}, 120_000);
afterAll(() => t.close());

describe("header cart count", () => {
  it("stays right on the page that refuses a discount code", async () => {
    const shopper = await newShopper(t.app);
    const p = await createProduct(t.deps, { title: "Cup", variants: [{ stock: 9 }] });
    await shopper.add(p.variants[0]!.id, 3).expect(303);
    const refused = await shopper.agent.post("/shop/cart/coupon?lang=en").type("form").send({ _csrf: shopper.csrf, code: "NOPE-NOT-A-CODE" }).expect(422);
    const $ = load(refused.text);
    expect($(".cart-link").text().trim()).toBe("Cart (3)");
    expect($(".cart-line").length).toBe(1);
    // A refused quantity re-renders the cart too.
    const tooMany = await shopper.agent.post(`/shop/cart/items/${p.variants[0]!.id}?lang=en`).type("form").send({ _csrf: shopper.csrf, quantity: 50 });
    expect(tooMany.status).toBeGreaterThanOrEqual(400);
    expect(load(tooMany.text)(".cart-link").text().trim()).toBe("Cart (3)");
  });
});

describe("service errors on pages", () => {
  it("are worded in the page's language, with the product's name and the numbers", async () => {
    const shopper = await newShopper(t.app);
    const p = await createProduct(t.deps, { title: "Tall Vase", variants: [{ stock: 2 }] });
    await shopper.add(p.variants[0]!.id, 1).expect(303);
    const fa = await shopper.agent.post(`/shop/cart/items/${p.variants[0]!.id}?lang=fa`).type("form").send({ _csrf: shopper.csrf, quantity: 50 }).expect(409);
    expect(load(fa.text)("#cart-error").text()).toBe("از «\u2068Tall Vase\u2069» فقط ۲ عدد موجود است؛ ۱ عدد در سبد شماست.");
    const en = await shopper.agent.post(`/shop/cart/items/${p.variants[0]!.id}?lang=en`).type("form").send({ _csrf: shopper.csrf, quantity: 50 }).expect(409);
    expect(load(en.text)("#cart-error").text()).toBe('Only 2 of "Tall Vase" available.');
    const missing = await request(t.app).get("/shop/p/no-such-thing?lang=fa").expect(404);
    expect(load(missing.text)(".error-page .lead").text()).toMatch(/[\u0600-\u06FF]/);
    expect(load(missing.text)(".error-page .lead").attr("lang")).toBeUndefined();
  });
});

describe("plurals", () => {
  it("says 1 review, 2 reviews, in the product page's summary and stars", async () => {
    const page = load((await request(t.app).get(`/shop/p/${seeded.slug}?lang=en`).expect(200)).text);
    expect(page(".product__rating").text()).toContain("from 1 review");
    expect(page.html()).not.toMatch(/\b1 reviews\b/);
    const home = (await request(t.app).get("/shop/?lang=en").expect(200)).text;
    expect(home).not.toMatch(/\b1 (reviews|products|posts)\b/);
  });
});

describe("page titles", () => {
  it("name the shop once", async () => {
    const paths = ["/shop/", `/shop/p/${seeded.slug}`, "/shop/gallery", `/shop/posts/${seeded.postId}`, "/shop/cart", "/shop/top-rated", "/shop/follow", "/shop/admin/login"];
    for (const path of paths) {
      for (const lang of ["en", "fa"]) {
        const title = load((await request(t.app).get(withLang(path, lang)).expect(200)).text)("title").text();
        expect(title.split("Qz Studio.").length - 1, `${path} ${lang}: ${title}`).toBe(1);
      }
    }
    for (const path of ["/shop/admin", "/shop/admin/products", "/shop/admin/shop"]) {
      const title = load((await admin.get(path).expect(200)).text)("title").text();
      expect(title.split("Qz Studio.").length - 1, `${path}: ${title}`).toBe(1);
    }
  });
});

describe("payment page country", () => {
  it("is a list of country names in the page's language, the countries the shop sells to first", async () => {
    const fa = load((await request(t.app).get(withLang(seeded.payPath, "fa")).expect(200)).text);
    expect(fa("input#pay-country").length).toBe(0);
    expect(fa("select#pay-country optgroup").first().find("option").map((_, o) => fa(o).attr("value")).get()).toEqual(["US"]);
    expect(fa("select#pay-country option[value='US']").attr("selected")).toBeDefined();
    expect(fa("select#pay-country option[value='DE']").text()).toBe("آلمان");
    expect(fa("select#pay-country option").length).toBe(249);
    const en = load((await request(t.app).get(withLang(seeded.payPath, "en")).expect(200)).text);
    expect(en("select#pay-country option[value='DE']").text()).toBe("Germany");
    expect(en("label[for='pay-country']").text()).toBe("Country");
    // Shipping labels in the page's language.
    expect(fa("input[name=shipping][value=standard]").parent().text()).toContain("ارسال عادی");
  });

  it("refuses what is not on the list, in the page's language, keeping what was typed", async () => {
    const shopper = await newShopper(t.app);
    await shopper.add(seeded.product.variants[0]!.id).expect(303);
    const started = await shopper.checkout().expect(303);
    const url = new URL(started.headers.location!);
    const res = await shopper.agent
      .post(`${url.pathname}${url.search}&lang=fa`)
      .type("form")
      .send({ _csrf: shopper.csrf, action: "pay", email: "x@example.com", name: "Sara", line1: "Valiasr 12", city: "Tehran", country: "Persia", shipping: "express" })
      .expect(400);
    const $ = load(res.text);
    expect($(".alert--error li").map((_, li) => $(li).text()).get()).toEqual(["کشورتان را از فهرست انتخاب کنید."]);
    expect($("input[name=shipping][value=express]").attr("checked")).toBeDefined();
  });
});

describe("stored values", () => {
  const storefront = () => ["/shop/", `/shop/p/${seeded.slug}`, "/shop/gallery", `/shop/posts/${seeded.postId}`, "/shop/top-rated", "/shop/follow", seeded.orderPath, seeded.payPath];

  it.each(["en", "fa"] as const)("never reach people as raw tokens on shop pages (%s)", async (lang) => {
    const problems: string[] = [];
    for (const path of storefront()) problems.push(...rawValuesIn((await request(t.app).get(withLang(path, lang)).expect(200)).text, lang).map((p) => `${path}: ${p}`));
    problems.push(...rawValuesIn((await seeded.cartShopper.agent.get(`/shop/cart?lang=${lang}`).expect(200)).text, lang).map((p) => `cart: ${p}`));
    expect(problems).toEqual([]);
  });

  it.each(["en", "fa"] as const)("never reach people as raw tokens on any admin page (%s)", async (lang) => {
    const pages = await crawlAdmin({
      mount: "/shop",
      get: async (path) => {
        const res = await admin.get(withLang(path, lang));
        return { status: res.status, type: String(res.headers["content-type"] ?? ""), body: res.text };
      },
    });
    expect(pages.length).toBeGreaterThan(30);
    const problems: string[] = [];
    for (const path of pages) problems.push(...rawValuesIn((await admin.get(withLang(path, lang)).expect(200)).text, lang).map((p) => `${path}: ${p}`));
    expect(problems).toEqual([]);
  });
});
