import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { load } from "./helpers/html.js";

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ publicUrl: "https://host.example/shop" });
});
afterAll(() => t.close());

describe("product listing", () => {
  it("lists active products with price and sold-out state, and hides drafts", async () => {
    await createProduct(t.deps, { title: "Blue Mug", variants: [{ priceMinor: 2800, stock: 3 }], image: true });
    await createProduct(t.deps, { title: "Gone Bowl", variants: [{ priceMinor: 1000, stock: 0 }] });
    await createProduct(t.deps, { title: "Secret Draft", status: "draft" });
    const res = await request(t.app).get("/shop/").expect(200).expect("content-type", /html/);
    const $ = load(res.text);
    const cards = $(".card").toArray().map((el) => $(el).text().replace(/\s+/g, " "));
    expect(cards.find((c) => c.includes("Blue Mug"))).toContain("$28.00");
    expect(cards.find((c) => c.includes("Gone Bowl"))).toContain("Sold out");
    expect(res.text).not.toContain("Secret Draft");
    expect($(".card img").first().attr("alt")).toBe("Blue Mug photo");
  });

  it("shows 'From' the cheapest price when variants differ", async () => {
    await createProduct(t.deps, { title: "Board", variants: [{ priceMinor: 4800 }, { priceMinor: 3400 }] });
    const res = await request(t.app).get("/shop/").expect(200);
    const card = load(res.text)(".card").filter((_, el) => load(res.text)(el).text().includes("Board"));
    expect(card.text()).toContain("From $34.00");
  });
});

describe("product page", () => {
  it("shows images, price, variant choice with stock, and the selected variant's offer", async () => {
    const p = await createProduct(t.deps, {
      slug: "scarf",
      title: "Scarf",
      optionNames: ["Colour"],
      variants: [
        { option1: "Indigo", priceMinor: 3800, stock: 0 },
        { option1: "Red", priceMinor: 4000, compareAtMinor: 5000, stock: 2 },
      ],
      image: true,
    });
    const res = await request(t.app).get("/shop/p/scarf").expect(200);
    const $ = load(res.text);
    expect($("h1").text()).toBe("Scarf");
    expect($(".gallery__main img").attr("alt")).toBe("Scarf photo");
    // The first variant is sold out, so the in-stock one is preselected.
    expect($('input[name="variant"]:checked').val()).toBe(p.variants[1]!.id);
    expect($(".price__now").text()).toBe("$40.00");
    expect($(".price__was").text()).toContain("$50.00");
    expect($("#stock").text()).toContain("Only 2 left");
    const options = $(".variant").toArray().map((el) => $(el).text().replace(/\s+/g, " "));
    expect(options[0]).toContain("Indigo");
    expect(options[0]).toContain("Sold out");
    expect(options[1]).toContain("2 available");

    const chosen = await request(t.app).get(`/shop/p/scarf?variant=${p.variants[0]!.id}`).expect(200);
    expect(load(chosen.text)("#stock").text()).toContain("Sold out");
    expect(load(chosen.text)(".price__now").text()).toBe("$38.00");
  });

  it("counts active holds against stock and ignores expired ones", async () => {
    const p = await createProduct(t.deps, { slug: "held-thing", variants: [{ stock: 2 }] });
    const v = p.variants[0]!;
    const now = t.deps.now().getTime();
    await t.db.stockHold.create({ data: { variantId: v.id, quantity: 2, expiresAt: new Date(now + 600_000) } });
    await t.db.stockHold.create({ data: { variantId: v.id, quantity: 5, expiresAt: new Date(now - 1000) } });
    const res = await request(t.app).get("/shop/p/held-thing").expect(200);
    expect(load(res.text)("#stock").text()).toContain("Sold out");
  });

  it("has Open Graph, Twitter Card and JSON-LD that agree with the visible offer", async () => {
    const p = await createProduct(t.deps, { slug: "og-mug", title: "OG Mug", description: "A <b>fine</b> mug.\nGlazed.", variants: [{ priceMinor: 1250, stock: 4 }], image: true });
    const res = await request(t.app).get("/shop/p/og-mug").expect(200);
    const $ = load(res.text);
    const meta = (k: string) => $(`meta[property="${k}"], meta[name="${k}"]`).attr("content");
    expect(meta("og:type")).toBe("product");
    expect(meta("og:title")).toBe("OG Mug · $12.50");
    expect(meta("og:description")).toBe("A fine mug. Glazed.");
    expect(meta("og:url")).toBe("https://host.example/shop/p/og-mug");
    expect(meta("og:image")).toMatch(/^https:\/\/host\.example\/shop\/media\/[0-9a-f]{32}-sq\.jpg$/);
    expect(meta("product:price:amount")).toBe("12.50");
    expect(meta("product:price:currency")).toBe("USD");
    expect(meta("product:availability")).toBe("in stock");
    expect(meta("twitter:card")).toBe("summary_large_image");
    expect(meta("twitter:data1")).toBe("$12.50");
    const ld = JSON.parse($('script[type="application/ld+json"]').text());
    expect(ld["@type"]).toBe("Product");
    expect(ld.offers).toEqual([
      expect.objectContaining({ sku: p.variants[0]!.sku, price: "12.50", priceCurrency: "USD", availability: "https://schema.org/InStock" }),
    ]);
    // The og:image really is served, as a square JPEG.
    const image = await request(t.app).get(new URL(meta("og:image")!).pathname).expect(200);
    expect(image.headers["content-type"]).toBe("image/jpeg");
  });

  it("escapes a hostile title everywhere, including inside JSON-LD", async () => {
    await createProduct(t.deps, { slug: "evil", title: '</script><script>alert(1)</script>"' });
    const res = await request(t.app).get("/shop/p/evil").expect(200);
    expect(res.text).not.toContain("<script>alert(1)</script>");
    const ld = JSON.parse(load(res.text)('script[type="application/ld+json"]').text());
    expect(ld.name).toBe('</script><script>alert(1)</script>"');
  });

  it("answers 404 for drafts, archived and unknown products, and 400 for a malformed slug", async () => {
    await createProduct(t.deps, { slug: "drafty", status: "draft" });
    await createProduct(t.deps, { slug: "old-one", status: "archived" });
    await request(t.app).get("/shop/p/drafty").expect(404);
    await request(t.app).get("/shop/p/old-one").expect(404);
    await request(t.app).get("/shop/p/nothing-here").expect(404);
    const bad = await request(t.app).get("/shop/p/BAD_slug!").set("Accept", "application/json").expect(400);
    expect(bad.body.error.code).toBe("validation_failed");
    expect(bad.body.error.message).toContain("slug");
  });
});

