import { readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { censorProfanity, contentHashOf, findProfanity, linkSignals, moderateContent, REJECT_REASONS, spamSignals, type ModerationSettings } from "../src/reviews/moderation.js";
import { ReviewSettingsSchema } from "../src/reviews/reviews.schema.js";
import { toModerationContent } from "../src/reviews/reviews.service.js";
import { bayesianAverage, getRatingPrior, listTopRatedProducts } from "../src/reviews/summary.js";
import { freshDatabase } from "./helpers/app.js";
import { EN_WORDS } from "../src/reviews/words/en.js";
import { FA_WORDS } from "../src/reviews/words/fa.js";

const settingsArb: fc.Arbitrary<ModerationSettings> = fc.record({
  autoPublish: fc.boolean(),
  profanity: fc.constantFrom("censor" as const, "hold" as const),
  links: fc.constantFrom("hold" as const, "allow" as const),
});

// Text that often contains what the filters look for: listed words, links, phone numbers, repeats, Persian.
const pieceArb = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(...EN_WORDS, ...FA_WORDS, "www.example.com", "https://x.io/a", "+1 555 123 4567", "mail me a@b.co", "!!!!!!!!!!", "good good good good good", "casino", "خیلی خوب", "f*ck", "sh1t", "assistant", "کسی"),
);
const textArb = fc.array(pieceArb, { maxLength: 6 }).map((parts) => parts.join(" "));
const submissionArb = fc.record({ title: textArb, body: textArb, displayName: textArb, isDuplicate: fc.boolean() });

describe("moderation filters (property)", () => {
  it("give the same decision for the same words whatever the rating", () => {
    fc.assert(
      fc.property(submissionArb, settingsArb, (s, settings) => {
        const decisions = [1, 2, 3, 4, 5].map((rating) => JSON.stringify(moderateContent(toModerationContent({ ...s, rating } as typeof s & { rating: number }, s.isDuplicate), settings)));
        return new Set(decisions).size === 1;
      }),
      { numRuns: 500 },
    );
  });

  it("never reject by themselves: they publish, or hold for a person", () => {
    fc.assert(
      fc.property(submissionArb, settingsArb, (s, settings) => {
        const d = moderateContent(toModerationContent(s, s.isDuplicate), settings);
        return (d.status === "published" || d.status === "pending") && d.flags.every((f) => f.action === "hold" || f.action === "censor");
      }),
    );
  });

  it("with auto-publish off nothing is published; with it on, only texts no filter holds are", () => {
    fc.assert(
      fc.property(submissionArb, settingsArb, (s, settings) => {
        const d = moderateContent(toModerationContent(s, s.isDuplicate), settings);
        const held = d.flags.some((f) => f.action === "hold");
        return d.status === (settings.autoPublish && !held ? "published" : "pending");
      }),
    );
  });

  it("censoring keeps the length, leaves nothing listed, and changes nothing in clean text", () => {
    fc.assert(
      fc.property(textArb, (text) => {
        const out = censorProfanity(text);
        expect([...out].length).toBe([...text].length);
        expect(findProfanity(out)).toEqual([]);
        if (findProfanity(text).length === 0) expect(out).toBe(text);
      }),
    );
  });

  it("finds every listed word as a whole word anywhere in a sentence, in English and Persian", () => {
    fc.assert(
      fc.property(fc.constantFrom(...EN_WORDS, ...FA_WORDS), fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), (word, before, after) => {
        return findProfanity(`${before} ${word} ${after}`).length > 0;
      }),
    );
    // …and not inside ordinary words.
    expect(findProfanity("The assistant found a classic Dickens novel; کسی آمد.")).toEqual([]);
  });

  it("spots links and contact details wherever they are", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.constantFrom("https://shop.example.com/x", "www.deals.io", "cheap-mugs.shop/buy"), (noise, link) => linkSignals(`${noise} ${link} ${noise}`).length > 0),
    );
    expect(spamSignals("call ۰۹۱۲ ۳۴۵ ۶۷۸۹ now")).toContain("phone_number");
    expect(linkSignals("Works well, e.g. for tea. Node.js fans rejoice.")).toEqual([]);
  });

  it("hashes the same words the same way whatever the case or spacing; short texts never count as copies", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z ]{25,60}$/), (body) => {
        fc.pre(body.replace(/\s/g, "").length >= 20);
        return contentHashOf({ title: "", body }) === contentHashOf({ title: "", body: `  ${body.toUpperCase().replace(/ /g, "   ")}  ` });
      }),
    );
    expect(contentHashOf({ title: "", body: "Great!" })).toBe("");
  });
});

