/**
 * npm run bench:gallery — the link-in-bio gallery under load.
 *
 * Seeds a temporary SQLite database with 60 published posts carrying 600
 * product tags (60 products × 3 variants, some sold out, some stock held),
 * starts the storefront in a child process on 127.0.0.1, and measures with
 * autocannon, in alternating rounds within one run:
 *  - gallery: GET /shop/gallery, the real page (middleware, queries, offerFor,
 *    template);
 *  - baseline: the same template rendered from an in-memory copy of the very
 *    object the gallery page rendered (captured from one real request), served
 *    by the same process with no middleware and no database.
 * Prints the median requests/second and p99 latency of each and their ratio,
 * and the server's CPU time per request (process.cpuUsage in the server
 * process over each round), which stays meaningful when other work shares
 * the machine and wall-clock rates swing. Targets (issue 14): the first page
 * under 60 KiB of HTML (tiles only; a post's cards load when it is opened),
 * and gallery ≥ 0.5 of the baseline's requests/second.
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_SECONDS per round (default 4),
 * BENCH_CONNECTIONS (default 8), BENCH_PAGE_CACHE=off (render every request).
 */
import { fork } from "node:child_process";
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

const POSTS = 60;
const TAGS_PER_POST = 10;
const PRODUCTS = 60;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);

const stamp = (d: Date) => d.toISOString().replace("Z", "+00:00");

/** Deterministic pseudo-random numbers, so every run seeds the same shop. */
function rng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

function seed(file: string) {
  migrateDatabase(file);
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  const random = rng(42);
  const now = new Date();
  const at = stamp(now);
  const media = db.prepare(`INSERT INTO Media (id, storageKey, mime, width, height, bytes, alt, createdAt) VALUES (?, ?, 'image/webp', 1080, 1080, 90000, ?, ?)`);
  const product = db.prepare(
    `INSERT INTO Product (id, slug, title, description, brand, condition, googleCategory, identifierExists, status, optionNames, createdAt, updatedAt)
     VALUES (?, ?, ?, 'Made by hand in our studio.', 'Bench Studio', 'new', '', 0, 'active', '["Colour"]', ?, ?)`,
  );
  const translation = db.prepare(`INSERT INTO ProductTranslation (productId, locale, title, description) VALUES (?, 'fa', ?, '')`);
  const variant = db.prepare(
    `INSERT INTO Variant (id, productId, sku, option1, priceMinor, compareAtMinor, currency, stock, position, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?, ?, 'USD', ?, ?, ?, ?)`,
  );
  const image = db.prepare(`INSERT INTO ProductImage (id, productId, mediaId, alt, position) VALUES (?, ?, ?, '', 0)`);
  const hold = db.prepare(`INSERT INTO StockHold (id, variantId, quantity, status, createdAt, expiresAt) VALUES (?, ?, 1, 'active', ?, ?)`);
  const post = db.prepare(
    `INSERT INTO Post (id, platform, permalink, mediaType, mediaId, caption, publishedAt, status, position, createdAt, updatedAt)
     VALUES (?, ?, ?, 'image', ?, ?, ?, 'published', ?, ?, ?)`,
  );
  const tag = db.prepare(`INSERT INTO PostTag (id, postId, productId, productTitle, variantId, x, y, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const colours = ["Turquoise", "Saffron", "Walnut"];
  const platforms = ["instagram", "tiktok", "pinterest", "telegram"];
  db.transaction(() => {
    for (let p = 0; p < PRODUCTS; p++) {
      const id = `prod${p}`;
      media.run(`pm${p}`, `${String(p).padStart(4, "0")}${"a".repeat(28)}`, `Product ${p}`, at);
      product.run(id, `bench-product-${p}`, `Handmade piece no. ${p}`, at, at);
      translation.run(id, `قطعهٔ دست‌ساز شمارهٔ ${p}`);
      image.run(`pi${p}`, id, `pm${p}`);
      for (let v = 0; v < 3; v++) {
        const price = 1500 + Math.floor(random() * 60) * 100;
        variant.run(`var${p}-${v}`, id, `BENCH-${p}-${v}`, colours[v], price, random() < 0.2 ? price + 800 : null, random() < 0.25 ? 0 : 1 + Math.floor(random() * 9), v, at, at);
        if (random() < 0.1) hold.run(`hold${p}-${v}`, `var${p}-${v}`, at, stamp(new Date(now.getTime() + 15 * 60_000)));
      }
    }
    for (let i = 0; i < POSTS; i++) {
      media.run(`postm${i}`, `${String(1000 + i).padStart(4, "0")}${"b".repeat(28)}`, `Post ${i}`, at);
      post.run(`post${i}`, platforms[i % platforms.length], `https://www.instagram.com/p/bench${i}/`, `postm${i}`, `Studio day ${i}: new glazes and a fresh batch of cushions.\nTap to shop.`, stamp(new Date(now.getTime() - (i + 1) * 3600_000)), i, at, at);
      for (let k = 0; k < TAGS_PER_POST; k++) {
        const p = Math.floor(random() * PRODUCTS);
        tag.run(`tag${i}-${k}`, `post${i}`, `prod${p}`, `Handmade piece no. ${p}`, random() < 0.5 ? `var${p}-${Math.floor(random() * 3)}` : null, random(), random(), at);
      }
    }
  })();
  const counts = db.prepare(`SELECT (SELECT count(*) FROM Post) AS posts, (SELECT count(*) FROM PostTag) AS tags, (SELECT count(*) FROM Variant) AS variants`).get();
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return counts as { posts: number; tags: number; variants: number };
}

