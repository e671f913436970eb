import { parse as parseCsv } from "csv-parse/sync";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import sharp from "sharp";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFeedCandidates } from "../src/feeds/feeds.service.js";
import { storeImage } from "../src/media/media.service.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct, createToken, testImage } from "./helpers/factories.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";

const BASE = "https://host.example/shop";
let t: TestApp;
let clock = new Date("2026-06-01T12:00:00.000Z");

beforeAll(async () => {
  t = await buildTestApp({ publicUrl: BASE, now: () => clock });
});
afterAll(() => t.close());

type Row = Record<string, string>;
const CSV_FEEDS = [
  { file: "meta.csv", platform: "meta", idColumn: "id", utm: "facebook" },
  { file: "pinterest.csv", platform: "pinterest", idColumn: "id", utm: "pinterest" },
  { file: "tiktok.csv", platform: "tiktok", idColumn: "sku_id", utm: "tiktok" },
] as const;

const xml = new XMLParser({
  ignoreAttributes: false,
  parseTagValue: false,
  isArray: (name) => name === "item" || name === "g:additional_image_link",
});

async function fetchGoogle(query = "") {
  const res = await request(t.app).get(`/shop/feeds/google.xml${query}`).expect(200);
  expect(XMLValidator.validate(res.text)).toBe(true);
  const doc = xml.parse(res.text);
  return { res, doc, items: (doc.rss.channel.item ?? []) as Row[] };
}

async function fetchCsv(file: string) {
  const res = await request(t.app).get(`/shop/feeds/${file}`).expect(200);
  const rows = parseCsv(res.text, { columns: true }) as Row[];
  return { res, rows };
}

/** Every feed's items for one product, keyed by feed file. */
async function itemsOf(productId: string) {
  const google = (await fetchGoogle()).items.filter((i) => i["g:item_group_id"] === productId);
  const csv: Record<string, Row[]> = {};
  for (const f of CSV_FEEDS) csv[f.file] = (await fetchCsv(f.file)).rows.filter((r) => r.item_group_id === productId);
  return { google, csv };
}

async function withImage(productId: string, opts: { width?: number; height?: number; variantId?: string; color?: string } = {}) {
  const media = await storeImage(t.deps, { bytes: await testImage({ width: opts.width ?? 900, height: opts.height ?? 900, color: opts.color }) });
  await t.db.productImage.create({ data: { productId, mediaId: media.id, variantId: opts.variantId ?? null, position: opts.variantId ? 5 : 0 } });
  return media;
}

