import { parse as parseCsv } from "csv-parse/sync";
import { XMLParser } from "fast-xml-parser";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatMoney } from "../src/i18n/format.js";
import { seedDemoShop } from "../src/seed/demo.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { load } from "./helpers/html.js";

/**
 * Google disapproves items whose feed price or availability differs from the
 * landing page. This walks every variant of the demo catalog and holds all
 * four feeds to what the product page shows, visibly and in its JSON-LD.
 */

const BASE = "https://demo.example/shop";
let t: TestApp;

interface FeedOffer {
  amount: string;
  currency: string;
  wasAmount: string | null;
  inStock: boolean;
}

/** "35.00 USD" (+ sale "28.00 USD") → what a shopper pays, and the was-price. */
function offerOf(price: string, salePrice: string | undefined, availability: string): FeedOffer {
  const [regular, currency] = price.split(" ") as [string, string];
  const paid = salePrice ? salePrice.split(" ")[0]! : regular;
  return { amount: paid, currency, wasAmount: salePrice ? regular : null, inStock: availability === "in_stock" || availability === "in stock" };
}

const feeds = new Map<string, Map<string, FeedOffer>>();
let googleItems: Record<string, string>[] = [];

beforeAll(async () => {
  t = await buildTestApp({ shopName: "Bazaarche Demo", publicUrl: BASE });
  expect(await seedDemoShop(t.deps)).toBe(true);

  // Stock taken by shoppers right now, and a hold that has run out.
  const now = t.deps.now().getTime();
  const bySku = async (sku: string) => t.db.variant.findUniqueOrThrow({ where: { sku } });
  const candleLarge = await bySku("HOM-CND-400");
  const boardLarge = await bySku("WOD-BRD-L");
  const mugCobalt = await bySku("CER-MUG-COB");
  await t.db.stockHold.createMany({
    data: [
      { variantId: candleLarge.id, quantity: candleLarge.stock, expiresAt: new Date(now + 15 * 60_000) },
      { variantId: boardLarge.id, quantity: 1, expiresAt: new Date(now + 15 * 60_000) },
      { variantId: mugCobalt.id, quantity: mugCobalt.stock, expiresAt: new Date(now - 60_000) },
    ],
  });

  const xml = new XMLParser({ parseTagValue: false, isArray: (name) => name === "item" });
  const google = xml.parse((await request(t.app).get("/shop/feeds/google.xml").expect(200)).text).rss.channel.item as Record<string, string>[];
  googleItems = google;
  feeds.set("google.xml", new Map(google.map((i) => [i["g:id"]!, offerOf(i["g:price"]!, i["g:sale_price"], i["g:availability"]!)])));
  for (const [file, id] of [["meta.csv", "id"], ["pinterest.csv", "id"], ["tiktok.csv", "sku_id"]] as const) {
    const rows = parseCsv((await request(t.app).get(`/shop/feeds/${file}`).expect(200)).text, { columns: true }) as Record<string, string>[];
    feeds.set(file, new Map(rows.map((r) => [r[id]!, offerOf(r.price!, r.sale_price || undefined, r.availability!)])));
  }
  // Seeding re-encodes two dozen photos with sharp: slow on a busy machine.
}, 180_000);
afterAll(() => t?.close());

