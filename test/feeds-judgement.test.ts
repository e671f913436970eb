/**
 * Feed health and the feeds are one judgement. For every rule each platform's
 * feed claims to follow (its content rules in RULES, and the required fields
 * its format declares), a product is built that breaks exactly that rule.
 * Feed health must report it for that platform, and the feed must leave the
 * item out (an error) or publish it, fixed where the rule says the feed
 * fixes it (a warning). A rule without a breaker here fails the test, so a
 * new rule cannot go untested.
 */
import { parse as parseCsv } from "csv-parse/sync";
import { XMLParser } from "fast-xml-parser";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../src/deps.js";
import { LIMITS, PLATFORMS, RULES, type Platform, type RuleCode, type Severity } from "../src/feeds/feeds.rules.js";
import { FORMATS } from "../src/feeds/feeds.service.js";
import { setShopCountries } from "../src/shop/shop.service.js";
import { storeImage } from "../src/media/media.service.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct, createToken, testImage } from "./helpers/factories.js";

type Row = Record<string, string>;
type Product = Awaited<ReturnType<typeof createProduct>>;

interface Breaker {
  /** Makes a clean product (title, description, brand, 900 px photo, price) break the rule. */
  break(deps: Deps, p: Product): Promise<void>;
  /** For a warning: what the feed fixed in the published row. */
  fixed?(row: Row, platform: Platform): void;
  /** No photo at all. */
  noImage?: boolean;
}

const db = (deps: Deps) => deps.db;
const APPAREL = "Apparel & Accessories > Clothing Accessories > Scarves & Shawls";

const BREAKERS: Record<Exclude<RuleCode, "field_missing">, Breaker> = {
  id_too_long: { break: (d, p) => db(d).$executeRaw`UPDATE "Variant" SET "id" = ${`v${"x".repeat(140)}`} WHERE "id" = ${p.variants[0]!.id}`.then(() => undefined) },
  title_missing: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { title: "\u0007 " } }).then(() => undefined) },
  title_too_long: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { title: `Mug ${"a".repeat(520)}` } }).then(() => undefined) },
  title_long: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { title: `Blue mug ${"a".repeat(110)}` } }).then(() => undefined) },
  title_all_caps: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { title: "BLUE CERAMIC MUG" } }).then(() => undefined) },
  title_emoji: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { title: "Blue mug ☕" } }).then(() => undefined) },
  title_control_chars: {
    break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { title: "Blue\tceramic mug" } }).then(() => undefined),
    fixed: (row) => expect(row.title).toBe("Blue ceramic mug"),
  },
  title_promo: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { title: "Blue mug - free shipping" } }).then(() => undefined) },
  description_missing: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { description: "<p> </p>" } }).then(() => undefined) },
  description_html: {
    break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { description: "<p>Good <b>mug</b></p>" } }).then(() => undefined),
    fixed: (row) => expect(row.description).toBe("Good mug"),
  },
  description_too_long: {
    break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { description: "word ".repeat(2100) } }).then(() => undefined),
    fixed: (row, platform) => expect([...row.description!].length).toBeLessThanOrEqual(LIMITS[platform].description),
  },
  link_too_long: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { slug: `mug-${"a".repeat(2100)}` } }).then(() => undefined) },
  image_missing: { break: async () => undefined, noImage: true },
  image_too_small: { break: (d, p) => addImage(d, p, 60) },
  price_not_positive: { break: (d, p) => db(d).variant.update({ where: { id: p.variants[0]!.id }, data: { priceMinor: 0 } }).then(() => undefined) },
  currency_invalid: { break: (d, p) => db(d).variant.update({ where: { id: p.variants[0]!.id }, data: { currency: "XYZ" } }).then(() => undefined) },
  condition_invalid: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { condition: "like new" } }).then(() => undefined) },
  gtin_mpn_missing: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { identifierExists: true } }).then(() => undefined) },
  gtin_invalid: { break: (d, p) => db(d).variant.update({ where: { id: p.variants[0]!.id }, data: { gtin: "4006381333932" } }).then(() => undefined) },
  brand_too_long: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { brand: "b".repeat(80) } }).then(() => undefined) },
  mpn_too_long: { break: (d, p) => db(d).variant.update({ where: { id: p.variants[0]!.id }, data: { mpn: "m".repeat(80) } }).then(() => undefined) },
  category_shallow: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { googleCategory: "Home & Garden" } }).then(() => undefined) },
  identifiers_missing: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { identifierExists: true, brand: "" } }).then(() => undefined) },
  // The bug this test was written for: no brand went to Meta and TikTok with an empty column.
  brand_missing: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { brand: "" } }).then(() => undefined) },
  color_missing: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { googleCategory: APPAREL, gender: "unisex", ageGroup: "adult" } }).then(() => undefined) },
  gender_missing: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { googleCategory: APPAREL, ageGroup: "adult", color: "Indigo" } }).then(() => undefined) },
  age_group_missing: { break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { googleCategory: APPAREL, gender: "female", color: "Indigo" } }).then(() => undefined) },
  size_missing: {
    break: (d, p) => db(d).product.update({ where: { id: p.id }, data: { googleCategory: "Apparel & Accessories > Clothing > Dresses", gender: "female", ageGroup: "adult", color: "Red" } }).then(() => undefined),
  },
};

async function addImage(deps: Deps, p: Product, side: number) {
  const media = await storeImage(deps, { bytes: await testImage({ width: side, height: side }) });
  await deps.db.productImage.create({ data: { productId: p.id, mediaId: media.id, position: 0 } });
}

