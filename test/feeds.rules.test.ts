import { parse as parseCsv } from "csv-parse/sync";
import fc from "fast-check";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { checkItem, cleanDescription, cleanTitle, gtinCheckDigit, isAllCaps, isValidGtin, LIMITS, PLATFORMS, RULE_CODES, truncateText, type Platform, type RuleInput } from "../src/feeds/feeds.rules.js";
import type { FeedContext } from "../src/feeds/feeds.rules.js";
import { buildFeedItem, type FeedCandidate } from "../src/feeds/feeds.service.js";
import { csvLine } from "../src/feeds/formats/csv.js";
import { xmlText } from "../src/feeds/formats/google.js";
import { feedsMessages } from "../src/feeds/feeds.messages.js";

const good: RuleInput = {
  id: "cmv0variant000000000000000",
  title: "Blue ceramic mug",
  description: "Thrown by hand and glazed twice.",
  link: "https://shop.example/p/blue-mug?variant=x&utm_source=google",
  image: { width: 1200, height: 1200 },
  priceMinor: 2800,
  currency: "USD",
  condition: "new",
  brand: "Clay Studio",
  gtin: null,
  mpn: null,
  identifierExists: false,
  googleCategory: "Home & Garden > Kitchen & Dining",
};

const rulesOf = (platform: Platform, input: Partial<RuleInput>) => checkItem(platform, { ...good, ...input }).map((p) => `${p.rule}:${p.severity}`);
const errorsOn = (input: Partial<RuleInput>) => PLATFORMS.filter((p) => checkItem(p, { ...good, ...input }).some((x) => x.severity === "error"));

/** A complete candidate, as readFeedCandidates() gives one; judged whole by buildFeedItem(). */
const candidate: FeedCandidate = {
  productId: "p1", variantId: "v1", sku: "S1", slug: "mug", productTitle: "Mug", title: "Blue ceramic mug", description: "Thrown by hand.",
  image: { storageKey: "k", width: 900, height: 900 }, additionalImages: [],
  offer: { variantId: "v1", priceMinor: 2800, compareAtMinor: null, currency: "USD", available: 2, availability: "in_stock" },
  condition: "new", brand: "Clay Studio", gtin: null, mpn: null, identifierExists: false, googleCategory: "Home & Garden > Decor", productType: "",
  attributes: { color: null, size: null, material: null, pattern: null }, gender: null, ageGroup: null,
};
const judged = (platform: Platform, over: Partial<FeedCandidate>, ctx: FeedContext = { targetCountries: ["US"] }) =>
  buildFeedItem(platform, { ...candidate, ...over }, "https://s.example", ctx).problems.map((p) => `${p.rule}:${p.severity}`);
const leftOutOf = (over: Partial<FeedCandidate>) => PLATFORMS.filter((p) => buildFeedItem(p, { ...candidate, ...over }, "https://s.example").item === null);

