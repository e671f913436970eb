import http from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { XMLParser } from "fast-xml-parser";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeImage } from "../src/media/media.service.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct, testImage } from "./helpers/factories.js";

/**
 * The feed writer under back-pressure: a file of several megabytes, bigger
 * than the socket's buffers and the writer's 64 KiB chunks, read slowly, plain
 * and gzip-compressed (platform fetchers ask for gzip; the compressor then
 * pushes back on every chunk). Its own database, so the catalog's size does
 * not touch the other feed tests.
 */
const BASE = "https://host.example/shop";
const PRODUCTS = 40;
const VARIANTS = 10;
let t: TestApp;
let server: http.Server;
let origin: string;

beforeAll(async () => {
  t = await buildTestApp({ publicUrl: BASE });
  const media = await storeImage(t.deps, { bytes: await testImage({ width: 900, height: 900 }) });
  // Long descriptions (Google keeps up to 5,000 characters) make each item several kilobytes; a multi-byte
  // character in each makes UTF-8 longer than the string, which the writer's chunking must allow for.
  const description = `${"Wheel-thrown stoneware, fired at 1240 °C — ".repeat(100)}`.slice(0, 4500);
  for (let p = 0; p < PRODUCTS; p++) {
    const product = await createProduct(t.deps, {
      title: `Mug ${p}`,
      description,
      optionNames: ["Size"],
      variants: Array.from({ length: VARIANTS }, (_, v) => ({ option1: `Size ${v}`, priceMinor: 1500 + v })),
    });
    await t.db.productImage.create({ data: { productId: product.id, mediaId: media.id, position: 0 } });
  }
  server = http.createServer(t.app).listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await t.close();
});

/** Reads a response one chunk per turn of the event loop, so the server keeps meeting a full socket. */
function slowGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; encoding: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${origin}${path}`, { headers }, async (res) => {
        const chunks: Buffer[] = [];
        try {
          for await (const chunk of res) {
            chunks.push(chunk as Buffer);
            await new Promise((next) => setImmediate(next));
          }
          resolve({ status: res.statusCode!, encoding: res.headers["content-encoding"], body: Buffer.concat(chunks) });
        } catch (err) {
          reject(err);
        }
      })
      .on("error", reject);
  });
}

describe("a large feed read slowly", () => {
  it.each(["google.xml", "meta.csv"])("%s arrives whole and byte for byte the same, plain and gzip-compressed, with no listener piling up", async (file) => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const reference = await request(t.app).get(`/shop/feeds/${file}`).set("Accept-Encoding", "identity").expect(200);
      const text = reference.text;
      expect(Buffer.byteLength(text)).toBeGreaterThan(1_500_000);

      const plain = await slowGet(`/shop/feeds/${file}`);
      expect(plain.status).toBe(200);
      expect(plain.encoding).toBeUndefined();
      expect(plain.body.equals(Buffer.from(text))).toBe(true);

      const gzipped = await slowGet(`/shop/feeds/${file}`, { "Accept-Encoding": "gzip" });
      expect(gzipped.status).toBe(200);
      expect(gzipped.encoding).toBe("gzip");
      expect(gunzipSync(gzipped.body).equals(Buffer.from(text))).toBe(true);

      if (file === "google.xml") {
        const items = new XMLParser({ isArray: (name) => name === "item" }).parse(text).rss.channel.item as unknown[];
        expect(items).toHaveLength(PRODUCTS * VARIANTS);
      } else {
        expect(text.trimEnd().split("\r\n")).toHaveLength(1 + PRODUCTS * VARIANTS);
      }
      // Waiting for "drain" once per chunk used to add a listener to the compressor each time.
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
