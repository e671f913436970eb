/**
 * npm run bench:reviews — the product page with 5,000 reviews under load.
 *
 * Seeds a temporary SQLite database with a product carrying 5,000 published
 * reviews (ratings of every kind, some with photos, some with replies, its
 * RatingSummary as the publish path would have left it), an identical
 * product with no reviews, and 40 more products with a few reviews each in
 * the same collection (so "Top rated in …" has work to do), plus paid orders
 * for "N bought this week". Starts the storefront in a child process on
 * 127.0.0.1 and measures with autocannon, in alternating rounds in one run:
 *  - reviews: GET /shop/p/<5,000-review product> (first page of reviews);
 *  - no reviews: GET /shop/p/<the same product without reviews>;
 *  - ten reviews: the same product with exactly 10 reviews, so the same
 *    page of reviews is rendered: what is left between it and the 5,000
 *    review page is what the review count itself costs;
 *  - deep page: the 5,000-review product, lowest rating first, page 400;
 *  - baseline: the 5,000-review page's template rendered from an in-memory
 *    copy of the very object it rendered (captured from one real request),
 *    served by the same process with no middleware and no database.
 * Prints median requests/second and p99 latency of each, and the ratios.
 * Targets: reviews ≥ 80% of no reviews; both ≥ 1/3 of the baseline.
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_SECONDS per round (default 4),
 * BENCH_CONNECTIONS (default 8), BENCH_PAGE_CACHE=off (render every request), BENCH_REVIEWS (default 5000), BENCH_KEEP=1 to keep
 * the database for profiling.
 */
import { fork } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import Database from "better-sqlite3";
import express, { type Response } from "express";
import { pino } from "pino";
import { openDatabase } from "../../src/db/client.js";
import { migrateDatabase } from "../../src/db/migrate.js";
import { createStorefront } from "../../src/storefront.js";

const REVIEWS = Number(process.env.BENCH_REVIEWS ?? 5000);
const OTHERS = 40;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const PAGE_CACHE = process.env.BENCH_PAGE_CACHE !== "off";

const stamp = (d: Date) => d.toISOString().replace("Z", "+00:00");

/** Deterministic pseudo-random numbers, so every run seeds the same shop. */
function rng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

const BODIES = [
  "The glaze is deeper than in the photos and the mug keeps tea hot for a long time. I use it every morning.",
  "Smaller than I expected, but well made. The handle is comfortable even for big hands.",
  "Arrived with a small chip on the rim. The shop replaced it quickly, but I wish it had been packed better.",
  "رنگش از عکس‌ها زیباتر است و خوب گرم می‌ماند. بسته‌بندی هم عالی بود.",
  "Not for me: the colour looked different on my screen. Quality is fine though.",
];