describe("feed rules", () => {
  it("finds nothing wrong with a complete item", () => {
    for (const platform of PLATFORMS) expect(checkItem(platform, good), platform).toEqual([]);
  });

  it("requires a title, a description, a photo and a positive price in a real currency, everywhere", () => {
    for (const platform of PLATFORMS) expect(judged(platform, {}), platform).toEqual([]);
    expect(leftOutOf({ title: "  " })).toEqual([...PLATFORMS]);
    expect(judged("meta", { title: "\u0007 " })).toContain("title_missing:error");
    expect(leftOutOf({ description: "<p> </p>" })).toEqual([...PLATFORMS]);
    expect(judged("google", { description: "<p> </p>" })).toEqual(["description_missing:error"]);
    expect(leftOutOf({ image: null })).toEqual([...PLATFORMS]);
    expect(judged("tiktok", { image: null })).toEqual(["image_missing:error"]);
    expect(errorsOn({ priceMinor: 0 })).toEqual([...PLATFORMS]);
    expect(errorsOn({ priceMinor: -100 })).toEqual([...PLATFORMS]);
    expect(errorsOn({ currency: "usd" })).toEqual([...PLATFORMS]);
    expect(errorsOn({ currency: "XYZ" })).toEqual([...PLATFORMS]);
    expect(errorsOn({ condition: "like new" })).toEqual([...PLATFORMS]);
    expect(rulesOf("google", { currency: "XYZ" })).toEqual(["currency_invalid:error"]);
  });

  it("applies TikTok's title rules as errors and others' as warnings", () => {
    expect(rulesOf("tiktok", { title: "BLUE CERAMIC MUG" })).toEqual(["title_all_caps:error"]);
    expect(rulesOf("google", { title: "BLUE CERAMIC MUG" })).toEqual(["title_all_caps:warning"]);
    expect(rulesOf("pinterest", { title: "BLUE CERAMIC MUG" })).toEqual([]);
    expect(rulesOf("tiktok", { title: "Blue mug ☕" })).toEqual(["title_emoji:error"]);
    expect(rulesOf("tiktok", { title: "Flag 🇮🇷 mug" })).toEqual(["title_emoji:error"]);
    expect(rulesOf("tiktok", { title: "Studio® mug™" })).toEqual([]);
    expect(rulesOf("tiktok", { title: "Blue\u0007mug" })).toEqual(["title_control_chars:error"]);
    expect(rulesOf("meta", { title: "Blue\tmug" })).toEqual(["title_control_chars:warning"]);
    expect(rulesOf("tiktok", { title: "Blue mug - free shipping" })).toEqual(["title_promo:warning"]);
    expect(errorsOn({ title: "BLUE MUG 😀" })).toEqual(["tiktok"]);
  });

  it("never calls a caseless or short title all caps", () => {
    expect(isAllCaps("ماگ سرامیکی آبی")).toBe(false);
    expect(isAllCaps("USB")).toBe(false);
    expect(isAllCaps("USB cable")).toBe(false);
    expect(isAllCaps("BLUE MUG 2")).toBe(true);
    fc.assert(fc.property(fc.string(), (s) => !isAllCaps(s.toLowerCase())));
  });

  it("needs a brand, GTIN or MPN for Google unless the product has no identifiers, and always for Meta and TikTok", () => {
    const branded = { identifierExists: true };
    expect(leftOutOf({ ...branded, brand: "", gtin: null, mpn: null })).toEqual(["google", "meta", "tiktok"]);
    expect(judged("google", { ...branded, brand: "" })).toEqual(["identifiers_missing:error"]);
    // Handmade: Google takes identifier_exists = no, Meta and TikTok have no such thing.
    expect(leftOutOf({ identifierExists: false, brand: "" })).toEqual(["meta", "tiktok"]);
    expect(judged("meta", { brand: "  " })).toEqual(["brand_missing:error"]);
    expect(judged("tiktok", { brand: "", mpn: "AC-1" })).toEqual([]);
    expect(judged("meta", { ...branded, brand: "", gtin: "4006381333931" })).toEqual([]);
    expect(rulesOf("google", { ...branded, brand: "Acme" })).toEqual(["gtin_mpn_missing:warning"]);
    expect(rulesOf("google", { ...branded, brand: "Acme", mpn: "AC-1" })).toEqual([]);
    expect(rulesOf("google", { brand: "x".repeat(71) })).toEqual(["brand_too_long:error"]);
  });

  it("needs Google's apparel attributes where the target country requires them, and recommends them elsewhere", () => {
    const scarf = { googleCategory: "Apparel & Accessories > Clothing Accessories > Scarves & Shawls" };
    expect(judged("google", scarf).sort()).toEqual(["age_group_missing:error", "color_missing:error", "gender_missing:error"]);
    expect(judged("google", scarf, { targetCountries: ["IR", "CA"] }).sort()).toEqual(["age_group_missing:warning", "color_missing:warning", "gender_missing:warning"]);
    expect(judged("google", { ...scarf, gender: "unisex", ageGroup: "adult", attributes: { ...candidate.attributes, color: "Indigo" } })).toEqual([]);
    // Size only for clothing and shoes.
    const dress = { googleCategory: "Apparel & Accessories > Clothing > Dresses", gender: "female", ageGroup: "adult", attributes: { ...candidate.attributes, color: "Red" } };
    expect(judged("google", dress)).toEqual(["size_missing:error"]);
    expect(judged("google", { ...dress, attributes: { ...dress.attributes, size: "M" } })).toEqual([]);
    expect(judged("google", { ...dress, googleCategory: "Apparel & Accessories > Shoes" })).toEqual(["size_missing:error"]);
    // Other platforms, and other categories, do not require them.
    expect(judged("meta", scarf)).toEqual([]);
    expect(judged("google", { googleCategory: "Home & Garden > Decor" })).toEqual([]);
  });

  it("rejects an invalid GTIN on every platform", () => {
    expect(errorsOn({ gtin: "4006381333932" })).toEqual([...PLATFORMS]);
    expect(errorsOn({ gtin: "12345" })).toEqual([...PLATFORMS]);
    expect(errorsOn({ gtin: "4006381333931" })).toEqual([]);
  });

  it("checks the photo against each platform's minimum", () => {
    expect(errorsOn({ image: { width: 1000, height: 400 } })).toEqual(["meta", "tiktok"]);
    expect(errorsOn({ image: { width: 90, height: 90 } })).toEqual(["google", "meta", "tiktok"]);
    expect(errorsOn({ image: { width: 60, height: 600 } })).toEqual([...PLATFORMS]);
  });

  it("flags HTML and over-long descriptions as warnings: the feed cleans and cuts them", () => {
    expect(rulesOf("meta", { description: "<p>Good <b>mug</b></p>" })).toEqual(["description_html:warning"]);
    expect(rulesOf("google", { description: "word ".repeat(1200) })).toEqual(["description_too_long:warning"]);
    expect(rulesOf("pinterest", { description: "word ".repeat(1200) })).toEqual([]);
    expect(rulesOf("meta", { googleCategory: "Home & Garden" })).toEqual(["category_shallow:warning"]);
    expect(rulesOf("pinterest", { link: `https://shop.example/p/${"a".repeat(600)}` })).toEqual(["link_too_long:error"]);
  });

  it("enforces each platform's title and id limits exactly at the boundary", () => {
    fc.assert(
      fc.property(fc.constantFrom(...PLATFORMS), fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 160 }), (platform, titleLength, idLength) => {
        const found = checkItem(platform, { ...good, title: "a".repeat(titleLength), id: "i".repeat(idLength) }).map((p) => p.rule);
        expect(found.includes("title_too_long")).toBe(titleLength > LIMITS[platform].title);
        expect(found.includes("id_too_long")).toBe(idLength > LIMITS[platform].id);
      }),
    );
  });

  it("truncates descriptions to at most the limit, keeping short ones whole", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), fc.integer({ min: 10, max: 200 }), (text, max) => {
        const cut = truncateText(text, max);
        if ([...text].length <= max) expect(cut).toBe(text);
        else {
          expect([...cut].length).toBeLessThanOrEqual(max);
          expect(cut.endsWith("…")).toBe(true);
        }
      }),
    );
  });

  it("turns HTML into plain text and drops control characters", () => {
    expect(cleanDescription("<p>One &amp; two</p><p>Three<br>four</p><!-- note -->")).toBe("One & two\nThree\nfour");
    expect(cleanDescription("Tea\u0007 time\r\n\r\n\r\n\r\nnext")).toBe("Tea time\n\nnext");
    expect(cleanTitle(" Blue\tmug\u0000 ")).toBe("Blue mug");
    fc.assert(fc.property(fc.string(), (s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(cleanDescription(s))));
  });

  it("has English and Persian words for every rule and its fix", () => {
    for (const rule of RULE_CODES) {
      for (const kind of ["rule", "fix"]) {
        const key = `feeds.${kind}.${rule}` as keyof typeof feedsMessages.en;
        expect(feedsMessages.en[key], key).toBeTruthy();
        expect(feedsMessages.fa[key], key).toMatch(/[\u0600-\u06FF]/);
      }
    }
  });
});