describe("Bayesian average (property)", () => {
  const summaryArb = fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 200 }).map((stars) => ({ count: stars.length, sum: stars.reduce((a, b) => a + b, 0) }));
  const priorArb = fc.record({ mean: fc.double({ min: 1, max: 5, noNaN: true }), weight: fc.integer({ min: 1, max: 50 }) });

  it("is the prior with no reviews, and always lies between the prior and the product's own average", () => {
    fc.assert(
      fc.property(summaryArb, priorArb, (s, prior) => {
        const b = bayesianAverage(s, prior);
        if (s.count === 0) return Math.abs(b - prior.mean) < 1e-9;
        const avg = s.sum / s.count;
        return b >= Math.min(avg, prior.mean) - 1e-9 && b <= Math.max(avg, prior.mean) + 1e-9;
      }),
    );
  });

  it("never goes down with another 5-star review, never up with another 1-star review", () => {
    fc.assert(
      fc.property(summaryArb, priorArb, (s, prior) => {
        const b = bayesianAverage(s, prior);
        return bayesianAverage({ count: s.count + 1, sum: s.sum + 5 }, prior) >= b - 1e-9 && bayesianAverage({ count: s.count + 1, sum: s.sum + 1 }, prior) <= b + 1e-9;
      }),
    );
  });

  it("moves towards the product's own average as reviews add up", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 500 }), priorArb, (stars, n, prior) => {
        const few = bayesianAverage({ count: n, sum: n * stars }, prior);
        const more = bayesianAverage({ count: n * 2, sum: n * 2 * stars }, prior);
        return Math.abs(more - stars) <= Math.abs(few - stars) + 1e-9;
      }),
    );
  });

  it("the SQL that sorts 'top rated' orders products exactly as the formula does", async () => {
    const { db } = await freshDatabase();
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 30 }), { minLength: 2, maxLength: 8 }), async (products) => {
          await db.ratingSummary.deleteMany();
          await db.product.deleteMany();
          for (const [i, stars] of products.entries()) {
            const star = (n: number) => stars.filter((s) => s === n).length;
            await db.product.create({
              data: {
                id: `p${i}`, slug: `p${i}`, title: `P${i}`, status: "active",
                ratingSummary: { create: { count: stars.length, sum: stars.reduce((a, b) => a + b, 0), star1: star(1), star2: star(2), star3: star(3), star4: star(4), star5: star(5) } },
              },
            });
          }
          const deps = { db };
          const prior = await getRatingPrior(deps);
          const ranked = await listTopRatedProducts(deps, { limit: 50 });
          const scores = ranked.map((r) => bayesianAverage(r, prior));
          for (let i = 1; i < scores.length; i++) expect(scores[i - 1]! + 1e-9).toBeGreaterThanOrEqual(scores[i]!);
          expect(ranked.map((r) => r.score)).toEqual(scores);
        }),
        { numRuns: 15 },
      );
    } finally {
      await db.$disconnect();
    }
  });

  it("ranks forty 4.8-star reviews above a single 5-star one", () => {
    const prior = { mean: 4, weight: 5 };
    expect(bayesianAverage({ count: 40, sum: 192 }, prior)).toBeGreaterThan(bayesianAverage({ count: 1, sum: 5 }, prior));
  });
});

describe("no code path moderates by rating (source check)", () => {
  const src = (file: string) => readFileSync(path.join(import.meta.dirname, "../src/reviews", file), "utf8");
  const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  /** The source of one top-level function, from its declaration to the closing brace at column 0. */
  const fn = (text: string, name: string) => {
    const start = text.indexOf(`export async function ${name}(`) >= 0 ? text.indexOf(`export async function ${name}(`) : text.indexOf(`export function ${name}(`);
    expect(start, name).toBeGreaterThanOrEqual(0);
    return text.slice(start, text.indexOf("\n}\n", start));
  };

  it("the filters and the settings never mention a rating", () => {
    expect(code(src("moderation.ts"))).not.toMatch(/rating|\bstars?\b/i);
    expect(code(src("settings.ts"))).not.toMatch(/rating|\bstars?\b/i);
    expect(Object.keys(ReviewSettingsSchema.shape).filter((k) => /rating|star|score|sentiment|min|max/i.test(k))).toEqual([]);
    expect(REJECT_REASONS.filter((r) => /rating|star|negative|positive|low|bad/i.test(r))).toEqual([]);
  });

  it("submission, moderation actions and questions use the rating only to store it", () => {
    const service = code(src("reviews.service.ts"));
    expect(fn(service, "toModerationContent")).not.toMatch(/rating/i);
    expect(fn(service, "moderateReview")).not.toMatch(/rating/i);
    const submit = fn(service, "submitReview").split("\n").filter((l) => /rating/i.test(l)).map((l) => l.trim());
    expect(submit).toEqual(["rating: r.rating,"]);
    expect(code(src("questions.service.ts"))).not.toMatch(/rating/i);
    // The request email is written before any review exists.
    expect(fn(code(src("requests.service.ts")), "reviewRequestText")).not.toMatch(/rating/i);
  });
});
