/**
 * Product pages for search engines and link previews: Google's merchant
 * listing markup (sale with its regular price, shipping, return policy), and
 * each language's page naming itself (canonical, og:url, hreflang, @id).
 */
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setShopCountries, updateShopSettings } from "../src/shop/shop.service.js";
import { ShopSettingsForm } from "../src/shop/shop.schema.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { load } from "./helpers/html.js";

const BASE = "https://shop.example/shop";
let t: TestApp;
let slug: string;

interface Ld {
  "@id": string;
  url: string;
  offers: {
    sku: string;
    url: string;
    price: string;
    priceCurrency: string;
    priceSpecification?: { "@type": string; priceType: string; price: string; priceCurrency: string };
    shippingDetails?: { "@type": string; shippingLabel: string; shippingRate: { value: string; currency: string }; shippingDestination: { addressCountry: string }[] }[];
    hasMerchantReturnPolicy?: Record<string, unknown>;
  }[];
}

async function page(path: string) {
  const $ = load((await request(t.app).get(path).expect(200)).text);
  return { $, ld: JSON.parse($('script[type="application/ld+json"]').first().text()) as Ld };
}

async function setReturns(fields: { returnsDays: string; returnsFee?: string; returnsFeeAmount?: string; returnsCountry?: string }) {
  const form = ShopSettingsForm.parse({ countries: ["US", "CA"], ...fields });
  await updateShopSettings(t.deps, { form, actor: { type: "system" } });
}

beforeAll(async () => {
  t = await buildTestApp({ publicUrl: BASE });
  const p = await createProduct(t.deps, {
    title: "Glazed Bowl",
    optionNames: ["Size"],
    variants: [
      { sku: "BWL-S", option1: "Small", priceMinor: 2800, compareAtMinor: 3500 },
      { sku: "BWL-L", option1: "Large", priceMinor: 4200 },
    ],
    image: true,
    titleFa: "کاسهٔ لعابی",
  });
  slug = p.slug;
});
afterAll(() => t.close());

describe("product JSON-LD (Google merchant listings)", () => {
  it("marks a sale with the regular price as a StrikethroughPrice, and no strikethrough without a sale", async () => {
    const { ld } = await page(`/shop/p/${slug}`);
    const [small, large] = ld.offers;
    expect(small).toMatchObject({ sku: "BWL-S", price: "28.00", priceCurrency: "USD" });
    expect(small!.priceSpecification).toEqual({ "@type": "UnitPriceSpecification", priceType: "https://schema.org/StrikethroughPrice", price: "35.00", priceCurrency: "USD" });
    expect(large!.price).toBe("42.00");
    expect(large!.priceSpecification).toBeUndefined();
  });

  it("says what each shipping option costs, to every country the shop sells to, in the page's language", async () => {
    await setShopCountries(t.deps, { countries: ["US", "CA"] });
    const { ld } = await page(`/shop/p/${slug}?lang=en`);
    expect(ld.offers[0]!.shippingDetails).toEqual([
      { "@type": "OfferShippingDetails", shippingLabel: "Standard shipping", shippingRate: { "@type": "MonetaryAmount", value: "5.00", currency: "USD" }, shippingDestination: [{ "@type": "DefinedRegion", addressCountry: "US" }, { "@type": "DefinedRegion", addressCountry: "CA" }] },
      { "@type": "OfferShippingDetails", shippingLabel: "Express shipping", shippingRate: { "@type": "MonetaryAmount", value: "15.00", currency: "USD" }, shippingDestination: [{ "@type": "DefinedRegion", addressCountry: "US" }, { "@type": "DefinedRegion", addressCountry: "CA" }] },
    ]);
    const fa = await page(`/shop/p/${slug}?lang=fa`);
    expect(fa.ld.offers[0]!.shippingDetails!.map((d) => d.shippingLabel)).toEqual(["ارسال عادی", "ارسال سریع"]);
  });

  it("carries the return policy set in the admin: days, who pays, where; none when the shop states none", async () => {
    expect((await page(`/shop/p/${slug}`)).ld.offers[0]!.hasMerchantReturnPolicy).toBeUndefined();

    await setReturns({ returnsDays: "30", returnsFee: "free", returnsCountry: "US" });
    expect((await page(`/shop/p/${slug}`)).ld.offers[1]!.hasMerchantReturnPolicy).toEqual({
      "@type": "MerchantReturnPolicy",
      applicableCountry: "US",
      returnPolicyCategory: "https://schema.org/MerchantReturnFiniteReturnWindow",
      merchantReturnDays: 30,
      returnMethod: "https://schema.org/ReturnByMail",
      returnFees: "https://schema.org/FreeReturn",
    });

    await setReturns({ returnsDays: "14", returnsFee: "fixed", returnsFeeAmount: "4.50", returnsCountry: "CA" });
    expect((await page(`/shop/p/${slug}`)).ld.offers[0]!.hasMerchantReturnPolicy).toMatchObject({
      applicableCountry: "CA",
      merchantReturnDays: 14,
      returnFees: "https://schema.org/ReturnShippingFees",
      returnShippingFeesAmount: { "@type": "MonetaryAmount", value: "4.50", currency: "USD" },
    });

    await setReturns({ returnsDays: "21", returnsFee: "customer" });
    expect((await page(`/shop/p/${slug}`)).ld.offers[0]!.hasMerchantReturnPolicy).toMatchObject({ applicableCountry: "US", returnFees: "https://schema.org/ReturnFeesCustomerResponsibility" });

    await setReturns({ returnsDays: "0" });
    expect((await page(`/shop/p/${slug}`)).ld.offers[0]!.hasMerchantReturnPolicy).toEqual({
      "@type": "MerchantReturnPolicy",
      applicableCountry: "US",
      returnPolicyCategory: "https://schema.org/MerchantReturnNotPermitted",
    });
  });
});