/** Every rule a platform's feed claims to follow: its content rules and the required fields of its format. */
function claimedRules(platform: Platform): RuleCode[] {
  const content = (Object.keys(RULES) as (keyof typeof RULES)[]).filter((r) => (RULES[r] as Partial<Record<Platform, Severity>>)[platform]);
  const fields = FORMATS[platform].fields.flatMap((f) => (f.required ? [f.required.rule] : []));
  return [...new Set<RuleCode>([...content, ...fields])];
}

const BASE = "https://judge.example/shop";
const xml = new XMLParser({ ignoreAttributes: false, parseTagValue: false, isArray: (name) => name === "item" });
let t: TestApp;
let token: string;
const byRule = new Map<RuleCode, Product>();
let clean: Product;

interface HealthProblem {
  platform: Platform;
  rule: RuleCode;
  severity: Severity;
  productId: string;
  variantId: string | null;
}

async function health(): Promise<HealthProblem[]> {
  const res = await request(t.app).get("/shop/api/v1/feeds/health").set("Authorization", `Bearer ${token}`).expect(200);
  return res.body.data.problems;
}

/** Rows of one platform's feed, keyed by item id. */
async function feedRows(platform: Platform): Promise<Map<string, Row>> {
  const res = await request(t.app).get(`/shop/feeds/${FORMATS[platform].fileName}`).expect(200);
  if (platform === "google") {
    const items = (xml.parse(res.text).rss.channel.item ?? []) as Row[];
    return new Map(items.map((i) => [i["g:id"]!, i]));
  }
  const rows = parseCsv(res.text, { columns: true }) as Row[];
  return new Map(rows.map((r) => [r.id ?? r.sku_id!, r]));
}

const idsOf = async (p: Product) => (await t.db.variant.findMany({ where: { productId: p.id }, select: { id: true } })).map((v) => v.id);

beforeAll(async () => {
  t = await buildTestApp({ publicUrl: BASE });
  token = (await createToken(t.deps)).token;
  const make = async (title: string, breaker?: Breaker) => {
    const p = await createProduct(t.deps, { title, description: "Thrown by hand and glazed twice.", brand: "Clay Studio" });
    await t.db.product.update({ where: { id: p.id }, data: { identifierExists: false, googleCategory: "Home & Garden > Decor" } });
    if (!breaker?.noImage && breaker !== BREAKERS.image_too_small) await addImage(t.deps, p, 900);
    await breaker?.break(t.deps, p);
    return p;
  };
  clean = await make("Clean mug");
  for (const [rule, breaker] of Object.entries(BREAKERS) as [Exclude<RuleCode, "field_missing">, Breaker][]) byRule.set(rule, await make(`Mug breaking ${rule}`, breaker));
});
afterAll(() => t.close());

describe("one judgement: Feed health and the feeds", () => {
  it("has a product breaking every rule any feed claims to follow", () => {
    const claimed = new Set(PLATFORMS.flatMap(claimedRules));
    // field_missing guards fields the shop always fills (id, link, price, availability,
    // condition); no product can leave them empty, so no product can break it.
    claimed.delete("field_missing");
    expect([...claimed].sort()).toEqual(Object.keys(BREAKERS).sort());
  });

  it("reports each broken rule on every platform that claims it, and that feed leaves the item out or fixes it", async () => {
    const problems = await health();
    for (const platform of PLATFORMS) {
      const rows = await feedRows(platform);
      for (const v of await idsOf(clean)) expect(rows.has(v), `${platform}: the clean product is published`).toBe(true);
      for (const rule of claimedRules(platform)) {
        if (rule === "field_missing") continue;
        const product = byRule.get(rule)!;
        const found = problems.filter((p) => p.platform === platform && p.rule === rule && p.productId === product.id);
        expect(found.length, `${platform} ${rule}: reported by Feed health`).toBeGreaterThan(0);
        for (const id of await idsOf(product)) {
          const row = rows.get(id);
          if (found.some((p) => p.severity === "error")) {
            expect(row, `${platform} ${rule}: an error leaves the item out`).toBeUndefined();
          } else {
            expect(row, `${platform} ${rule}: a warning publishes the item`).toBeDefined();
            BREAKERS[rule as keyof typeof BREAKERS].fixed?.(row!, platform);
          }
        }
      }
    }
  });

  it("publishes exactly the items Feed health does not hold an error against, on every platform", async () => {
    const problems = await health();
    const variants = await t.db.variant.findMany({ where: { archivedAt: null, product: { status: "active" } }, select: { id: true, productId: true } });
    for (const platform of PLATFORMS) {
      const rows = await feedRows(platform);
      const refused = (v: { id: string; productId: string }) =>
        problems.some((p) => p.platform === platform && p.severity === "error" && p.productId === v.productId && (p.variantId === null || p.variantId === v.id));
      const expected = variants.filter((v) => !refused(v)).map((v) => v.id).sort();
      expect([...rows.keys()].sort(), platform).toEqual(expected);
      // And every required column of every published row has a value.
      for (const row of rows.values()) {
        for (const field of FORMATS[platform].fields) {
          if (field.required && !field.required.severity) expect(row[field.name], `${platform} ${field.name}`).toBeTruthy();
        }
      }
    }
  });

  it("recommends the apparel attributes (and publishes the item) when no target country requires them", async () => {
    await setShopCountries(t.deps, { countries: ["CA", "IR"] });
    try {
      const problems = await health();
      const rows = await feedRows("google");
      for (const rule of ["color_missing", "gender_missing", "age_group_missing", "size_missing"] as const) {
        const product = byRule.get(rule)!;
        expect(problems.filter((p) => p.platform === "google" && p.productId === product.id).map((p) => `${p.rule}:${p.severity}`)).toEqual([`${rule}:warning`]);
        for (const id of await idsOf(product)) expect(rows.has(id), rule).toBe(true);
      }
    } finally {
      await setShopCountries(t.deps, { countries: ["US"] });
    }
  });
});
