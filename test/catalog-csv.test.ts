import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { addProduct, catalogCounts, catalogStamps, exportBytes, fixture, importCsv } from "./helpers/csv.js";
import { createProduct, createToken, testImage } from "./helpers/factories.js";
import { storeImage } from "../src/media/media.service.js";
import { seedDemoShop } from "../src/seed/demo.js";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import request from "supertest";

type Detail = { line: number; column: string | null; message: string };

let t: TestApp;
let token: string;
beforeAll(async () => {
  t = await buildTestApp();
  token = (await createToken(t.deps)).token;
  // Another product owns this SKU; the bad-values fixture reuses it on line 16.
  await createProduct(t.deps, { slug: "existing-thing", title: "Existing Thing", variants: [{ sku: "EXISTING-1" }] });
});
afterAll(() => t.close());

const placeOf = (d: Detail) => `${d.line}:${d.column}`;

describe("bad input: every problem named by line and column, nothing written", () => {
  it("lists every bad cell of a file in one dry run, at the right physical line after a multi-line field", async () => {
    const res = await importCsv(t.app, token, fixture("ours-bad-values.csv"), true).expect(422);
    expect(res.body.error.code).toBe("import_invalid");
    const details = res.body.error.details as Detail[];
    expect(details.map(placeOf)).toEqual([
      "4:price",
      "5:price",
      "6:currency",
      "7:currency",
      "8:stock",
      "9:gtin",
      "10:status",
      "11:condition",
      "12:sku",
      "13:stock",
      "15:title",
      "16:sku",
      "17:compare_at_price",
    ]);
    const at = (place: string) => details.find((d) => placeOf(d) === place)!.message;
    expect(at("4:price")).toContain("negative");
    expect(at("5:price")).toBe('"12.345" has more than 2 decimals, which USD does not allow.');
    expect(at("6:currency")).toContain('"XYZ" is not a currency code');
    expect(at("7:currency")).toContain("This shop sells in USD");
    expect(at("8:stock")).toContain("whole number");
    expect(at("9:gtin")).toBe("A GTIN has 8, 12, 13 or 14 digits.");
    expect(at("10:status")).toBe("One of draft, active, archived.");
    expect(at("11:condition")).toBe("One of new, refurbished, used.");
    expect(at("12:sku")).toBe("SKU GOOD-1 is also on line 2; every variant needs its own SKU.");
    expect(at("13:stock")).toBe("Stock cannot be negative.");
    expect(at("15:title")).toContain("Differs from line 14");
    expect(at("16:sku")).toContain('already belongs to "Existing Thing" (handle existing-thing)');
    expect(at("17:compare_at_price")).toContain("must be higher than the price");
    expect(res.body.error.message).toMatch(/^The file has 13 problems; nothing was written\. First: line 4, column price: /);
  });

  it("writes nothing when an apply fails, even though most rows are fine", async () => {
    const before = await catalogCounts(t.deps);
    const stamps = await catalogStamps(t.deps);
    await importCsv(t.app, token, fixture("ours-bad-values.csv"), false).expect(422);
    expect(await catalogCounts(t.deps)).toEqual(before);
    expect(await catalogStamps(t.deps)).toBe(stamps);
  });

  it("names the line and column of each byte that is not UTF-8 (a Latin-1 file)", async () => {
    const before = await catalogCounts(t.deps);
    const res = await importCsv(t.app, token, fixture("latin1.csv"), false).expect(422);
    const details = res.body.error.details as Detail[];
    expect(details.map(placeOf)).toEqual(["2:title", "4:description"]);
    expect(details[0]!.message).toContain("The file is not UTF-8 (byte 0xE9");
    expect(details[0]!.message).toContain('Save it as "CSV UTF-8"');
    expect(await catalogCounts(t.deps)).toEqual(before);
  });

  it("refuses a UTF-16 file with a clear message", async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("handle,title\r\n", "utf16le")]);
    const res = await importCsv(t.app, token, utf16, true).expect(422);
    expect(res.body.error.details).toEqual([{ line: 1, column: null, message: 'The file is UTF-16, not UTF-8. Save it as "CSV UTF-8" and upload it again.' }]);
  });

  it("reports a stray quote at its row and column, counting the multi-line field before it", async () => {
    const res = await importCsv(t.app, token, fixture("bad-quotes.csv"), true).expect(422);
    expect(res.body.error.details).toHaveLength(1);
    expect(res.body.error.details[0]).toMatchObject({ line: 4, column: "title" });
    expect(res.body.error.details[0].message).toMatch(/^Malformed CSV: a quote \(\"\) in the middle of an unquoted field/);
  });

  it("reports a quote that is never closed at the row where it opens", async () => {
    const res = await importCsv(t.app, token, fixture("unclosed-quote.csv"), true).expect(422);
    expect(res.body.error.details).toEqual([{ line: 3, column: "title", message: "Malformed CSV: a quoted field starts in this row but its closing quote is missing." }]);
  });

  it("lists the missing required columns by name", async () => {
    const res = await importCsv(t.app, token, fixture("missing-columns.csv"), true).expect(422);
    expect(res.body.error.details).toEqual([
      { line: 1, column: null, message: "Missing required columns: price, stock. The header must name them (see the column list in the import page or README)." },
    ]);
  });

  it.each([
    ["an empty file", "", "The file is empty."],
    ["a header without rows", "handle,title,sku,price,stock\r\n", "The file has a header but no rows"],
    ["a header we do not know", "name,cost\r\nMug,12\r\n", "The header is not one we know."],
    ["a column named twice", "handle,title,sku,price,stock,price\r\nmug,Mug,M-1,1.00,1,2.00\r\n", 'The column "price" appears twice'],
    ["a row with a missing cell", "handle,title,sku,price,stock\r\nmug,Mug,M-1,1.00\r\n", "This row has 4 cells but the header has 5"],
    ["a row without a handle", "handle,title,sku,price,stock\r\n,Mug,M-1,1.00,1\r\n", "Every row needs a handle"],
    ["a handle that is not a slug", "handle,title,sku,price,stock\r\nBlue Mug,Mug,M-1,1.00,1\r\n", "is not a handle"],
    ["a price that is not a number", "handle,title,sku,price,stock\r\nmug,Mug,M-1,twelve,1\r\n", '"twelve" is not an amount like 12.50'],
    ["a JPY-style decimal in a whole-unit currency shop is fine, but 3 decimals in USD are not", "handle,title,sku,price,stock\r\nmug,Mug,M-1,1.001,1\r\n", "more than 2 decimals"],
    ["a SKU with spaces", "handle,title,sku,price,stock\r\nmug,Mug,M 1,1.00,1\r\n", "Letters, digits and . _ - / only"],
    ["two variants without an option name", "handle,title,sku,price,stock\r\nmug,Mug,M-1,1.00,1\r\nmug,Mug,M-2,1.00,1\r\n", "Name the option"],
  ])("rejects %s with a message naming where", async (_name, csv, message) => {
    const before = await catalogCounts(t.deps);
    const res = await importCsv(t.app, token, csv, false).expect(422);
    const details = res.body.error.details as Detail[];
    expect(details.length).toBeGreaterThan(0);
    expect(details.some((d) => d.message.includes(message)), JSON.stringify(details)).toBe(true);
    for (const d of details) expect(d.line).toBeGreaterThanOrEqual(1);
    expect(await catalogCounts(t.deps)).toEqual(before);
  });

  it("answers 415 without a CSV content type, 413 above 5 MB, and 400 without dryRun", async () => {
    await request(t.app).post("/shop/api/v1/products/import?dryRun=true").set("Authorization", `Bearer ${token}`).send({ csv: "x" }).expect(415);
    const big = Buffer.alloc(5 * 1024 * 1024 + 10, 0x41);
    const tooBig = await importCsv(t.app, token, big, true).expect(413);
    expect(tooBig.body.error.message).toContain("at most 5 MB");
    const noFlag = await request(t.app).post("/shop/api/v1/products/import").set("Authorization", `Bearer ${token}`).set("Content-Type", "text/csv").send("handle\n").expect(400);
    expect(noFlag.body.error.message).toContain("dryRun");
    const latin = await request(t.app).post("/shop/api/v1/products/import?dryRun=true").set("Authorization", `Bearer ${token}`).set("Content-Type", "text/csv; charset=iso-8859-1").send("handle\n").expect(415);
    expect(latin.body.error.message).toContain("must be UTF-8");
  });

  it("needs an API token", async () => {
    await request(t.app).post("/shop/api/v1/products/import?dryRun=true").set("Content-Type", "text/csv").send("handle\n").expect(401);
    await request(t.app).get("/shop/api/v1/products/export.csv").expect(401);
  });
});

