import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAssetManifest } from "../src/http/assets.js";
import { buildTestApp, MOUNT, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { load, urlsIn } from "./helpers/html.js";

/**
 * Light pages: compression negotiated per request, assets under hashed names
 * cached for a year, the Persian font only on Persian pages, the first image
 * fetched first. Raw HTTP, so what is asserted is the bytes on the wire (a
 * client library would decompress them before the test saw them).
 */
interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function rawGet(origin: string, p: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    http
      .get(`${origin}${p}`, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on("error", reject);
  });
}

function decode(raw: Raw): string {
  const encoding = raw.headers["content-encoding"];
  if (encoding === "br") return zlib.brotliDecompressSync(raw.body).toString("utf8");
  if (encoding === "gzip") return zlib.gunzipSync(raw.body).toString("utf8");
  expect(encoding).toBeUndefined();
  return raw.body.toString("utf8");
}

async function listen(app: express.Express) {
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let t: TestApp;
let origin: string;
let server: http.Server;
let mediaUrl: string;
beforeAll(async () => {
  t = await buildTestApp({ publicUrl: undefined });
  for (let i = 0; i < 4; i++) await createProduct(t.deps, { slug: `mug-${i}`, title: `Mug ${i}`, titleFa: `ماگ ${i}`, image: true, variants: [{ option1: "S" }, { option1: "M" }] });
  ({ server, origin } = await listen(t.app));
  const home = await rawGet(origin, `${MOUNT}/`);
  mediaUrl = urlsIn(decode(home)).find((u) => u.includes("/media/"))!.split(" ")[0]!;
});
afterAll(async () => {
  server.close();
  await t.close();
});

describe("compression", () => {
  it("answers br, gzip or identity as the browser asks, with Vary: Accept-Encoding", async () => {
    const identity = await rawGet(origin, `${MOUNT}/`, { "Accept-Encoding": "identity" });
    expect(identity.status).toBe(200);
    expect(identity.headers["content-encoding"]).toBeUndefined();
    expect(identity.headers.vary).toMatch(/Accept-Encoding/i);
    const html = decode(identity);
    expect(html).toContain("Mug 0");

    const br = await rawGet(origin, `${MOUNT}/`, { "Accept-Encoding": "gzip, deflate, br" });
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers.vary).toMatch(/Accept-Encoding/i);
    expect(br.headers["content-length"]).toBeUndefined();
    // Same page (the CSRF token differs per request).
    const strip = (s: string) => s.replace(/content="[^"]{20,}"/g, "");
    expect(strip(decode(br))).toBe(strip(html));
    expect(br.body.length).toBeLessThan(Buffer.byteLength(html) / 3);

    const gzip = await rawGet(origin, `${MOUNT}/`, { "Accept-Encoding": "gzip" });
    expect(gzip.headers["content-encoding"]).toBe("gzip");
    expect(strip(decode(gzip))).toBe(strip(html));

    const preferGzip = await rawGet(origin, `${MOUNT}/`, { "Accept-Encoding": "br;q=0.5, gzip;q=1" });
    expect(preferGzip.headers["content-encoding"]).toBe("gzip");

    const none = await rawGet(origin, `${MOUNT}/`);
    expect(none.headers["content-encoding"]).toBeUndefined();
  });

  it("compresses CSS, JavaScript, JSON, XML and CSV, and streams the feeds compressed", async () => {
    const page = decode(await rawGet(origin, `${MOUNT}/`));
    const css = urlsIn(page).find((u) => u.endsWith(".css"))!;
    const js = urlsIn(page).find((u) => u.endsWith(".js"))!;
    for (const p of [css, `${MOUNT}/embed/gallery.js`, `${MOUNT}/feeds/google.xml`, `${MOUNT}/feeds/meta.csv`]) {
      const res = await rawGet(origin, p, { "Accept-Encoding": "br" });
      expect(res.status, p).toBe(200);
      expect(res.headers["content-encoding"], p).toBe("br");
      expect(decode(res).length, p).toBeGreaterThan(res.body.length);
    }
    expect(js).toMatch(/\.js$/);
    const feed = await rawGet(origin, `${MOUNT}/feeds/meta.csv`, { "Accept-Encoding": "gzip" });
    expect(feed.headers["transfer-encoding"]).toBe("chunked");
    const rows = decode(feed).trim().split("\n");
    expect(rows).toHaveLength(1 + 4 * 2);

    // JSON: an API answer large enough to be worth it.
    const json = await rawGet(origin, `${MOUNT}/embed/gallery.json?limit=60`, { "Accept-Encoding": "gzip" });
    expect(json.headers["content-type"]).toMatch(/json/);
    if (Buffer.byteLength(decode(json)) >= 1024) expect(json.headers["content-encoding"]).toBe("gzip");
    else expect(json.headers["content-encoding"]).toBeUndefined();
  });

  it("leaves images alone", async () => {
    const image = await rawGet(origin, mediaUrl, { "Accept-Encoding": "br, gzip" });
    expect(image.status).toBe(200);
    expect(image.headers["content-type"]).toMatch(/image\/webp/);
    expect(image.headers["content-encoding"]).toBeUndefined();
  });

  it("is switched off with compression: false (COMPRESSION=off), for shops behind a compressing proxy", async () => {
    const off = await buildTestApp({ compression: false });
    await createProduct(off.deps, { slug: "plain", image: true });
    const { server: s, origin: o } = await listen(off.app);
    try {
      const res = await rawGet(o, `${MOUNT}/`, { "Accept-Encoding": "br, gzip" });
      expect(res.status).toBe(200);
      expect(res.headers["content-encoding"]).toBeUndefined();
      expect(decode(res)).toContain("</html>");
      // A product page rendered once and then answered from memory: never compressed either.
      for (let i = 0; i < 2; i++) {
        const page = await rawGet(o, `${MOUNT}/p/plain`, { "Accept-Encoding": "br, gzip" });
        expect(page.status).toBe(200);
        expect(page.headers["content-encoding"]).toBeUndefined();
        expect(decode(page)).toContain("</html>");
      }
      expect(off.shop.bazaarche.pageCache.hits).toBeGreaterThanOrEqual(1);
    } finally {
      s.close();
      await off.close();
    }
  });
});