describe("google.xml", () => {
  it("is RSS 2.0 with the g: namespace: one item per variant, grouped by product, absolute UTM links and images", async () => {
    const p = await createProduct(t.deps, {
      slug: "glazed-mug",
      title: "Glazed Mug",
      optionNames: ["Colour", "Size"],
      variants: [
        { option1: "Blue", priceMinor: 2800, compareAtMinor: 3500, stock: 4 },
        { option1: "Red", priceMinor: 2800, stock: 1 },
      ],
    });
    await t.db.variant.update({ where: { id: p.variants[0]!.id }, data: { option2: "Large", gtin: "4006381333931" } });
    await t.db.product.update({ where: { id: p.id }, data: { googleCategory: "Home & Garden > Kitchen & Dining > Mugs", identifierExists: false } });
    await withImage(p.id);
    const red = await withImage(p.id, { variantId: p.variants[1]!.id, color: "#aa0000" });

    const { res, doc, items } = await fetchGoogle();
    expect(res.headers["content-type"]).toBe("application/rss+xml; charset=utf-8");
    expect(doc.rss["@_version"]).toBe("2.0");
    expect(doc.rss["@_xmlns:g"]).toBe("http://base.google.com/ns/1.0");
    expect(doc.rss.channel.link).toBe(`${BASE}/`);

    const mine = items.filter((i) => i["g:item_group_id"] === p.id);
    expect(mine.map((i) => i["g:id"])).toEqual(p.variants.map((v) => v.id));
    const [blue, redItem] = mine as [Row, Row];
    expect(blue).toMatchObject({
      title: "Glazed Mug - Blue / Large",
      description: "A thing made by hand.",
      link: `${BASE}/p/glazed-mug?variant=${p.variants[0]!.id}&utm_source=google&utm_medium=product_feed&utm_campaign=catalog`,
      "g:availability": "in_stock",
      "g:price": "35.00 USD",
      "g:sale_price": "28.00 USD",
      "g:condition": "new",
      "g:brand": "Test Studio",
      "g:gtin": "4006381333931",
      "g:color": "Blue",
      "g:size": "Large",
      "g:google_product_category": "Home & Garden > Kitchen & Dining > Mugs",
    });
    // Has a GTIN, so no identifier_exists=no; the red one has none and is handmade.
    expect(blue["g:identifier_exists"]).toBeUndefined();
    expect(redItem["g:identifier_exists"]).toBe("no");
    expect(redItem["g:price"]).toBe("28.00 USD");
    expect(redItem["g:sale_price"]).toBeUndefined();
    // The red variant's own photo leads; the blue one never shows it.
    expect(redItem["g:image_link"]).toBe(`${BASE}/media/${red.storageKey}-sq.jpg`);
    expect(blue["g:image_link"]).not.toContain(red.storageKey);
    expect(redItem["g:additional_image_link"]).toEqual([blue["g:image_link"]]);

    // The image really is served, as an 800×800 JPEG under the mount.
    const image = await request(t.app).get(new URL(blue["g:image_link"]!).pathname).expect(200);
    expect(image.headers["content-type"]).toBe("image/jpeg");
    const meta = await sharp(image.body as Buffer).metadata();
    expect([meta.width, meta.height]).toEqual([800, 800]);
  });

  it("escapes markup and drops characters XML cannot carry", async () => {
    const p = await createProduct(t.deps, { title: "Cup & <Saucer> \"set\"", description: "Tea \u0007time & more" });
    await withImage(p.id);
    const [item] = (await fetchGoogle()).items.filter((i) => i["g:item_group_id"] === p.id);
    expect(item!.title).toBe("Cup & <Saucer> \"set\"");
    expect(item!.description).toBe("Tea time & more");
  });

  it("takes the base URL from the request when no public URL is configured", async () => {
    const open = await buildTestApp();
    try {
      const p = await createProduct(open.deps, { slug: "plain-bowl" });
      await storeImage(open.deps, { bytes: await testImage() }).then((m) => open.db.productImage.create({ data: { productId: p.id, mediaId: m.id } }));
      const res = await request(open.app).get("/shop/feeds/google.xml").set("Host", "shop.test:8080").expect(200);
      const [item] = xml.parse(res.text).rss.channel.item as Row[];
      expect(item!.link).toBe(`http://shop.test:8080/shop/p/plain-bowl?variant=${p.variants[0]!.id}&utm_source=google&utm_medium=product_feed&utm_campaign=catalog`);
      expect(item!["g:image_link"]).toMatch(/^http:\/\/shop\.test:8080\/shop\/media\/[0-9a-f]{32}-sq\.jpg$/);
    } finally {
      await open.close();
    }
  });
});

