import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatFeedPrice, formatMoney } from "../src/i18n/format.js";
import { MESSAGE_SETS } from "../src/i18n/registry.js";
import { translate } from "../src/i18n/translate.js";

describe("messages", () => {
  it("Persian has every English key and the same placeholders, in every feature", () => {
    // "{name}" and "{name, plural, …}" both name the variable `name`.
    const placeholders = (s: string) => [...new Set([...s.matchAll(/\{(\w+)(?:\}|,\s*plural,)/g)].map((m) => m[1]))].sort();
    for (const { en, fa } of MESSAGE_SETS) {
      expect(Object.keys(fa).sort()).toEqual(Object.keys(en).sort());
      for (const key of Object.keys(en)) {
        expect(fa[key], key).toBeTruthy();
        expect(placeholders(fa[key]!), key).toEqual(placeholders(en[key]!));
      }
    }
  });

  it("uses each language's plural rules: one review, two reviews; Persian counts take the singular", () => {
    expect(translate("en", "product.rating", { avg: 5, count: 1 })).toBe("5 out of 5 from 1 review");
    expect(translate("en", "product.rating", { avg: 4.5, count: 2 })).toBe("4.5 out of 5 from 2 reviews");
    expect(translate("en", "gallery.shopCount", { count: 1 })).toBe("1 product");
    expect(translate("en", "gallery.shopCount", { count: 3 })).toBe("3 products");
    expect(translate("en", "reviews.embed.all", { count: 1 })).toBe("Read the review");
    expect(translate("en", "coupons.admin.issued", { count: 0 })).toBe("No codes issued: no follower matched.");
    expect(translate("fa", "product.rating", { avg: 5, count: 1 })).toBe("۵ از ۵ بر پایهٔ ۱ نظر");
    // No English message says "1 <plural noun>": every count is written through a plural block.
    const en = Object.assign({}, ...MESSAGE_SETS.map((m) => m.en)) as Record<string, string>;
    for (const [key, text] of Object.entries(en)) {
      for (const n of [1, 2]) {
        const out = translate("en", key, { count: n, total: n, posts: n, products: n, warnings: n, broken: n, avg: 4, shop: "S", percent: 50, shown: n });
        expect(out, key).not.toMatch(/\b1 (reviews|products|posts|rows|problems|warnings|variants|codes|days|followers|tags|stars)\b/);
      }
      expect(text.includes("{count}") && /\{count\} (reviews|products|posts|rows|problems|warnings|variants|codes|days|followers|tags|stars)\b/.test(text), key).toBe(false);
    }
  });

  it("writes numbers in the page's digits", () => {
    expect(translate("en", "product.lowStock", { count: 3 })).toBe("Only 3 left");
    expect(translate("fa", "product.lowStock", { count: 3 })).toBe("فقط ۳ عدد باقی مانده");
  });
});

describe("money", () => {
  it("formats for the page per locale and currency", () => {
    expect(formatMoney(1250, "USD", "en")).toBe("$12.50");
    expect(formatMoney(1250, "USD", "fa")).toMatch(/۱۲٫۵۰/);
    expect(formatMoney(150000, "IRR", "en")).toMatch(/^IRR\s150,000$/);
    expect(formatMoney(500, "JPY", "en")).toBe("¥500");
  });

  it("formats feed prices as '<amount> <ISO code>' with ASCII digits, for any amount", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000_00 }), fc.constantFrom("USD", "EUR", "JPY", "IRR", "KWD"), (minor, currency) => {
        const s = formatFeedPrice(minor, currency);
        expect(s).toMatch(/^\d+(\.\d+)? [A-Z]{3}$/);
        const [amount] = s.split(" ");
        const digits = currency === "JPY" || currency === "IRR" ? 0 : currency === "KWD" ? 3 : 2;
        // Round trip: the printed amount is exactly the minor units.
        expect(Math.round(Number(amount) * 10 ** digits)).toBe(minor);
      }),
    );
    expect(formatFeedPrice(1250, "USD")).toBe("12.50 USD");
    expect(formatFeedPrice(5, "USD")).toBe("0.05 USD");
  });
});