describe("hashed assets", () => {
  it("links stylesheets and scripts under content-hashed names cached for a year", async () => {
    const page = decode(await rawGet(origin, `${MOUNT}/p/mug-0`));
    const assets = urlsIn(page).filter((u) => u.startsWith(`${MOUNT}/assets/`));
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const u of assets) {
      expect(u).toMatch(/\/assets\/.+\.[0-9a-f]{8}\.(css|js|svg)$/);
      const res = await rawGet(origin, u);
      expect(res.status, u).toBe(200);
      expect(res.headers["cache-control"], u).toBe("public, max-age=31536000, immutable");
      expect(res.headers.etag, u).toBeDefined();
    }
  });

  it("still serves the plain names (embeds, hand-written links) with short caching, and revalidates", async () => {
    const page = decode(await rawGet(origin, `${MOUNT}/`));
    const hashed = urlsIn(page).find((u) => /\/css\/shop\.[0-9a-f]{8}\.css$/.test(u))!;
    const a = await rawGet(origin, hashed);
    const plain = await rawGet(origin, `${MOUNT}/assets/css/shop.css`);
    expect(plain.status).toBe(200);
    expect(plain.headers["cache-control"]).toBe("public, max-age=300");
    expect(plain.body.equals(a.body)).toBe(true);
    const again = await rawGet(origin, `${MOUNT}/assets/css/shop.css`, { "If-None-Match": plain.headers.etag! });
    expect(again.status).toBe(304);
    // A name from an earlier release gets today's file, but not for a year.
    const stale = await rawGet(origin, `${MOUNT}/assets/css/shop.00000000.css`);
    expect(stale.status).toBe(200);
    expect(stale.headers["cache-control"]).toBe("public, max-age=300");
    expect((await rawGet(origin, `${MOUNT}/assets/css/nope.css`)).status).toBe(404);
  });

  it("names change when the content changes, and stylesheets point at hashed names", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-assets-"));
    try {
      mkdirSync(path.join(dir, "css"));
      mkdirSync(path.join(dir, "img"));
      writeFileSync(path.join(dir, "img/logo.svg"), "<svg/>");
      writeFileSync(path.join(dir, "css/a.css"), 'body { background: url("../img/logo.svg"); }');
      const first = buildAssetManifest(dir);
      const firstCss = first.hashedPath("css/a.css");
      expect(first.lookup(firstCss)!.asset.body.toString()).toContain(`url("../${first.hashedPath("img/logo.svg")}")`);
      writeFileSync(path.join(dir, "img/logo.svg"), "<svg viewBox='0 0 1 1'/>");
      const second = buildAssetManifest(dir);
      expect(second.hashedPath("img/logo.svg")).not.toBe(first.hashedPath("img/logo.svg"));
      // The stylesheet did not change, but what it references did: new name too.
      expect(second.hashedPath("css/a.css")).not.toBe(firstCss);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the Persian font", () => {
  it("is not linked from English pages, nor from the shared stylesheet", async () => {
    for (const p of ["/", "/p/mug-0", "/gallery", "/cart"]) {
      const html = decode(await rawGet(origin, `${MOUNT}${p}?lang=en`));
      expect(html, p).not.toMatch(/fa\.[0-9a-f]{8}\.css|woff2/);
    }
    const page = decode(await rawGet(origin, `${MOUNT}/`));
    const shopCss = urlsIn(page).find((u) => /\/css\/shop\.[0-9a-f]{8}\.css$/.test(u))!;
    const css = decode(await rawGet(origin, shopCss));
    expect(css).not.toMatch(/@font-face|woff2/);
  });

  it("is linked from Persian pages, and is the 48 KB Arabic-script cut", async () => {
    const html = decode(await rawGet(origin, `${MOUNT}/p/mug-0?lang=fa`));
    const faCss = urlsIn(html).find((u) => /\/css\/fa\.[0-9a-f]{8}\.css$/.test(u));
    expect(faCss).toBeDefined();
    const css = decode(await rawGet(origin, faCss!));
    const font = /url\("(\.\.\/fonts\/vazirmatn\.[0-9a-f]{8}\.woff2)"\)/.exec(css)?.[1];
    const res = await rawGet(origin, new URL(font!, `http://x${faCss}`).pathname, { "Accept-Encoding": "br" });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("font/woff2");
    expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(res.body.length).toBeLessThan(60_000);
  });
});

describe("image priority", () => {
  it("fetches the home page's first product image first and the rest lazily (a shop without posts)", async () => {
    const $ = load(decode(await rawGet(origin, `${MOUNT}/`)));
    const images = $(".grid img").toArray().map((el) => $(el));
    expect(images.length).toBe(4);
    expect(images[0]!.attr("fetchpriority")).toBe("high");
    expect(images[0]!.attr("loading")).toBeUndefined();
    for (const img of images.slice(1)) {
      expect(img.attr("loading")).toBe("lazy");
      expect(img.attr("fetchpriority")).toBeUndefined();
    }
  });

  it("fetches the product page's main image first", async () => {
    const $ = load(decode(await rawGet(origin, `${MOUNT}/p/mug-0`)));
    const main = $(".gallery__main img");
    expect(main.attr("fetchpriority")).toBe("high");
    expect(main.attr("loading")).toBeUndefined();
  });
});

// Last: its product would change the home page the tests above read.
describe("cached pages on the wire", () => {
  it("answers a cached product page as the same bytes for everyone, in brotli or gzip compressed once per version", async () => {
    const product = await createProduct(t.deps, { slug: "precompressed-jug", title: "Precompressed Jug", variants: [{ priceMinor: 2500, stock: 4 }] });
    const pagePath = `${MOUNT}/p/${product.slug}`;
    const stats = () => ({ ...t.shop.bazaarche.pageCache });
    const before = stats();
    const first = await rawGet(origin, pagePath, { "Accept-Encoding": "identity" });
    expect(first.status).toBe(200);
    expect(first.headers["cache-control"]).toMatch(/^public/);
    const identity = await rawGet(origin, pagePath);
    const br = await rawGet(origin, pagePath, { "Accept-Encoding": "gzip, deflate, br" });
    const gzip = await rawGet(origin, pagePath, { "Accept-Encoding": "gzip" });
    const preferGzip = await rawGet(origin, pagePath, { "Accept-Encoding": "br;q=0.5, gzip;q=1" });
    const refused = await rawGet(origin, pagePath, { "Accept-Encoding": "br;q=0, gzip;q=0" });
    const after = stats();
    expect(after.renders - before.renders).toBe(1);
    expect(after.hits - before.hits).toBe(5);

    // Byte for byte the same page (no nonce, no token) in every encoding.
    expect(identity.headers["content-encoding"]).toBeUndefined();
    expect(identity.body.equals(first.body)).toBe(true);
    expect(br.headers["content-encoding"]).toBe("br");
    expect(zlib.brotliDecompressSync(br.body).equals(first.body)).toBe(true);
    expect(Number(br.headers["content-length"])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(first.body.length / 3);
    expect(gzip.headers["content-encoding"]).toBe("gzip");
    expect(zlib.gunzipSync(gzip.body).equals(first.body)).toBe(true);
    expect(preferGzip.headers["content-encoding"]).toBe("gzip");
    expect(refused.headers["content-encoding"]).toBeUndefined();
    expect(refused.body.equals(first.body)).toBe(true);
    for (const res of [identity, br, gzip, refused]) {
      expect(res.headers.vary).toMatch(/Accept-Encoding/);
      expect(res.headers.vary).toMatch(/Cookie/);
      expect(res.headers.etag).toBe(first.headers.etag);
      expect(res.headers["content-security-policy"]).toBe(first.headers["content-security-policy"]);
    }
    expect(decode(first)).toContain("Precompressed Jug");
  });
});