describe("CSV feeds", () => {
  it.each(CSV_FEEDS)("$file has the platform's columns, one quoted row per variant, grouped, with UTM links", async ({ file, idColumn, utm }) => {
    const p = await createProduct(t.deps, {
      title: "Linen Napkins",
      description: 'Set of four, "stonewashed",\nsoft from the first use.',
      optionNames: ["Colour"],
      variants: [
        { option1: "Sand", priceMinor: 1900, compareAtMinor: 2400, stock: 5 },
        { option1: "Slate", priceMinor: 1900, stock: 0 },
      ],
    });
    await withImage(p.id);
    const { res, rows } = await fetchCsv(file);
    expect(res.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(res.headers["set-cookie"]).toBeUndefined();
    const columns = Object.keys(rows[0]!);
    for (const required of [idColumn, "title", "description", "availability", "condition", "price", "link", "image_link", "brand", "item_group_id", "sale_price", "color"]) {
      expect(columns).toContain(required);
    }
    const mine = rows.filter((r) => r.item_group_id === p.id);
    expect(mine.map((r) => r[idColumn])).toEqual(p.variants.map((v) => v.id));
    expect(mine[0]).toMatchObject({
      title: "Linen Napkins - Sand",
      description: 'Set of four, "stonewashed",\nsoft from the first use.',
      availability: "in stock",
      price: "24.00 USD",
      sale_price: "19.00 USD",
      color: "Sand",
      link: `${BASE}/p/${p.slug}?variant=${p.variants[0]!.id}&utm_source=${utm}&utm_medium=product_feed&utm_campaign=catalog`,
    });
    expect(mine[0]!.image_link).toMatch(/^https:\/\/host\.example\/shop\/media\/[0-9a-f]{32}-sq\.jpg$/);
    expect(mine[1]).toMatchObject({ availability: "out of stock", price: "19.00 USD", sale_price: "" });
  });

  it("meta.csv tells Meta how many units can be sold", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 7 }] });
    await withImage(p.id);
    await t.db.stockHold.create({ data: { variantId: p.variants[0]!.id, quantity: 2, expiresAt: new Date(clock.getTime() + 600_000) } });
    const [row] = (await fetchCsv("meta.csv")).rows.filter((r) => r.item_group_id === p.id);
    expect(row!.quantity_to_sell_on_facebook).toBe("5");
  });
});