describe("languages", () => {
  it("renders Persian right-to-left with Persian digits, chosen by ?lang= and remembered", async () => {
    await createProduct(t.deps, { slug: "fa-mug", title: "Mug", titleFa: "ماگ", variants: [{ priceMinor: 2800, stock: 2 }] });
    const agent = request.agent(t.app);
    const res = await agent.get("/shop/p/fa-mug?lang=fa").expect(200);
    const $ = load(res.text);
    expect($("html").attr("lang")).toBe("fa");
    expect($("html").attr("dir")).toBe("rtl");
    expect($("h1").text()).toBe("ماگ");
    expect($(".price__now").text()).toMatch(/[۰-۹]/);
    expect($(".price__now").text()).not.toMatch(/[0-9]/);
    expect($("#stock").text()).toContain("۲");
    // Remembered by cookie on the next page without ?lang=
    const next = await agent.get("/shop/").expect(200);
    expect(load(next.text)("html").attr("dir")).toBe("rtl");
    const back = await agent.get("/shop/?lang=en").expect(200);
    expect(load(back.text)("html").attr("dir")).toBe("ltr");
  });

  it("uses the shop's default locale when none is asked for", async () => {
    const fa = await buildTestApp({ locale: "fa" });
    try {
      const res = await request(fa.app).get("/shop/").expect(200);
      expect(load(res.text)("html").attr("dir")).toBe("rtl");
    } finally {
      await fa.close();
    }
  });

  it("ignores an unknown ?lang= value", async () => {
    const res = await request(t.app).get("/shop/?lang=xx").expect(200);
    expect(load(res.text)("html").attr("lang")).toBe("en");
  });
});