describe("Shopify product export", () => {
  let s: TestApp;
  let sToken: string;
  beforeAll(async () => {
    s = await buildTestApp();
    sToken = (await createToken(s.deps)).token;
  });
  afterAll(() => s.close());

  it("is detected from the header; the dry run counts products and variants and explains every adjustment", async () => {
    const res = await importCsv(s.app, sToken, fixture("shopify-export.csv"), true).expect(200);
    const report = res.body.data;
    expect(report).toMatchObject({ format: "shopify", rows: 7, valid: true, applied: false, problems: [] });
    expect(report.summary).toEqual({ products: { create: 3, update: 0, unchanged: 0 }, variants: { create: 6, update: 0, archive: 0 }, collectionsToCreate: [] });
    expect((report.warnings as Detail[]).map((w) => `${placeOf(w)} ${w.message.slice(0, 30)}`)).toEqual([
      "2:Image Src Image not imported (https://cd",
      "3:Variant Barcode \"APRON-CH\" is not a GTIN (8, 1",
      "3:Image Src Image not imported (https://cd",
      "4:Variant Inventory Qty -2 is below zero (oversold in ",
      "5:Image Src Image not imported (https://cd",
      "6:Image Src Image not imported (https://cd",
      "9:Variant Compare At Price 12.00 is not above the price 1",
      "10:Variant SKU No SKU; this variant gets bees",
      "10:Variant Inventory Qty Empty (Shopify does not track ",
    ]);
    expect(await s.db.product.count()).toBe(0);
  });

  it("creates the products, variants, stock and prices, with the HTML body as plain text", async () => {
    const res = await importCsv(s.app, sToken, fixture("shopify-export.csv"), false).expect(200);
    expect(res.body.data).toMatchObject({ applied: true, valid: true });

    const apron = await s.db.product.findUniqueOrThrow({ where: { slug: "linen-apron" }, include: { variants: { orderBy: { position: "asc" } } } });
    expect(apron).toMatchObject({
      title: "Linen Apron",
      brand: "Tea & Clay",
      status: "active",
      condition: "new",
      googleCategory: "Apparel & Accessories > Clothing > Aprons",
      optionNames: JSON.stringify(["Colour", "Size"]),
      description: "Stonewashed linen apron with two pockets.\n\n- 100% linen\n- Adjustable neck strap\n\nMachine wash & tumble dry low.",
    });
    expect(apron.variants.map((v) => [v.sku, v.option1, v.option2, v.priceMinor, v.compareAtMinor, v.stock, v.gtin, v.mpn, v.weightGrams, v.currency])).toEqual([
      ["APR-NAT-SM", "Natural", "S/M", 3800, null, 12, "4006381333931", "APR-1", 320, "USD"],
      ["APR-CHA-SM", "Charcoal", "S/M", 3800, null, 0, null, null, 320, "USD"],
      ["APR-CHA-LX", "Charcoal", "L/XL", 4200, 4800, 0, null, null, 340, "USD"],
    ]);

    const vase = await s.db.product.findUniqueOrThrow({ where: { slug: "ceramic-vase" }, include: { variants: true } });
    expect(vase).toMatchObject({ status: "draft", optionNames: "[]", description: "Small & sturdy\n\nHand-thrown stoneware,\nglazed in café crème.\n\nHeight 12 cm." });
    expect(vase.variants.map((v) => [v.sku, v.option1, v.priceMinor, v.stock, v.gtin, v.weightGrams])).toEqual([["VASE-01", null, 6450, 5, "012345678905", 850]]);

    const candle = await s.db.product.findUniqueOrThrow({ where: { slug: "beeswax-candle" }, include: { variants: { orderBy: { position: "asc" } } } });
    expect(candle).toMatchObject({ status: "archived", brand: "Hive Works", description: "Poured by hand." });
    expect(candle.archivedAt).not.toBeNull();
    expect(candle.variants.map((v) => [v.sku, v.option1, v.priceMinor, v.compareAtMinor, v.stock, v.weightGrams])).toEqual([
      ["CANDLE-HONEY", "Honey", 1200, null, 30, null],
      ["beeswax-candle-2", "Cedar", 1250, null, 0, null],
    ]);
    expect(await s.db.productImage.count()).toBe(0);

    const audit = await s.db.auditLog.findFirstOrThrow({ where: { action: "catalog.import" } });
    expect(audit.actorType).toBe("api");
    expect(JSON.parse(audit.details)).toMatchObject({ format: "shopify", rows: 7, summary: { products: { create: 3 } } });
  });

  it("re-importing the same Shopify file changes nothing and writes nothing", async () => {
    const stamps = await catalogStamps(s.deps);
    const res = await importCsv(s.app, sToken, fixture("shopify-export.csv"), false).expect(200);
    expect(res.body.data.summary.products).toEqual({ create: 0, update: 0, unchanged: 3 });
    expect(res.body.data.summary.variants).toEqual({ create: 0, update: 0, archive: 0 });
    expect(await catalogStamps(s.deps)).toBe(stamps);
  });

  it("keeps what a Shopify file cannot carry (Persian copy, collections) when it updates a product", async () => {
    await s.db.collection.create({ data: { slug: "aprons", title: "Aprons" } });
    const apron = await s.db.product.findUniqueOrThrow({ where: { slug: "linen-apron" } });
    await s.db.productTranslation.create({ data: { productId: apron.id, locale: "fa", title: "پیش‌بند کتان", description: "" } });
    await s.db.collectionProduct.create({ data: { productId: apron.id, collectionId: (await s.db.collection.findUniqueOrThrow({ where: { slug: "aprons" } })).id } });
    const changed = fixture("shopify-export.csv").toString("utf8").replace("38.00,,TRUE,TRUE,4006381333931", "39.00,,TRUE,TRUE,4006381333931");
    const res = await importCsv(s.app, sToken, changed, false).expect(200);
    expect(res.body.data.summary.products).toEqual({ create: 0, update: 1, unchanged: 2 });
    expect(res.body.data.summary.variants).toEqual({ create: 0, update: 1, archive: 0 });
    const after = await s.db.product.findUniqueOrThrow({ where: { slug: "linen-apron" }, include: { translations: true, collections: true, variants: { where: { sku: "APR-NAT-SM" } } } });
    expect(after.variants[0]!.priceMinor).toBe(3900);
    expect(after.translations.map((x) => x.title)).toEqual(["پیش‌بند کتان"]);
    expect(after.collections).toHaveLength(1);
  });
});