describe("what the feeds contain", () => {
  it("sold out through stock 0 or active holds; expired and released holds do not count", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 0 }, { stock: 2 }, { stock: 2 }, { stock: 1 }] });
    await withImage(p.id);
    const [, held, expired, released] = p.variants.map((v) => ({ id: v.id })) as [{ id: string }, { id: string }, { id: string }, { id: string }];
    await t.db.stockHold.createMany({
      data: [
        { variantId: held.id, quantity: 2, expiresAt: new Date(clock.getTime() + 600_000) },
        { variantId: expired.id, quantity: 5, expiresAt: new Date(clock.getTime() - 1000) },
        { variantId: released.id, quantity: 1, status: "released", expiresAt: new Date(clock.getTime() + 600_000) },
      ],
    });
    const { google, csv } = await itemsOf(p.id);
    expect(google.map((i) => i["g:availability"])).toEqual(["out_of_stock", "out_of_stock", "in_stock", "in_stock"]);
    for (const f of CSV_FEEDS) expect(csv[f.file]!.map((r) => r.availability), f.file).toEqual(["out of stock", "out of stock", "in stock", "in stock"]);
  });

  it("leaves out drafts, archived products and archived variants", async () => {
    const draft = await createProduct(t.deps, { status: "draft" });
    const archived = await createProduct(t.deps, { status: "archived" });
    const live = await createProduct(t.deps, { variants: [{}, {}] });
    for (const p of [draft, archived, live]) await withImage(p.id);
    await t.db.variant.update({ where: { id: live.variants[1]!.id }, data: { archivedAt: clock } });
    const google = (await fetchGoogle()).items.map((i) => i["g:item_group_id"]);
    expect(google).not.toContain(draft.id);
    expect(google).not.toContain(archived.id);
    const { google: liveItems, csv } = await itemsOf(live.id);
    expect(liveItems.map((i) => i["g:id"])).toEqual([live.variants[0]!.id]);
    for (const f of CSV_FEEDS) expect(csv[f.file]!.map((r) => r[f.idColumn])).toEqual([live.variants[0]!.id]);
  });

  it("reads the catalog in keyset batches without skipping or repeating a variant, even when positions tie", async () => {
    const p = await createProduct(t.deps, { variants: [{}, {}, {}, {}, {}] });
    await t.db.variant.updateMany({ where: { productId: p.id }, data: { position: 0 } });
    const seen: string[] = [];
    for await (const batch of readFeedCandidates(t.deps, { batchSize: 2 })) {
      expect(batch.length).toBeLessThanOrEqual(2);
      seen.push(...batch.map((c) => c.variantId));
    }
    const expected = await t.db.variant.findMany({ where: { archivedAt: null, product: { status: "active" } }, select: { id: true } });
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(expected.map((v) => v.id).sort());
  });

  it("reads the same candidates through Prisma when there is no SQLite file to open", async () => {
    const collect = async (direct: boolean) => {
      const all = [];
      for await (const batch of readFeedCandidates(t.deps, { batchSize: 4, direct })) all.push(...batch);
      return all;
    };
    const direct = await collect(true);
    expect(direct.length).toBeGreaterThan(10);
    expect(await collect(false)).toEqual(direct);
  });

  it("leaves an invalid item out of one platform's feed only, and says why in Feed health", async () => {
    const shouting = await createProduct(t.deps, { title: "HANDMADE CLAY POT", description: "<p>Thrown on the <b>wheel</b>.</p>" });
    await withImage(shouting.id);
    const { google, csv } = await itemsOf(shouting.id);
    expect(google).toHaveLength(1);
    expect(google[0]!.description).toBe("Thrown on the wheel.");
    expect(csv["meta.csv"]).toHaveLength(1);
    expect(csv["pinterest.csv"]).toHaveLength(1);
    expect(csv["tiktok.csv"]).toHaveLength(0);

    const token = (await createToken(t.deps)).token;
    const health = await request(t.app).get("/shop/api/v1/feeds/health").set("Authorization", `Bearer ${token}`).expect(200);
    const problems = (health.body.data.problems as { productId: string; platform: string; rule: string; severity: string; fix: string }[]).filter((x) => x.productId === shouting.id);
    expect(problems).toContainEqual(expect.objectContaining({ platform: "tiktok", rule: "title_all_caps", severity: "error", fix: expect.stringContaining("normal case") }));
    expect(problems).toContainEqual(expect.objectContaining({ platform: "google", rule: "title_all_caps", severity: "warning" }));
    expect(problems).toContainEqual(expect.objectContaining({ platform: "meta", rule: "description_html", severity: "warning" }));
    expect(problems.filter((x) => x.severity === "error").map((x) => x.platform)).toEqual(["tiktok"]);
  });

  it("leaves out items with no photo, a bad GTIN or a photo too small, on the platforms that care", async () => {
    const noPhoto = await createProduct(t.deps, { title: "Photo-less Plate" });
    const badGtin = await createProduct(t.deps, { variants: [{ gtin: "4006381333932" }] });
    await withImage(badGtin.id);
    const small = await createProduct(t.deps, { title: "Tiny Photo Spoon" });
    await withImage(small.id, { width: 300, height: 300 });
    for (const p of [noPhoto, badGtin]) {
      const { google, csv } = await itemsOf(p.id);
      expect(google).toHaveLength(0);
      for (const f of CSV_FEEDS) expect(csv[f.file]).toHaveLength(0);
    }
    // 300 px is enough for Google (100) and Pinterest (75), not for Meta or TikTok (500).
    const { google, csv } = await itemsOf(small.id);
    expect(google).toHaveLength(1);
    expect(csv["pinterest.csv"]).toHaveLength(1);
    expect(csv["meta.csv"]).toHaveLength(0);
    expect(csv["tiktok.csv"]).toHaveLength(0);
  });
});

