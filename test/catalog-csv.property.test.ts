import { stringify } from "csv-stringify/sync";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONDITIONS, PRODUCT_STATUSES } from "../src/catalog/catalog.schema.js";
import { formatImagesCell, guardFormula, parseImagesCell, unguardFormula } from "../src/catalog/csv/csv-cells.js";
import { checkCsvBytes, streamCsvRecords } from "../src/catalog/csv/csv-read.js";
import { htmlToText } from "../src/catalog/csv/html-text.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { addProduct, exportBytes, importCsv } from "./helpers/csv.js";
import { createToken } from "./helpers/factories.js";

/** Characters that break naive CSV code: separators, quotes, line ends, formula starts, escapes, Persian and ZWNJ. */
const TRICKY = ["a", "Z", " ", ",", '"', "\n", "\r\n", "\r", "=", "+", "-", "@", "'", "|", ";", "\\", "é", "ب", "ی", "ک", "\u200c", "۱", "7", "\t"];
const text = (maxLength: number) => fc.array(fc.constantFrom(...TRICKY), { maxLength }).map((a) => a.join(""));
const nonBlank = (maxLength: number) => text(maxLength).filter((s) => s.trim().length > 0);

/** Every record of a file, read as the import reads it: streamed in `slice`-byte pieces, stopping after every `stopEvery` records and resuming where it stopped. */
async function readStreamed(bytes: Buffer, slice: number, stopEvery: number) {
  const check = checkCsvBytes(bytes);
  if (!check.ok) throw new Error(check.problems[0]!.message);
  const records: { line: number; fields: string[] }[] = [];
  let from = { offset: check.bodyStart, feeds: 0 };
  for (;;) {
    let read = 0;
    for await (const r of streamCsvRecords(bytes, from, { sliceBytes: slice })) {
      records.push({ line: r.line, fields: r.fields });
      from = { offset: r.end, feeds: r.feedsAtEnd };
      if (++read === stopEvery) break;
    }
    if (read < stopEvery) return records;
  }
}