describe("our format: export, import, round trip", () => {
  let a: TestApp;
  let aToken: string;
  let imageBytes: Buffer;
  beforeAll(async () => {
    a = await buildTestApp();
    aToken = (await createToken(a.deps)).token;
    await a.db.collection.createMany({ data: [{ slug: "ceramics", title: "Ceramics" }, { slug: "gifts", title: "Gifts" }] });
    imageBytes = await testImage({ color: "#c0392b" });
    const photo = await storeImage(a.deps, { bytes: imageBytes, alt: "Red mug" });
    const detail = await storeImage(a.deps, { bytes: await testImage({ color: "#2c3e50" }), alt: "Detail" });
    await addProduct(a.deps, {
      slug: "speckled-mug",
      title: 'Speckled Mug, "large"',
      description: "Thrown on the wheel.\r\nDishwasher safe; 350 ml.\n\n=not a formula",
      brand: "Studio, Tehran",
      status: "active",
      condition: "new",
      googleCategory: "Home & Garden > Kitchen & Dining > Tableware > Drinkware > Mugs",
      optionNames: ["Colour", "Size"],
      collections: ["gifts", "ceramics"],
      translations: { fa: { title: "ماگ خال‌دار «بزرگ»", description: "دست‌ساز،\nلعاب‌دار" } },
      images: [
        { mediaId: photo.id, alt: "Red mug; front | side" },
        { mediaId: detail.id, alt: "", variantSku: "MUG-BLU-L" },
      ],
      variants: [
        { sku: "MUG-RED-S", option1: "Red", option2: "S", priceMinor: 2850, compareAtMinor: 3200, stock: 4, gtin: "4006381333931", mpn: "SPK-1", weightGrams: 350 },
        { sku: "MUG-BLU-L", option1: "Blue", option2: "L", priceMinor: 3000, stock: 0 },
      ],
    });
    await addProduct(a.deps, { slug: "archived-bowl", title: "Archived Bowl", status: "archived", identifierExists: false, variants: [{ sku: "BOWL-1", priceMinor: 1500, stock: 1 }] });
    await addProduct(a.deps, { slug: "draft-scarf", title: "-20% Scarf", status: "draft", condition: "used", variants: [{ sku: "SCARF-1", priceMinor: 999, stock: 7 }] });
  });
  afterAll(() => a.close());

  it("streams every product in every status, one row per variant, with a BOM and CRLF", async () => {
    const bytes = await exportBytes(a.app, aToken);
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const text = bytes.toString("utf8").slice(1);
    expect(text.split("\r\n")[0]).toBe(
      "handle,title,title_fa,description,description_fa,brand,condition,google_category,identifier_exists,gender,age_group,color,size,status,option1_name,option2_name,option3_name,collections,images,sku,option1,option2,option3,price,compare_at_price,currency,stock,gtin,mpn,weight_grams",
    );
    expect(text).toContain("archived-bowl,Archived Bowl,,,,,new,,false,,,,,archived,");
    expect(text).toContain("draft-scarf,'-20% Scarf,");
    expect(text).toContain(",gifts;ceramics,".replace("gifts;ceramics", "ceramics;gifts"));
    expect(text).toContain("Red mug\\; front \\| side;");
    expect(text).toContain("|MUG-BLU-L,MUG-RED-S,Red,S,,28.50,32.00,USD,4,4006381333931,SPK-1,350\r\n");
    const res = await request(a.app).get("/shop/api/v1/products/export.csv").set("Authorization", `Bearer ${aToken}`).expect(200);
    expect(res.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(res.headers["content-disposition"]).toMatch(/^attachment; filename="products-\d{4}-\d{2}-\d{2}\.csv"$/);
  });

  it("export → import is a no-op: nothing is written, not even updatedAt, and the next export is byte for byte the same", async () => {
    const first = await exportBytes(a.app, aToken);
    const stamps = await catalogStamps(a.deps);
    const counts = await catalogCounts(a.deps);
    const dry = await importCsv(a.app, aToken, first, true).expect(200);
    expect(dry.body.data.summary).toEqual({ products: { create: 0, update: 0, unchanged: 3 }, variants: { create: 0, update: 0, archive: 0 }, collectionsToCreate: [] });
    expect(dry.body.data.warnings).toEqual([]);
    await importCsv(a.app, aToken, first, false).expect(200);
    expect(await catalogStamps(a.deps)).toBe(stamps);
    // Only the import's own audit row is new.
    expect(await catalogCounts(a.deps)).toEqual({ ...counts, audit: counts.audit + 1 });
    expect((await exportBytes(a.app, aToken)).equals(first)).toBe(true);
  });

  it("importing the export into an empty shop recreates the same catalog (images matched by content)", async () => {
    const source = await exportBytes(a.app, aToken);
    const b = await buildTestApp();
    try {
      const bToken = (await createToken(b.deps)).token;
      // Same image bytes → same storage key; the other image was never uploaded here.
      await storeImage(b.deps, { bytes: imageBytes, alt: "Red mug" });
      const res = await importCsv(b.app, bToken, source, false).expect(200);
      expect(res.body.data.summary).toEqual({ products: { create: 3, update: 0, unchanged: 0 }, variants: { create: 4, update: 0, archive: 0 }, collectionsToCreate: ["ceramics", "gifts"] });
      expect(res.body.data.warnings).toHaveLength(1);
      expect(res.body.data.warnings[0].message).toMatch(/^Image [0-9a-f]+ is not in this shop's media/);

      await storeImage(b.deps, { bytes: await testImage({ color: "#2c3e50" }), alt: "Detail" });
      await importCsv(b.app, bToken, source, false).expect(200);
      expect((await exportBytes(b.app, bToken)).equals(source)).toBe(true);
      const mug = await b.db.product.findUniqueOrThrow({ where: { slug: "speckled-mug" }, include: { images: { include: { variant: true } } } });
      expect(mug.images.find((i) => i.variant)?.variant?.sku).toBe("MUG-BLU-L");
    } finally {
      await b.close();
    }
  });

  it("applies an edited export: only the edited product changes, a left-out row archives its variant, other products are left alone", async () => {
    await addProduct(a.deps, { slug: "not-in-file", title: "Not in the file", status: "active", variants: [{ sku: "NIF-1", priceMinor: 100, stock: 1 }] });
    // Edited as a spreadsheet would: rows parsed, two removed, one changed, written back.
    const rows = parse(await exportBytes(a.app, aToken), { bom: true }) as string[][];
    const header = rows[0]!;
    const col = (name: string) => header.indexOf(name);
    const kept = rows.filter((r) => r[col("handle")] !== "not-in-file" && r[col("sku")] !== "MUG-BLU-L");
    const scarf = kept.find((r) => r[col("sku")] === "SCARF-1")!;
    scarf[col("price")] = "12.00";
    scarf[col("stock")] = "9";
    const edited = stringify(kept);
    const before = await a.db.product.findMany({ select: { slug: true, updatedAt: true } });
    const dry = await importCsv(a.app, aToken, edited, true);
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body.data.summary).toEqual({ products: { create: 0, update: 2, unchanged: 1 }, variants: { create: 0, update: 1, archive: 1 }, collectionsToCreate: [] });
    expect(dry.body.data.products.map((p: { handle: string; action: string }) => `${p.handle}:${p.action}`)).toEqual(["archived-bowl:unchanged", "draft-scarf:update", "speckled-mug:update"]);
    await importCsv(a.app, aToken, edited, false).expect(200);
    const after = await a.db.product.findMany({ select: { slug: true, updatedAt: true } });
    const changed = after.filter((p) => before.find((b) => b.slug === p.slug)!.updatedAt.getTime() !== p.updatedAt.getTime()).map((p) => p.slug).sort();
    expect(changed).toEqual(["draft-scarf", "speckled-mug"]);
    expect(await a.db.variant.findUniqueOrThrow({ where: { sku: "SCARF-1" } })).toMatchObject({ priceMinor: 1200, stock: 9 });
    expect((await a.db.variant.findUniqueOrThrow({ where: { sku: "MUG-BLU-L" } })).archivedAt).not.toBeNull();
    expect((await a.db.product.findUniqueOrThrow({ where: { slug: "not-in-file" } })).status).toBe("active");
  });

  it("imports our fixture into an empty shop, with Persian text, quoted newlines and CRLF", async () => {
    const c = await buildTestApp();
    try {
      const cToken = (await createToken(c.deps)).token;
      const res = await importCsv(c.app, cToken, fixture("ours-catalog.csv"), false).expect(200);
      expect(res.body.data.summary).toEqual({ products: { create: 2, update: 0, unchanged: 0 }, variants: { create: 3, update: 0, archive: 0 }, collectionsToCreate: ["ceramics", "gifts", "textiles"] });
      const mug = await c.db.product.findUniqueOrThrow({ where: { slug: "turquoise-mug" }, include: { translations: true, variants: { orderBy: { position: "asc" } } } });
      expect(mug.title).toBe("Turquoise Mug, 350 ml");
      expect(mug.description).toBe('Thrown on the wheel.\nDishwasher safe, "really".');
      expect(mug.translations[0]).toMatchObject({ locale: "fa", title: "ماگ فیروزه‌ای", description: "ماگ دست‌ساز، لعاب فیروزه‌ای." });
      expect(mug.variants.map((v) => [v.sku, v.priceMinor, v.compareAtMinor, v.stock])).toEqual([["MUG-TRQ", 2800, null, 14], ["MUG-COB", 2800, 3200, 2]]);
      expect((await c.db.product.findUniqueOrThrow({ where: { slug: "kilim-cushion" } })).identifierExists).toBe(false);
      const page = await request(c.app).get("/shop/p/turquoise-mug").expect(200);
      expect(page.text).toContain("Turquoise Mug, 350 ml");
    } finally {
      await c.close();
    }
  });

  it("the demo catalog (images, variant images, Persian copy, collections) exports and re-imports as a no-op", async () => {
    const d = await buildTestApp();
    try {
      await seedDemoShop(d.deps);
      const dToken = (await createToken(d.deps)).token;
      const stamps = await catalogStamps(d.deps);
      const exported = await exportBytes(d.app, dToken);
      const res = await importCsv(d.app, dToken, exported, false).expect(200);
      expect(res.body.data.summary.products).toEqual({ create: 0, update: 0, unchanged: 12 });
      expect(res.body.data.warnings).toEqual([]);
      expect(await catalogStamps(d.deps)).toBe(stamps);
    } finally {
      await d.close();
    }
  }, 120_000);
});