describe("conditional requests", () => {
  it("answers 304 to If-None-Match and If-Modified-Since, with a different ETag per platform", async () => {
    const first = await request(t.app).get("/shop/feeds/google.xml").expect(200);
    const etag = first.headers.etag as string;
    const lastModified = first.headers["last-modified"] as string;
    expect(etag).toMatch(/^"[\w-]{20,}"$/);
    expect(new Date(lastModified).getTime()).not.toBeNaN();
    expect(first.headers["cache-control"]).toBe("public, no-cache");

    const byEtag = await request(t.app).get("/shop/feeds/google.xml").set("If-None-Match", etag).expect(304);
    expect(byEtag.text ?? "").toBe("");
    await request(t.app).get("/shop/feeds/google.xml").set("If-Modified-Since", lastModified).expect(304);
    // fetch() adds "Cache-Control: no-cache" to conditional requests; that is for caches, not for us.
    await request(t.app).get("/shop/feeds/google.xml").set("If-None-Match", `"other", W/${etag}`).set("Cache-Control", "no-cache").expect(304);
    await request(t.app).get("/shop/feeds/google.xml").set("If-Modified-Since", new Date(new Date(lastModified).getTime() - 1000).toUTCString()).expect(200);
    await request(t.app).get("/shop/feeds/google.xml").set("If-None-Match", '"something-else"').expect(200);

    const meta = await request(t.app).get("/shop/feeds/meta.csv").expect(200);
    expect(meta.headers.etag).not.toBe(etag);
    await request(t.app).get("/shop/feeds/meta.csv").set("If-None-Match", etag).expect(200);
  });

  it("changes ETag and Last-Modified after a stock change", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 3 }] });
    await withImage(p.id);
    const before = await request(t.app).get("/shop/feeds/tiktok.csv").expect(200);
    const etag = before.headers.etag as string;
    const lastModified = before.headers["last-modified"] as string;
    await request(t.app).get("/shop/feeds/tiktok.csv").set("If-None-Match", etag).expect(304);
    await t.db.variant.update({ where: { id: p.variants[0]!.id }, data: { stock: 0 } });
    const after = await request(t.app)
      .get("/shop/feeds/tiktok.csv")
      .set("If-None-Match", etag)
      .expect(200);
    expect(after.headers.etag).not.toBe(etag);
    expect(new Date(after.headers["last-modified"] as string).getTime()).toBeGreaterThan(new Date(lastModified).getTime());
    await request(t.app).get("/shop/feeds/tiktok.csv").set("If-Modified-Since", lastModified).expect(200);
    const row = (parseCsv(after.text, { columns: true }) as Row[]).find((r) => r.sku_id === p.variants[0]!.id);
    expect(row!.availability).toBe("out of stock");
  });

  it("changes ETag when a hold expires, with no write at all", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 1 }] });
    await withImage(p.id);
    await t.db.stockHold.create({ data: { variantId: p.variants[0]!.id, quantity: 1, expiresAt: new Date(clock.getTime() + 10 * 60_000) } });
    const held = await request(t.app).get("/shop/feeds/pinterest.csv").expect(200);
    const etag = held.headers.etag as string;
    expect((parseCsv(held.text, { columns: true }) as Row[]).find((r) => r.id === p.variants[0]!.id)!.availability).toBe("out of stock");
    await request(t.app).get("/shop/feeds/pinterest.csv").set("If-None-Match", etag).expect(304);

    clock = new Date(clock.getTime() + 11 * 60_000);
    const expired = await request(t.app).get("/shop/feeds/pinterest.csv").set("If-None-Match", etag).expect(200);
    expect(expired.headers.etag).not.toBe(etag);
    expect((parseCsv(expired.text, { columns: true }) as Row[]).find((r) => r.id === p.variants[0]!.id)!.availability).toBe("in stock");
    await request(t.app).get("/shop/feeds/pinterest.csv").set("If-Modified-Since", held.headers["last-modified"] as string).expect(200);
  });

  it("answers HEAD with the headers and no body", async () => {
    const res = await request(t.app).head("/shop/feeds/meta.csv").expect(200);
    expect(res.headers.etag).toBeTruthy();
    expect(res.text ?? "").toBe("");
  });
});