describe("each language's page names itself", () => {
  it("English (the shop's default) at the bare path, Persian at ?lang=fa: canonical, og:url, hreflang and @id", async () => {
    const en = await page(`/shop/p/${slug}?lang=en`);
    const fa = await page(`/shop/p/${slug}?lang=fa`);
    const bare = `${BASE}/p/${slug}`;
    expect(en.$('link[rel="canonical"]').attr("href")).toBe(bare);
    expect(en.$('meta[property="og:url"]').attr("content")).toBe(bare);
    expect(fa.$('link[rel="canonical"]').attr("href")).toBe(`${bare}?lang=fa`);
    expect(fa.$('meta[property="og:url"]').attr("content")).toBe(`${bare}?lang=fa`);
    for (const { $ } of [en, fa]) {
      const alternates = $('link[rel="alternate"][hreflang]').map((_, l) => `${$(l).attr("hreflang")} ${$(l).attr("href")}`).get();
      expect(alternates).toEqual([`en ${bare}`, `fa ${bare}?lang=fa`, `x-default ${bare}`]);
    }
    expect(en.ld["@id"]).toBe(`${bare}#product`);
    expect(fa.ld["@id"]).toBe(`${bare}?lang=fa#product`);
    expect(fa.ld.url).toBe(`${bare}?lang=fa`);
    expect(fa.ld.offers[0]!.url).toMatch(new RegExp(`^${bare.replace(/[.?]/g, "\\$&")}\\?lang=fa&variant=`));
    expect(fa.$('meta[property="og:locale"]').attr("content")).toBe("fa_IR");
    expect(fa.$('meta[property="og:locale:alternate"]').attr("content")).toBe("en_US");
    // A Persian page read from the language cookie (no ?lang) still names the Persian URL.
    const cookie = await request(t.app).get(`/shop/p/${slug}`).set("Cookie", "bz_lang=fa").expect(200);
    expect(load(cookie.text)('link[rel="canonical"]').attr("href")).toBe(`${bare}?lang=fa`);
  });

  it("a shop whose default is Persian keeps Persian at the bare path and English at ?lang=en", async () => {
    const persian = await buildTestApp({ publicUrl: BASE, locale: "fa" });
    try {
      const p = await createProduct(persian.deps, { title: "Mug", image: true });
      const fa = load((await request(persian.app).get(`/shop/p/${p.slug}`).expect(200)).text);
      const en = load((await request(persian.app).get(`/shop/p/${p.slug}?lang=en`).expect(200)).text);
      expect(fa('link[rel="canonical"]').attr("href")).toBe(`${BASE}/p/${p.slug}`);
      expect(en('link[rel="canonical"]').attr("href")).toBe(`${BASE}/p/${p.slug}?lang=en`);
      expect(en('link[hreflang="x-default"]').attr("href")).toBe(`${BASE}/p/${p.slug}`);
    } finally {
      await persian.close();
    }
  });

  it("home and gallery name themselves per language too", async () => {
    for (const path of ["/", "/gallery"]) {
      const fa = load((await request(t.app).get(`/shop${path}?lang=fa`).expect(200)).text);
      expect(fa('link[rel="canonical"]').attr("href")).toBe(`${BASE}${path}?lang=fa`);
      expect(fa('meta[property="og:url"]').attr("content")).toBe(`${BASE}${path}?lang=fa`);
    }
  });
});
