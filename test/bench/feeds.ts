/**
 * npm run bench:feeds — feed streaming time and memory for 50,000 variants.
 *
 * Seeds a temporary SQLite database (10,000 products × 5 variants, one shared
 * photo, some active and expired holds), then measures in one run:
 *  - baseline: better-sqlite3 `.iterate()` over the same variant⋈product rows,
 *    each row handed to a null sink;
 *  - each feed streamed through a real HTTP server on 127.0.0.1 and read to
 *    the end by curl (a separate process, like a platform's fetcher);
 * and prints the median of several rounds, the ratio to the baseline and the
 * peak RSS of the process while streaming. Targets: ≤ 2× baseline, < 150 MB.
 * Run with --expose-gc (the npm script does) so every run starts from a
 * collected heap and the garbage of one run is not charged to the next.
 * The npm script compiles it first (tsconfig.bench.json → .tmp/bench/) and
 * runs it under plain node, as production runs, so no TypeScript loader's
 * memory is counted.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import express from "express";
import { pino } from "pino";
import { openDatabase } from "../../src/db/client.js";
import { migrateDatabase } from "../../src/db/migrate.js";
import { createStorefront } from "../../src/storefront.js";

const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 10_000);
const VARIANTS_PER_PRODUCT = 5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FEEDS = ["google.xml", "meta.csv", "pinterest.csv", "tiktok.csv"] as const;

const seeding = process.argv[2] === "--seed";
const dir = seeding ? "" : mkdtempSync(path.join(os.tmpdir(), "bazaarche-bench-"));
const file = path.join(dir, "bench.db");

function stamp(d: Date) {
  return d.toISOString().replace("Z", "+00:00");
}

function seed(file: string) {
  migrateDatabase(file);
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  const now = new Date();
  const at = stamp(now);
  const description =
    "Hand-thrown stoneware, glazed twice and fired at 1240 °C. Every piece is a little different: small marks from the wheel are part of it. " +
    "Dishwasher safe; not for the microwave. Made in our studio, packed in recycled paper.";
  const insertMedia = db.prepare(`INSERT INTO Media (id, storageKey, mime, width, height, bytes, alt, createdAt) VALUES (?, ?, 'image/webp', 1600, 1600, 123456, 'Mug', ?)`);
  const insertProduct = db.prepare(
    `INSERT INTO Product (id, slug, title, description, brand, condition, googleCategory, identifierExists, status, optionNames, createdAt, updatedAt)
     VALUES (?, ?, ?, ?, 'Bench Studio', 'new', 'Home & Garden > Kitchen & Dining > Tableware', 0, 'active', '["Size"]', ?, ?)`,
  );
  const insertVariant = db.prepare(
    `INSERT INTO Variant (id, productId, sku, option1, priceMinor, compareAtMinor, currency, stock, position, createdAt, updatedAt)
     VALUES (?, ?, ?, ?, ?, ?, 'USD', ?, ?, ?, ?)`,
  );
  const insertImage = db.prepare(`INSERT INTO ProductImage (id, productId, mediaId, alt, position) VALUES (?, ?, 'media0', '', ?)`);
  const insertHold = db.prepare(`INSERT INTO StockHold (id, variantId, quantity, status, createdAt, expiresAt) VALUES (?, ?, ?, 'active', ?, ?)`);
  const sizes = ["XS", "S", "M", "L", "XL"];
  db.transaction(() => {
    insertMedia.run("media0", "0123456789abcdef0123456789abcdef", at);
    for (let p = 0; p < PRODUCTS; p++) {
      const productId = `prod${String(p).padStart(8, "0")}`;
      insertProduct.run(productId, `stoneware-mug-${p}`, `Stoneware Mug No. ${p}`, description, at, at);
      insertImage.run(`img${p}a`, productId, 0);
      insertImage.run(`img${p}b`, productId, 1);
      for (let v = 0; v < VARIANTS_PER_PRODUCT; v++) {
        const variantId = `var${String(p).padStart(8, "0")}${v}`;
        const price = 1500 + ((p * 7 + v * 300) % 5000);
        insertVariant.run(variantId, productId, `SKU-${p}-${v}`, sizes[v], price, p % 10 === 0 ? price + 500 : null, (p + v) % 13 === 0 ? 0 : 1 + ((p + v) % 20), v, at, at);
        if ((p * VARIANTS_PER_PRODUCT + v) % 25 === 0) {
          const minutes = (p + v) % 2 === 0 ? 15 : -15;
          insertHold.run(`hold${p}-${v}`, variantId, 1, at, stamp(new Date(now.getTime() + minutes * 60_000)));
        }
      }
    }
  })();
  const counts = db.prepare(`SELECT (SELECT count(*) FROM Variant) AS variants, (SELECT count(*) FROM StockHold) AS holds`).get() as { variants: number; holds: number };
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return counts;
}

let peakRss = 0;
function sampleRss() {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
}

/** The same rows the feeds read, with the same columns, streamed to nowhere. */
function baselineRead(): number {
  const db = new Database(file, { readonly: true });
  let sink = 0;
  let n = 0;
  const rows = db
    .prepare(
      `SELECT v.rowid AS rid, v.id, v.productId, v.sku, v.option1, v.option2, v.option3, v.priceMinor, v.compareAtMinor,
              v.currency, v.stock, v.gtin, v.mpn, v.position,
              p.slug, p.title, p.description, p.brand, p.condition, p.googleCategory, p.identifierExists, p.optionNames
         FROM Variant v CROSS JOIN Product p ON p.id = v.productId
        WHERE p.status = 'active' AND v.archivedAt IS NULL
        ORDER BY v.productId, v.position, v.rowid`,
    )
    .iterate() as IterableIterator<{ id: string; description: string }>;
  for (const row of rows) {
    sink += row.id.length + row.description.length;
    if (++n % 1000 === 0) sampleRss();
  }
  db.close();
  return sink;
}