describe("feed URLs and the access token", () => {
  it("404s an unknown feed and names the real ones", async () => {
    for (const path of ["/shop/feeds/amazon.xml", "/shop/feeds/google.csv", "/shop/feeds/"]) {
      const res = await request(t.app).get(path).expect(404);
      expect(res.body.error.code).toBe("not_found");
    }
    const res = await request(t.app).get("/shop/feeds/amazon.xml").expect(404);
    expect(res.body.error.message).toContain("/feeds/google.xml");
  });

  it("requires the token once the admin sets one, with a clear error for each mistake; rotating and clearing work", async () => {
    const { email, password } = await createAdmin(t.deps);
    const agent = request.agent(t.app);
    await signIn(agent, email, password);
    const page = await agent.get("/shop/admin/feeds").expect(200);
    await agent.post("/shop/admin/feeds/token").type("form").send({}).expect(403);
    await agent.post("/shop/admin/feeds/token").type("form").send({ _csrf: csrfFrom(page.text) }).expect(303);

    const withToken = await agent.get("/shop/admin/feeds").expect(200);
    const url = load(withToken.text)('[data-platform="google"] .feed-url').text();
    expect(url).toMatch(/^https:\/\/host\.example\/shop\/feeds\/google\.xml\?token=[\w-]{43}$/);
    const token = new URL(url).searchParams.get("token")!;

    const missing = await request(t.app).get("/shop/feeds/google.xml").expect(401);
    expect(missing.body.error).toMatchObject({ code: "feed_token_required", message: expect.stringContaining("?token=") });
    const wrong = await request(t.app).get(`/shop/feeds/google.xml?token=${"x".repeat(43)}`).expect(403);
    expect(wrong.body.error.code).toBe("feed_token_invalid");
    const malformed = await request(t.app).get("/shop/feeds/google.xml?token=not%20a%20token").expect(400);
    expect(malformed.body.error.details).toEqual([expect.objectContaining({ field: "token" })]);
    const twice = await request(t.app).get(`/shop/feeds/google.xml?token=${token}&token=${token}`).expect(400);
    expect(twice.body.error.details[0].field).toBe("token");

    const ok = await request(t.app).get(`/shop/feeds/google.xml?token=${token}`).expect(200);
    expect(ok.headers["cache-control"]).toBe("private, no-cache");
    for (const f of CSV_FEEDS) await request(t.app).get(`/shop/feeds/${f.file}?token=${token}`).expect(200);

    await agent.post("/shop/admin/feeds/token").type("form").send({ _csrf: csrfFrom(withToken.text) }).expect(303);
    await request(t.app).get(`/shop/feeds/google.xml?token=${token}`).expect(403);

    const rotated = await agent.get("/shop/admin/feeds?done=rotated").expect(200);
    expect(load(rotated.text)(".alert--ok").text()).toContain("old URLs stopped working");
    await agent.post("/shop/admin/feeds/token/clear").type("form").send({ _csrf: csrfFrom(rotated.text) }).expect(303);
    await request(t.app).get("/shop/feeds/google.xml").expect(200);
    const cleared = await agent.get("/shop/admin/feeds").expect(200);
    expect(load(cleared.text)('[data-platform="google"] .feed-url').text()).toBe(`${BASE}/feeds/google.xml`);
  });
});