describe("feeds against the product page, over the whole demo catalog", () => {
  it("gives every apparel item Google's gender, age group and colour, and Feed health finds nothing missing", async () => {
    const apparel = googleItems.filter((i) => i["g:google_product_category"]!.startsWith("Apparel & Accessories"));
    expect(apparel.length).toBe(9);
    for (const item of apparel) {
      expect(item["g:gender"], item.title).toMatch(/^(male|female|unisex)$/);
      expect(item["g:age_group"], item.title).toBe("adult");
      expect(item["g:color"], item.title).toBeTruthy();
    }
    // Colours come from the variants' Colour option; the earrings (no options) carry the product's own.
    expect(googleItems.filter((i) => i.title!.includes("Beanie")).map((i) => i["g:color"]).sort()).toEqual(["Forest green", "Mustard"]);
    expect(googleItems.find((i) => i.title!.startsWith("Pomegranate"))!["g:color"]).toBe("Silver/Red");
    const { getFeedHealth } = await import("../src/feeds/feeds.service.js");
    const health = await getFeedHealth(t.deps, { publicBase: BASE });
    expect(health.targetCountries).toEqual(["US"]);
    expect(health.problems.filter((p) => p.severity === "error")).toEqual([]);
  });

  it("lists every variant of every active product in all four feeds", async () => {
    const variants = await t.db.variant.findMany({ where: { archivedAt: null, product: { status: "active" } }, select: { id: true } });
    expect(variants.length).toBeGreaterThanOrEqual(20);
    for (const [file, items] of feeds) expect([...items.keys()].sort(), file).toEqual(variants.map((v) => v.id).sort());
  });

  it("shows, for each variant, the same price and availability on the page, in its JSON-LD and in every feed", async () => {
    const products = await t.db.product.findMany({
      where: { status: "active" },
      include: { variants: { where: { archivedAt: null }, orderBy: { position: "asc" } } },
    });
    let checked = 0;
    let soldOut = 0;
    for (const product of products) {
      for (const variant of product.variants) {
        const page = await request(t.app).get(`/shop/p/${product.slug}?variant=${variant.id}&lang=en`).expect(200);
        const $ = load(page.text);
        const visible = $(".price__now").text().trim();
        const visibleWas = $(".price__was").text().trim();
        const visibleInStock = !$("#stock").text().includes("Sold out");
        const ld = JSON.parse($('script[type="application/ld+json"]').text()) as { offers: { sku: string; url: string; price: string; priceCurrency: string; availability: string }[] };
        const ldOffer = ld.offers.find((o) => o.url.endsWith(`?variant=${variant.id}`));
        expect(ldOffer, `${variant.sku}: JSON-LD offer`).toBeDefined();
        expect(ldOffer!.sku).toBe(variant.sku);

        for (const [file, items] of feeds) {
          const feed = items.get(variant.id);
          const where = `${variant.sku} in ${file}`;
          expect(feed, where).toBeDefined();
          const minor = Math.round(Number(feed!.amount) * 100);
          expect(formatMoney(minor, feed!.currency, "en"), where).toBe(visible);
          expect(feed!.amount, where).toBe(ldOffer!.price);
          expect(feed!.currency, where).toBe(ldOffer!.priceCurrency);
          expect(feed!.inStock, where).toBe(ldOffer!.availability === "https://schema.org/InStock");
          expect(feed!.inStock, where).toBe(visibleInStock);
          if (feed!.wasAmount) expect(visibleWas, where).toContain(formatMoney(Math.round(Number(feed!.wasAmount) * 100), feed!.currency, "en"));
          else expect(visibleWas, where).toBe("");
        }
        checked++;
        if (!visibleInStock) soldOut++;
      }
    }
    expect(checked).toBe(feeds.get("google.xml")!.size);
    // Stock 0 in the catalog (3 variants), the fully held candle and the board
    // whose only unit is held; the hold on the cobalt mug has expired.
    expect(soldOut).toBe(5);
  });

  it("sends the fully held variant as sold out, and ignores the hold that ran out", async () => {
    const candle = await t.db.variant.findUniqueOrThrow({ where: { sku: "HOM-CND-400" } });
    const mug = await t.db.variant.findUniqueOrThrow({ where: { sku: "CER-MUG-COB" } });
    const board = await t.db.variant.findUniqueOrThrow({ where: { sku: "WOD-BRD-L" } });
    for (const [file, items] of feeds) {
      expect(items.get(candle.id)!.inStock, file).toBe(false);
      expect(items.get(mug.id)!.inStock, file).toBe(true);
      // Stock 1, held 1.
      expect(items.get(board.id)!.inStock, file).toBe(false);
    }
  });
});