function seed(file: string) {
  migrateDatabase(file);
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  const random = rng(7);
  const now = new Date();
  const at = stamp(now);
  const media = db.prepare(`INSERT INTO Media (id, storageKey, mime, width, height, bytes, alt, createdAt) VALUES (?, ?, 'image/webp', 1080, 1080, 90000, ?, ?)`);
  const product = db.prepare(
    `INSERT INTO Product (id, slug, title, description, brand, condition, googleCategory, identifierExists, status, optionNames, createdAt, updatedAt)
     VALUES (?, ?, ?, 'Hand-thrown stoneware, glazed twice. Every piece is a little different.', 'Bench Studio', 'new', '', 0, 'active', '["Colour"]', ?, ?)`,
  );
  const variant = db.prepare(`INSERT INTO Variant (id, productId, sku, option1, priceMinor, currency, stock, position, createdAt, updatedAt) VALUES (?, ?, ?, ?, 2800, 'USD', 20, ?, ?, ?)`);
  const image = db.prepare(`INSERT INTO ProductImage (id, productId, mediaId, alt, position) VALUES (?, ?, ?, '', 0)`);
  const collection = db.prepare(`INSERT INTO Collection (id, slug, title, position, createdAt) VALUES ('col', 'mugs', 'Mugs', 0, ?)`);
  const member = db.prepare(`INSERT INTO CollectionProduct (collectionId, productId, position) VALUES ('col', ?, 0)`);
  const review = db.prepare(
    `INSERT INTO Review (id, productId, rating, title, body, displayName, locale, status, verifiedBuyer, incentivized, source, contentHash, helpfulCount, hasPhotos, flags, createdAt, publishedAt, updatedAt)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'published', ?, 0, ?, '', ?, ?, '', ?, ?, ?)`,
  );
  const photo = db.prepare(`INSERT INTO ReviewPhoto (id, reviewId, mediaId, position) VALUES (?, ?, 'rmedia', 0)`);
  const reply = db.prepare(`INSERT INTO ReviewReply (reviewId, body, createdAt, updatedAt) VALUES (?, 'Thank you for taking the time to write this — it helps other shoppers.', ?, ?)`);
  const summary = db.prepare(`INSERT INTO RatingSummary (productId, count, sum, star1, star2, star3, star4, star5, updatedAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const order = db.prepare(`INSERT INTO "Order" (id, number, status, currency, subtotalMinor, totalMinor, paymentProvider, createdAt, paidAt, updatedAt) VALUES (?, ?, 'paid', 'USD', 2800, 2800, 'local', ?, ?, ?)`);
  const line = db.prepare(`INSERT INTO OrderLine (id, orderId, variantId, productId, title, sku, unitPriceMinor, quantity, totalMinor) VALUES (?, ?, ?, ?, 'Mug', ?, 2800, 1, 2800)`);

  const addProduct = (id: string, slug: string, title: string) => {
    media.run(`m-${id}`, createHash("md5").update(id).digest("hex"), title, at);
    product.run(id, slug, title, at, at);
    image.run(`pi-${id}`, id, `m-${id}`);
    for (let v = 0; v < 3; v++) variant.run(`${id}-v${v}`, id, `${id.toUpperCase()}-${v}`, ["Turquoise", "Saffron", "Walnut"][v], v, at, at);
    member.run(id);
  };
  const addReviews = (productId: string, n: number) => {
    const stars = [0, 0, 0, 0, 0];
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const r = random();
      const rating = r < 0.05 ? 1 : r < 0.1 ? 2 : r < 0.2 ? 3 : r < 0.45 ? 4 : 5;
      stars[rating - 1]!++;
      sum += rating;
      const id = `${productId}-r${i}`;
      const created = stamp(new Date(now.getTime() - (n - i) * 3600_000));
      const withPhoto = random() < 0.05;
      review.run(id, productId, rating, random() < 0.7 ? `Review ${i}` : "", BODIES[i % BODIES.length]!, `Shopper ${i}`, i % 5 === 3 ? "fa" : "en", random() < 0.3 ? 1 : 0, random() < 0.3 ? "request" : "web", Math.floor(random() * 20), withPhoto ? 1 : 0, created, created, created);
      if (withPhoto) photo.run(`ph-${id}`, id);
      if (random() < 0.1) reply.run(id, created, created);
    }
    summary.run(productId, n, sum, ...stars, at);
  };

  db.transaction(() => {
    media.run("rmedia", "f".repeat(32), "review photo", at);
    collection.run(at);
    addProduct("reviewed", "bench-reviewed", "Stoneware Mug (reviewed)");
    addProduct("plain", "bench-plain", "Stoneware Mug (no reviews)");
    addProduct("ten", "bench-ten", "Stoneware Mug (ten reviews)");
    addReviews("reviewed", REVIEWS);
    addReviews("ten", 10);
    for (let p = 0; p < OTHERS; p++) {
      addProduct(`other${p}`, `bench-other-${p}`, `Other mug ${p}`);
      addReviews(`other${p}`, 1 + Math.floor(random() * 30));
    }
    for (let o = 0; o < 300; o++) {
      const paid = stamp(new Date(now.getTime() - Math.floor(random() * 14) * 24 * 3600_000));
      const productId = ["reviewed", "plain", "ten"][o % 3]!;
      order.run(`o${o}`, 1000 + o, paid, paid, paid);
      line.run(`l${o}`, `o${o}`, `${productId}-v0`, productId, `${productId.toUpperCase()}-0`);
    }
  })();
  const counts = db.prepare(`SELECT (SELECT count(*) FROM Review) AS reviews, (SELECT count(*) FROM Review WHERE productId = 'reviewed') AS onPage, (SELECT count(*) FROM Product) AS products`).get();
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return counts as { reviews: number; onPage: number; products: number };
}

/** Child process: the storefront plus the in-memory baseline route, on one port. */
async function serve(file: string, uploadsDir: string) {
  const prisma = await openDatabase(`file:${file}`);
  // BENCH_PAGE_CACHE=off measures the pages rendered on every request (the page cache, src/pages, is on by default).
  const shop = createStorefront({ prisma, shopName: "Bench Studio", publicUrl: "https://bench.example/shop", logger: pino({ level: "silent" }), uploadsDir, ...(PAGE_CACHE ? {} : { pageCache: false as const }) });
  let captured: Record<string, unknown> | null = null;
  const host = express();
  // Keeps the first render of the reviewed product's page (with res.locals, as the template sees them).
  host.use("/shop", (req, res, next) => {
    const render = res.render.bind(res) as (view: string, options?: object, cb?: unknown) => void;
    (res as Response & { render: unknown }).render = (view: string, options?: object, cb?: unknown) => {
      if (view === "catalog/product" && req.path === "/p/bench-reviewed" && !captured) captured = structuredCloneSafe({ ...res.locals, ...(options ?? {}) });
      return render(view, options, cb);
    };
    next();
  });
  host.use("/shop", shop);
  host.get("/baseline", (_req, res) => {
    shop.render("catalog/product", { ...captured! }, (err: Error | null, html?: string) => {
      if (err) res.status(500).send(err.message);
      else res.type("html").send(html);
    });
  });
  const server = host.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const page = await (await fetch(`http://127.0.0.1:${port}/shop/p/bench-reviewed`)).text();
  const baseline = await (await fetch(`http://127.0.0.1:${port}/baseline`)).text();
  const plain = await (await fetch(`http://127.0.0.1:${port}/shop/p/bench-plain`)).text();
  process.send!({ port, pageBytes: page.length, baselineBytes: baseline.length, plainBytes: plain.length, reviewsOnPage: (page.match(/class="review"/g) ?? []).length });
}

/** A copy of the render data that later requests cannot change (functions kept as they are). */
function structuredCloneSafe(data: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === "function" ? v : structuredClone(v)]));
}

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function load(url: string, seconds: number) {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-bench-reviews-"));
  const file = path.join(dir, "bench.db");
  try {
    const counts = seed(file);
    console.log(`Seeded ${counts.products} products and ${counts.reviews} reviews (${counts.onPage} on the measured product).`);
    const child = fork(fileURLToPath(import.meta.url), ["--serve", file, path.join(dir, "uploads")], { execArgv: ["--import", "tsx"], stdio: "inherit" });
    type Ready = { port: number; pageBytes: number; baselineBytes: number; plainBytes: number; reviewsOnPage: number };
    const ready = await new Promise<Ready>((resolve, reject) => {
      child.once("message", (m) => resolve(m as Ready));
      child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
    });
    const origin = `http://127.0.0.1:${ready.port}`;
    console.log(
      `Server on ${origin}; reviewed page ${(ready.pageBytes / 1024).toFixed(0)} KiB with ${ready.reviewsOnPage} reviews shown, no-review page ${(ready.plainBytes / 1024).toFixed(0)} KiB, baseline ${(ready.baselineBytes / 1024).toFixed(0)} KiB.`,
    );
    const urls = {
      baseline: `${origin}/baseline`,
      reviews: `${origin}/shop/p/bench-reviewed`,
      plain: `${origin}/shop/p/bench-plain`,
      ten: `${origin}/shop/p/bench-ten`,
      deep: `${origin}/shop/p/bench-reviewed?rsort=lowest&rpage=400`,
    };
    for (const url of Object.values(urls)) await load(url, 2); // warm-up: JIT, page cache, template cache
    const runs: Record<keyof typeof urls, { rps: number; p99: number }[]> = { baseline: [], reviews: [], plain: [], ten: [], deep: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternating, so a busy machine slows every page alike.
      const order = (round % 2 === 0 ? ["baseline", "reviews", "plain", "ten", "deep"] : ["deep", "ten", "plain", "reviews", "baseline"]) as (keyof typeof urls)[];
      for (const key of order) runs[key].push(await load(urls[key], SECONDS));
      console.log(`round ${round + 1}: ${order.map((k) => `${k} ${runs[k].at(-1)!.rps.toFixed(0)}`).join(", ")} req/s`);
    }
    child.kill();

    const row = (name: string, key: keyof typeof urls) => ({ name, rps: median(runs[key].map((r) => r.rps)), p99: median(runs[key].map((r) => r.p99)) });
    const b = row("baseline: the reviewed page's template from memory", "baseline");
    const r = row(`reviews: GET /shop/p/bench-reviewed (${counts.onPage} reviews)`, "reviews");
    const p = row("no reviews: GET /shop/p/bench-plain", "plain");
    const ten = row("ten reviews: GET /shop/p/bench-ten (same page of reviews)", "ten");
    const d = row("deep page: lowest first, page 400", "deep");
    console.log(`\nMedian of ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections.\n`);
    console.log("| | req/s | p99 ms |");
    console.log("| --- | ---: | ---: |");
    for (const x of [b, r, p, ten, d]) console.log(`| ${x.name} | ${x.rps.toFixed(0)} | ${x.p99.toFixed(1)} |`);
    const vsPlain = r.rps / p.rps;
    const rVsBase = r.rps / b.rps;
    const pVsBase = p.rps / b.rps;
    console.log(`\nPage cache: ${PAGE_CACHE ? "on (default)" : "off (BENCH_PAGE_CACHE=off)"}.`);
    console.log(`Reviews / no reviews: ${vsPlain.toFixed(2)} (target ≥ 0.80: ${vsPlain >= 0.8 ? "met" : "missed"}).`);
    console.log(`Reviews (5,000) / ten reviews: ${(r.rps / ten.rps).toFixed(2)} (what the review count itself costs).`);
    console.log(`Reviews / baseline: ${rVsBase.toFixed(2)}; no reviews / baseline: ${pVsBase.toFixed(2)} (target both ≥ 0.33: ${rVsBase >= 1 / 3 && pVsBase >= 1 / 3 ? "met" : "missed"}).`);
  } finally {
    if (process.env.BENCH_KEEP) console.log(`Kept ${file}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--serve") {
  await serve(process.argv[3]!, process.argv[4]!);
} else {
  await main();
}