describe("Feed health page and API", () => {
  it("requires a signed-in admin", async () => {
    const res = await request(t.app).get("/shop/admin/feeds").expect(303);
    expect(res.headers.location).toContain("/shop/admin/login");
    await request(t.app).get("/shop/admin/feeds").set("Accept", "application/json").expect(401);
    await request(t.app).post("/shop/admin/feeds/token").set("Accept", "application/json").expect(403);
    await request(t.app).get("/shop/api/v1/feeds/health").expect(401);
  });

  it("shows counts, feed URLs and each problem with its fix and a link to the product; the API says the same", async () => {
    const broken = await createProduct(t.deps, { title: "Broken Vase 🌸", variants: [{ priceMinor: 0 }] });
    await withImage(broken.id);
    const { email, password } = await createAdmin(t.deps);
    const agent = request.agent(t.app);
    await signIn(agent, email, password);
    const page = await agent.get("/shop/admin/feeds?lang=en").expect(200);
    const $ = load(page.text);
    expect($("h1").text()).toBe("Feed health");
    expect($('.admin-nav a[aria-current="page"]').attr("href")).toBe("/shop/admin/feeds");

    const token = (await createToken(t.deps)).token;
    const api = await request(t.app).get("/shop/api/v1/feeds/health").set("Authorization", `Bearer ${token}`).expect(200);
    const data = api.body.data as { platforms: { platform: string; url: string; published: number; excluded: number; warnings: number }[]; problems: { productId: string; variantId: string | null; platform: string; rule: string; message: string; fix: string }[] };

    for (const p of data.platforms) {
      const row = $(`#feed-platforms tr[data-platform="${p.platform}"]`);
      expect(row.find(".feed-url").text()).toBe(p.url);
      expect(row.find(".count-published").text()).toBe(String(p.published));
      expect(row.find(".count-excluded").text()).toBe(String(p.excluded));
      expect(row.find(".count-warnings").text()).toBe(String(p.warnings));
      // The counts match the feed itself.
      const body = (await request(t.app).get(new URL(p.url).pathname).expect(200)).text;
      const items = p.platform === "google" ? (xml.parse(body).rss.channel.item as Row[]).length : (parseCsv(body, { columns: true }) as Row[]).length;
      expect(items, p.platform).toBe(p.published);
    }

    const rows = $("#feed-problems tbody tr").toArray().map((el) => ({ rule: $(el).attr("data-rule"), platform: $(el).attr("data-platform"), product: $(el).attr("data-product") }));
    expect(rows).toEqual(data.problems.map((p) => ({ rule: p.rule, platform: p.platform, product: p.productId })));

    const price = data.problems.find((p) => p.productId === broken.id && p.rule === "price_not_positive" && p.platform === "google")!;
    expect(price).toMatchObject({ variantId: broken.variants[0]!.id, message: "The price is zero or negative.", fix: "Set a price above zero for this variant." });
    const emoji = $(`#feed-problems tr[data-product="${broken.id}"][data-rule="title_emoji"][data-platform="tiktok"]`);
    expect(emoji.find("a").attr("href")).toBe(`/shop/admin/products/${broken.id}`);
    expect(emoji.text()).toContain("Remove the emoji from the title");
    expect(emoji.find(".badge").text()).toBe("Left out");

    const persian = await agent.get("/shop/admin/feeds?lang=fa").expect(200);
    expect(load(persian.text)("h1").text()).toBe("سلامت فیدها");
    expect(load(persian.text)(`#feed-problems tr[data-product="${broken.id}"][data-rule="title_emoji"]`).first().text()).toContain("ایموجی");

    const onlyTiktok = await request(t.app).get("/shop/api/v1/feeds/health?platform=tiktok&lang=fa").set("Authorization", `Bearer ${token}`).expect(200);
    expect(onlyTiktok.body.data.platforms.map((p: { platform: string }) => p.platform)).toEqual(["tiktok"]);
    expect(new Set(onlyTiktok.body.data.problems.map((p: { platform: string }) => p.platform))).toEqual(new Set(["tiktok"]));
    expect(onlyTiktok.body.data.problems[0].fix).toMatch(/[\u0600-\u06FF]/);
    const bad = await request(t.app).get("/shop/api/v1/feeds/health?platform=amazon").set("Authorization", `Bearer ${token}`).expect(400);
    expect(bad.body.error.details[0].field).toBe("platform");
  });
});