/** Child process: the storefront plus the in-memory baseline route, on one port. */
async function serve(file: string, uploadsDir: string) {
  const prisma = await openDatabase(`file:${file}`);
  // BENCH_PAGE_CACHE=off: the gallery rendered on every request (the page cache, src/pages, is on by default).
  const cache = process.env.BENCH_PAGE_CACHE === "off" ? { pageCache: false as const } : {};
  const shop = createStorefront({ prisma, shopName: "Bench Studio", publicUrl: "https://bench.example/shop", logger: pino({ level: "silent" }), uploadsDir, ...cache });
  let captured: Record<string, unknown> | null = null;
  const host = express();
  // Keeps the first gallery render's data (with res.locals, as the template sees them).
  host.use("/shop", (_req, res, next) => {
    const render = res.render.bind(res) as (view: string, options?: object, cb?: unknown) => void;
    (res as Response & { render: unknown }).render = (view: string, options?: object, cb?: unknown) => {
      if (view === "posts/gallery" && !captured) captured = structuredCloneSafe({ ...res.locals, ...(options ?? {}) });
      return render(view, options, cb);
    };
    next();
  });
  host.use("/shop", shop);
  host.get("/baseline", (_req, res) => {
    shop.render("posts/gallery", { ...captured! }, (err: Error | null, html?: string) => {
      if (err) res.status(500).send(err.message);
      else res.type("html").send(html);
    });
  });
  const server = host.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const first = await fetch(`http://127.0.0.1:${port}/shop/gallery`);
  const galleryBytes = Buffer.byteLength(await first.text());
  const baselineBytes = Buffer.byteLength(await (await fetch(`http://127.0.0.1:${port}/baseline`)).text());
  process.send!({ port, galleryBytes, baselineBytes });
  // The parent asks for the CPU time used so far around each round.
  process.on("message", (m) => {
    if (m === "cpu") process.send!({ cpu: process.cpuUsage() });
    // A normal exit, so --cpu-prof (BENCH_PROF=dir) writes its profile.
    if (m === "exit") process.exit(0);
  });
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

type Run = { rps: number; p99: number; cpuMs: number };

async function load(url: string, seconds: number, serverCpu: () => Promise<number>): Promise<Run> {
  const before = await serverCpu();
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
  const used = (await serverCpu()) - before;
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return { rps: result.requests.average, p99: result.latency.p99, cpuMs: used / 1000 / Math.max(1, result.requests.total) };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-bench-gallery-"));
  const file = path.join(dir, "bench.db");
  try {
    const counts = seed(file);
    console.log(`Seeded ${counts.posts} posts with ${counts.tags} tags over ${counts.variants} variants.`);
    const child = fork(fileURLToPath(import.meta.url), ["--serve", file, path.join(dir, "uploads")], { execArgv: ["--import", "tsx", ...(process.env.BENCH_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [])], stdio: "inherit" });
    const ready = await new Promise<{ port: number; galleryBytes: number; baselineBytes: number }>((resolve, reject) => {
      child.once("message", (m) => resolve(m as { port: number; galleryBytes: number; baselineBytes: number }));
      child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
    });
    const origin = `http://127.0.0.1:${ready.port}`;
    /** The server process's user+system CPU time so far, in microseconds. */
    const serverCpu = () =>
      new Promise<number>((resolve) => {
        child.once("message", (m) => {
          const { cpu } = m as { cpu: { user: number; system: number } };
          resolve(cpu.user + cpu.system);
        });
        child.send("cpu");
      });
    console.log(`Server on ${origin}; page ${(ready.galleryBytes / 1024).toFixed(1)} KiB (baseline ${(ready.baselineBytes / 1024).toFixed(1)} KiB).`);

    await load(`${origin}/shop/gallery`, 2, serverCpu); // warm-up: JIT, page cache, template cache
    await load(`${origin}/baseline`, 2, serverCpu);
    const gallery: Run[] = [];
    const baseline: Run[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      baseline.push(await load(`${origin}/baseline`, SECONDS, serverCpu));
      gallery.push(await load(`${origin}/shop/gallery`, SECONDS, serverCpu));
      const [b, g] = [baseline.at(-1)!, gallery.at(-1)!];
      console.log(`round ${round + 1}: baseline ${b.rps.toFixed(0)} req/s (${b.cpuMs.toFixed(1)} ms CPU/req), gallery ${g.rps.toFixed(0)} req/s (${g.cpuMs.toFixed(1)} ms CPU/req)`);
    }
    await new Promise((resolve) => {
      child.once("exit", resolve);
      child.send("exit");
    });

    const row = (name: string, runs: Run[]) => ({ name, rps: median(runs.map((r) => r.rps)), p99: median(runs.map((r) => r.p99)), cpuMs: median(runs.map((r) => r.cpuMs)) });
    const b = row("baseline: template from memory", baseline);
    const g = row("gallery: GET /shop/gallery", gallery);
    console.log(`\nMedian of ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections, ${counts.posts} posts / ${counts.tags} tags.\n`);
    console.log("| | req/s | p99 ms | server CPU ms/req |");
    console.log("| --- | ---: | ---: | ---: |");
    for (const r of [b, g]) console.log(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.p99.toFixed(1)} | ${r.cpuMs.toFixed(1)} |`);
    const ratio = g.rps / b.rps;
    const cpuRatio = b.cpuMs / g.cpuMs;
    const kib = ready.galleryBytes / 1024;
    console.log(`\nPage cache: ${process.env.BENCH_PAGE_CACHE === "off" ? "off (BENCH_PAGE_CACHE=off)" : "on (default)"}.`);
    console.log(`\nFirst page: ${kib.toFixed(1)} KiB of HTML (target < 60 KiB: ${kib < 60 ? "met" : "missed"}).`);
    console.log(`Gallery / baseline: ${ratio.toFixed(2)} by req/s, ${cpuRatio.toFixed(2)} by server CPU per request (target ≥ 0.5 by req/s: ${ratio >= 0.5 ? "met" : "missed"}).`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--serve") {
  await serve(process.argv[3]!, process.argv[4]!);
} else {
  await main();
}