/**
 * Reads a feed to the end with curl in its own process, as a platform's
 * fetcher would: the client's receive buffers are then not counted in this
 * (the server's) RSS, and its CPU does not compete inside this event loop.
 */
function fetchAll(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["--silent", "--show-error", "--fail", "--output", "/dev/null", "--write-out", "%{size_download}", url], (err, stdout) => {
      if (err) reject(new Error(`${url}: ${err.message}`));
      else resolve(Number(stdout));
    });
  });
}

/** Wall time, and this process's CPU time (user + system), of one run. */
async function time<T>(fn: () => Promise<T> | T): Promise<{ seconds: number; cpu: number; result: T }> {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const result = await fn();
  const cpu = process.cpuUsage(cpuStart);
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, cpu: (cpu.user + cpu.system) / 1e6, result };
}

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main() {
  // Seeding runs in a child process so its garbage does not count in this
  // process's RSS; the same script, the same loader flags.
  const seedStart = process.hrtime.bigint();
  const seeded = JSON.parse(
    execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--seed", file], { encoding: "utf8" }).trim().split("\n").pop()!,
  ) as { variants: number; holds: number };
  const seedSeconds = Number(process.hrtime.bigint() - seedStart) / 1e9;
  console.log(`Seeded ${seeded.variants} variants (${PRODUCTS} products, ${seeded.holds} holds) in ${seedSeconds.toFixed(2)} s`);

  const prisma = await openDatabase(`file:${file}`);
  const shop = createStorefront({ prisma, publicUrl: "https://bench.example/shop", logger: pino({ level: process.env.BENCH_LOG ?? "silent" }), uploadsDir: path.join(dir, "uploads") });
  const app = express().use("/shop", shop);
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
  const memory = () => {
    const u = process.memoryUsage();
    return `rss ${mb(u.rss)} (V8 heap ${mb(u.heapTotal)}, external ${mb(u.external)})`;
  };
  console.log(`Server ready: ${memory()}`);
  // Warm-up: page cache, JIT, prepared statements.
  baselineRead();
  for (const feed of FEEDS) await fetchAll(`${origin}/shop/feeds/${feed}`);
  global.gc?.();
  const idleRss = process.memoryUsage.rss() / 1e6;
  console.log(`After warm-up: ${memory()}`);

  // Rounds interleave baseline and feeds, so a busy machine slows all alike.
  const names = ["baseline (iterate)", ...FEEDS] as const;
  const times = new Map<string, number[]>(names.map((n) => [n, []]));
  const cpus = new Map<string, number[]>(names.map((n) => [n, []]));
  const peaks = new Map<string, number>(names.map((n) => [n, 0]));
  const sizes = new Map<string, string>([["baseline (iterate)", `${seeded.variants} rows`]]);
  const loadAtStart = os.loadavg()[0]!;
  const sampler = setInterval(sampleRss, 5);
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of names) {
      // Each run starts from a collected heap, so its peak is its own.
      global.gc?.();
      peakRss = 0;
      const run = name === "baseline (iterate)" ? await time(baselineRead) : await time(() => fetchAll(`${origin}/shop/feeds/${name}`));
      times.get(name)!.push(run.seconds);
      cpus.get(name)!.push(run.cpu);
      if (name !== "baseline (iterate)") sizes.set(name, `${(run.result / 1e6).toFixed(1)} MB`);
      sampleRss();
      peaks.set(name, Math.max(peaks.get(name)!, peakRss / 1e6));
    }
  }
  clearInterval(sampler);

  const head = await fetch(`${origin}/shop/feeds/google.xml`, { method: "HEAD" });
  const etag = head.headers.get("etag")!;
  const notModified: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const run = await time(async () => {
      const res = await fetch(`${origin}/shop/feeds/google.xml`, { headers: { "If-None-Match": etag } });
      if (res.status !== 304) throw new Error(`expected 304, got ${res.status}`);
    });
    notModified.push(run.seconds);
  }

  const baseline = median(times.get("baseline (iterate)")!);
  const baselineCpu = median(cpus.get("baseline (iterate)")!);
  console.log(`\nMedian of ${ROUNDS} interleaved rounds. "CPU s" is this process's (the server's) CPU time, which a busy`);
  console.log(`machine disturbs less than wall time. Peak RSS is this process while that run streamed; it sat at`);
  console.log(`${idleRss.toFixed(0)} MB after warm-up, before any measured run. Load average at the start: ${loadAtStart.toFixed(1)} on ${os.cpus().length} CPUs.\n`);
  console.log(`| run | median s | × baseline | CPU s | × baseline CPU | peak RSS MB | size |`);
  console.log(`| --- | ---: | ---: | ---: | ---: | ---: | --- |`);
  for (const name of names) {
    const seconds = median(times.get(name)!);
    const cpu = median(cpus.get(name)!);
    console.log(`| ${name} | ${seconds.toFixed(3)} | ${(seconds / baseline).toFixed(2)} | ${cpu.toFixed(3)} | ${(cpu / baselineCpu).toFixed(2)} | ${peaks.get(name)!.toFixed(0)} | ${sizes.get(name)} |`);
  }
  console.log(`| google.xml, 304 revalidation | ${median(notModified).toFixed(3)} | ${(median(notModified) / baseline).toFixed(2)} | | | | If-None-Match |`);
  const slow = FEEDS.filter((f) => median(times.get(f)!) > 2 * baseline);
  const heavy = FEEDS.filter((f) => peaks.get(f)! >= 150);
  // Wall time on a machine busier than its cores also counts the baseline's wait for a CPU; the CPU ratio does not.
  const slowCpu = FEEDS.filter((f) => median(cpus.get(f)!) > 2 * baselineCpu);
  console.log(`\nTargets: each feed ≤ 2× baseline: ${slow.length === 0 ? "met" : `missed by ${slow.join(", ")}`} in wall time, ${slowCpu.length === 0 ? "met" : `missed by ${slowCpu.join(", ")}`} in CPU time; peak RSS < 150 MB: ${heavy.length === 0 ? "met" : `missed by ${heavy.join(", ")}`}.`);

  server.close();
  await prisma.$disconnect();
  if (process.env.BENCH_KEEP) console.log(`kept ${file}`);
  else rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2] === "--seed") {
  console.log(JSON.stringify(seed(process.argv[3]!)));
} else {
  main().catch((err) => {
    console.error(err);
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  });
}