describe("GTIN check digit", () => {
  it("accepts real barcodes", () => {
    for (const gtin of ["4006381333931", "036000291452", "96385074", "10614141000415", "5901234123457"]) expect(isValidGtin(gtin), gtin).toBe(true);
  });

  it("accepts any body with its computed check digit, and catches every single-digit typo", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(7, 11, 12, 13).chain((n) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n })),
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        (digits, at, delta) => {
          const body = digits.join("");
          const gtin = `${body}${gtinCheckDigit(body)}`;
          expect(isValidGtin(gtin)).toBe(true);
          const i = at % gtin.length;
          const typo = `${gtin.slice(0, i)}${(Number(gtin[i]) + delta) % 10}${gtin.slice(i + 1)}`;
          expect(isValidGtin(typo)).toBe(false);
        },
      ),
    );
  });

  it("refuses wrong lengths and anything but digits", () => {
    fc.assert(fc.property(fc.string().filter((s) => !/^(\d{8}|\d{12}|\d{13}|\d{14})$/.test(s)), (s) => !isValidGtin(s)));
  });
});

describe("feed encodings", () => {
  it("CSV lines round-trip through a real CSV parser, whatever the text", () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string({ unit: "grapheme" }), { minLength: 2, maxLength: 6 }), { minLength: 1, maxLength: 5 }), (rows) => {
        const width = rows[0]!.length;
        const table = rows.map((r) => Array.from({ length: width }, (_, i) => r[i] ?? ""));
        const text = table.map(csvLine).join("");
        expect(parseCsv(text, { relax_column_count: false })).toEqual(table);
      }),
    );
  });

  it("XML text round-trips through a real XML parser, minus what XML cannot hold", () => {
    const parser = new XMLParser({ parseTagValue: false, trimValues: false });
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", minLength: 1 }), (s) => {
        const expected = s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "").replace(/\r\n?/g, "\n");
        fc.pre(expected.length > 0);
        expect(parser.parse(`<a>${xmlText(s)}</a>`).a).toBe(expected);
      }),
    );
  });

  it("sends the compare-at price as the price and the real price as the sale price, as platforms expect", () => {
    const candidate: FeedCandidate = {
      productId: "p1", variantId: "v1", sku: "S1", slug: "mug", productTitle: "Mug", title: "Mug", description: "A mug.",
      image: { storageKey: "k", width: 900, height: 900 }, additionalImages: [],
      offer: { variantId: "v1", priceMinor: 2800, compareAtMinor: 3500, currency: "USD", available: 2, availability: "in_stock" },
      condition: "new", brand: "B", gtin: null, mpn: null, identifierExists: false, googleCategory: "", productType: "",
      attributes: { color: null, size: null, material: null, pattern: null }, gender: null, ageGroup: null,
    };
    const { item } = buildFeedItem("google", candidate, "https://s.example");
    expect(item).toMatchObject({ price: "35.00 USD", salePrice: "28.00 USD", imageLink: "https://s.example/media/k-sq.jpg" });
    const full = buildFeedItem("meta", { ...candidate, offer: { ...candidate.offer, compareAtMinor: null } }, "https://s.example").item;
    expect(full).toMatchObject({ price: "28.00 USD", salePrice: null });
  });
});