describe("streamCsvRecords", () => {
  it("gives back every field and the physical line each record starts on, for CRLF or LF files, however the bytes are sliced and wherever a read stops and resumes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(text(8), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 15 }),
        fc.constantFrom("\r\n", "\n"),
        fc.boolean(),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 6 }),
        async (rows, eol, bom, slice, stopEvery) => {
          const options = { record_delimiter: eol, quoted_match: /[\r\n]/ };
          const parts = [stringify([["a", "b", "c"]], options), ...rows.map((r) => stringify([r], options))];
          let line = 1;
          const expected: { line: number; fields: string[] }[] = [{ line: 1, fields: ["a", "b", "c"] }];
          parts.forEach((part, i) => {
            const row = rows[i - 1];
            if (row && row.some((f) => f.trim() !== "")) expected.push({ line, fields: row });
            line += part.split("\n").length - 1;
          });
          const records = await readStreamed(Buffer.from((bom ? "\uFEFF" : "") + parts.join(""), "utf8"), slice, stopEvery);
          expect(records).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("cell encodings", () => {
  it("formula guard round-trips every string and never leaves a formula start", () => {
    fc.assert(
      fc.property(text(12), (s) => {
        expect(unguardFormula(guardFormula(s))).toBe(s);
        expect(guardFormula(s)).not.toMatch(/^[=+\-@\t\r]/);
      }),
      { numRuns: 500 },
    );
  });

  it("images cell round-trips keys, alt text (with ; | and \\) and SKUs", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ storageKey: fc.stringMatching(/^[0-9a-f]{32}$/), alt: text(15).map((s) => s.trim()), sku: fc.option(fc.stringMatching(/^[A-Z0-9][A-Z0-9-]{0,10}$/), { nil: null }) }), { maxLength: 5 }),
        (images) => {
          expect(parseImagesCell(formatImagesCell(images))).toEqual(images);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("htmlToText", () => {
  it.each([
    ["<p>One</p><p>Two</p>", "One\n\nTwo"],
    ["Line<br>break<br/>again", "Line\nbreak\nagain"],
    ["<ul><li>a</li><li>b &amp; c</li></ul>", "- a\n- b & c"],
    ['<p title="a>b">Caf&eacute;&nbsp;cr&egrave;me</p>', "Café crème"],
    ["<p>Keep</p><script>alert(1)</script><style>p{}</style><!-- note -->", "Keep"],
    ["<div>  lots   of\n  space  </div>", "lots of space"],
    ["plain text", "plain text"],
  ])("%j → %j", (html, expected) => {
    expect(htmlToText(html)).toBe(expected);
  });
});

describe("catalog round trip (property)", () => {
  let a: TestApp;
  let b: TestApp;
  let aToken: string;
  let bToken: string;
  beforeAll(async () => {
    a = await buildTestApp();
    b = await buildTestApp();
    aToken = (await createToken(a.deps)).token;
    bToken = (await createToken(b.deps)).token;
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  const variant = fc.record({
    option: text(10),
    priceMinor: fc.integer({ min: 0, max: 2_000_000 }),
    markup: fc.option(fc.integer({ min: 1, max: 50_000 }), { nil: null }),
    stock: fc.integer({ min: 0, max: 5000 }),
    gtin: fc.option(fc.constantFrom("4006381333931", "012345678905", "96385074", "10012345678902"), { nil: null }),
    mpn: fc.option(nonBlank(12), { nil: null }),
    weightGrams: fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: null }),
  });
  const product = fc.record({
    title: nonBlank(30),
    description: text(60),
    brand: text(12),
    condition: fc.constantFrom(...CONDITIONS),
    googleCategory: text(20),
    identifierExists: fc.boolean(),
    status: fc.constantFrom(...PRODUCT_STATUSES),
    fa: fc.option(fc.record({ title: nonBlank(20), description: text(30) }), { nil: null }),
    collections: fc.subarray(["ceramics", "textiles", "gifts"]),
    optionName: nonBlank(12),
    variants: fc.array(variant, { minLength: 1, maxLength: 3 }),
  });

  // 25 catalogs, each written, exported, checked and imported over HTTP: minutes on a busy machine.
  it("export → import into an empty shop → export gives the same bytes, and re-importing the export changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(product, { minLength: 1, maxLength: 4 }), async (products) => {
        for (const shop of [a, b]) {
          await shop.db.product.deleteMany();
          await shop.db.collection.deleteMany();
        }
        await a.db.collection.createMany({ data: ["ceramics", "textiles", "gifts"].map((slug) => ({ slug, title: slug })) });
        for (const [i, p] of products.entries()) {
          await addProduct(a.deps, {
            slug: `product-${i}`,
            title: p.title,
            description: p.description,
            brand: p.brand,
            condition: p.condition,
            googleCategory: p.googleCategory,
            identifierExists: p.identifierExists,
            status: p.status,
            optionNames: [p.optionName],
            collections: p.collections,
            translations: p.fa ? { fa: p.fa } : {},
            variants: p.variants.map((v, j) => ({
              sku: `SKU-${i}-${j}`,
              option1: `${v.option.trim()} ${j}`.trim(),
              priceMinor: v.priceMinor,
              compareAtMinor: v.markup === null ? null : v.priceMinor + v.markup,
              stock: v.stock,
              gtin: v.gtin,
              mpn: v.mpn,
              weightGrams: v.weightGrams,
            })),
          });
        }
        const exported = await exportBytes(a.app, aToken);

        const again = await importCsv(a.app, aToken, exported, true);
        expect(again.status, JSON.stringify(again.body)).toBe(200);
        expect(again.body.data.summary.products).toEqual({ create: 0, update: 0, unchanged: products.length });

        const applied = await importCsv(b.app, bToken, exported, false);
        expect(applied.status, JSON.stringify(applied.body)).toBe(200);
        expect(applied.body.data.summary.products.create).toBe(products.length);
        expect((await exportBytes(b.app, bToken)).toString("utf8")).toBe(exported.toString("utf8"));
      }),
      { numRuns: 25 },
    );
  }, 180_000);
});
